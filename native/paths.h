// Path canonicalization as the kernel resolves it, from the tracer's side:
// relative paths against the tracee's cwd or dirfd, "." and "..", symlinks
// (followed or not for the last component), trailing slashes, /proc/self.
// The result is the absolute path the kernel would reach; components that do
// not exist on the host are kept lexically (they may be inside a virtual mount).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <sys/types.h>

namespace vview {

struct Canonical {
  std::string path;     // canonical absolute path
  std::string touched;  // first intermediate location under a prefix, if any
  bool missing = false; // a component did not exist on the host (the rest is lexical)
  bool stopped = false; // the walk reached a mount point (see canonicalize)
};

// What is known of one host path (lstat-like, from readlink).
struct Lookup {
  enum Kind { kPlain, kSymlink, kMissing } kind;
  std::string target;  // for kSymlink
};

class PathResolver {
 public:
  using Under = std::function<bool(const std::string&)>;

  // base: canonical absolute directory for a relative path (cwd or dirfd).
  // Returns 0, or -ELOOP / -ENAMETOOLONG when the kernel would refuse the path
  // (the caller lets the kernel answer).
  // stop: a mount point. The walk ends on reaching one: out.path is the
  // location reached so far followed by the rest of the path as given (".",
  // "..", symlinks and a trailing slash are left for the mount's module to resolve).
  int canonicalize(pid_t tid, pid_t tgid, const std::string& base, const std::string& path,
                   bool follow_last, const Under& under, Canonical& out, const Under& stop = Under());

  // The tracee's cwd and an fd's path, as absolute paths. -errno when the object
  // has no path (a pipe, a deleted directory, ...).
  int cwd(pid_t tid, std::string& out);
  int fd_path(pid_t tid, int fd, std::string& out);

  // The tracee changed directory (chdir/fchdir entry and exit): forget cwds.
  void forget_cwds() { cwds_.clear(); }
  void forget_cwd(pid_t tid) { cwds_.erase(tid); }

  PathResolver();
  ~PathResolver();
  uint64_t lookups = 0;      // host lookups performed (readlink)
  uint64_t cache_hits = 0;   // lookups answered from the cache

 private:
  Lookup lookup(const std::string& dir, const std::string& path);
  // Applies pending inotify events (and mount-table changes) to the cache.
  void sync();
  bool watch(const std::string& dir);
  void erase_below(const std::string& path);

  // Cache of host lookups, keyed by canonical path. An entry is kept only while
  // an inotify watch on its parent directory reports no change there: the kernel
  // queues the event before the changing syscall returns, so draining the queue
  // before each walk makes the cache exact for local file systems. /proc, /sys,
  // network and FUSE file systems are never cached.
  std::map<std::string, Lookup> cache_;
  std::unordered_map<std::string, int> watched_;   // dir -> wd (-1: not cacheable)
  std::unordered_map<int, std::string> wds_;        // wd -> dir
  std::unordered_map<pid_t, std::string> cwds_;     // tid -> cwd
  int inotify_ = -1;
  int mounts_ = -1;  // /proc/self/mountinfo: POLLPRI when the mount table changes
  bool async_ = false;           // inotify signals this thread (no poll per walk)
  uint64_t next_mount_check_ = 0;  // ns, CLOCK_MONOTONIC_COARSE
};

}  // namespace vview
