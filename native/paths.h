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
#include <vector>
#include <sys/types.h>

namespace vview {

// p is prefix or lies below it ("/" is above everything).
inline bool at_or_below(const std::string& p, const std::string& prefix) {
  if (prefix == "/") return true;
  if (p.size() < prefix.size() || p.compare(0, prefix.size(), prefix) != 0) return false;
  return p.size() == prefix.size() || p[prefix.size()] == '/';
}

struct Canonical {
  std::string path;     // canonical absolute path
  std::string touched;  // first intermediate location under a prefix, if any
  bool missing = false; // a component did not exist on the host (the rest is lexical)
  bool lexical = false; // ... and it was not the last: the path is not exactly what the kernel reaches
  // Set when the walk went through a mount (a view path shown from a host
  // directory, set_mounts): the path the kernel must be given instead, i.e.
  // the host path of what was resolved, followed by the unresolved rest as given.
  std::string host;
  // A relative path walked from the base name by name, as given: no ".",
  // "..", /proc/self or symlink on the way (a last component not followed is
  // fine). From a cwd or dirfd that is a real directory, the kernel given the
  // path as it is walks the same names.
  bool verbatim = false;
  // The walk went name by name to `path`: no symlink, "..", or /proc/self on
  // the way, so every name it passed is a prefix of `path` (and `touched`
  // says nothing `path` does not).
  bool straight = true;
  // The module that claimed an object (device, inode) the walk went through or
  // ended on (set_objects), whatever name reached it; -1 if none.
  int object_module = -1;
};

// What is known of one host path (lstat-like, from readlink).
struct Lookup {
  enum Kind { kPlain, kSymlink, kMissing } kind;
  std::string target;  // for kSymlink
  uint64_t dev = 0, ino = 0;  // the entry itself (lstat), unless kMissing
};

class PathResolver {
 public:
  using Under = std::function<bool(const std::string&)>;

  // base: canonical absolute directory for a relative path (cwd or dirfd).
  // Returns 0, or -ELOOP / -ENAMETOOLONG when the kernel would refuse the path
  // (the caller lets the kernel answer).
  // Below a mount point (set_mounts) lookups are made in the mount's host
  // directory, with the view's meaning: an absolute symlink target is a view
  // path, ".." at the mount point is its parent in the view.
  // from_mount: the base is a view path below a mount (an aliased cwd/dirfd).
  // A /proc magic link (/proc/PID/fd/N, cwd, ...) to a mount's host directory
  // leads to the view path of that object, so a module sees the object
  // whichever way the process reached it.
  // resolve: openat2's RESOLVE_* flags, applied as the kernel does relative to
  // base (IN_ROOT, BENEATH), with the view's mounts as mounts (NO_XDEV);
  // -EXDEV / -ELOOP as the kernel answers them.
  int canonicalize(pid_t tid, pid_t tgid, const std::string& base, const std::string& path,
                   bool follow_last, const Under& under, Canonical& out, bool from_mount = false,
                   uint64_t resolve = 0);

  // Objects (device, inode) that modules claim by identity: a walk through one
  // of them, by any name, sets Canonical::object_module.
  using Objects = std::map<std::pair<uint64_t, uint64_t>, int>;
  using Mounts = std::vector<std::pair<std::string, std::string>>;
  bool has_objects() const { return !objects_->empty(); }
  // The module claiming what p names (stat, or lstat), or -1.
  int object_of(const std::string& p, bool follow) const;

  // The tables of the view layer whose modules are consulted (Tracer::Layer):
  // its mounts ([view path, host directory], longest view path first) and the
  // objects its modules claim. Both must outlive their use.
  void use(const Mounts* mounts, const Objects* objects) {
    views_ = mounts;
    objects_ = objects;
  }
  // The host path of a view path; false when it is not below a mount.
  bool to_host(const std::string& view, std::string& out) const;
  // The view path of a host path below a mount's host directory; false if none.
  bool to_view(const std::string& host, std::string& out) const;

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
  static const Mounts kNoMounts;
  static const Objects kNoObjects;
  const Mounts* views_ = &kNoMounts;      // mounts: view -> host
  const Objects* objects_ = &kNoObjects;  // (dev, ino) -> module
  // The view mount p is at or below, or nullptr.
  const std::string* view_mount(const std::string& p) const;
  int inotify_ = -1;
  int mounts_ = -1;  // /proc/self/mountinfo: POLLPRI when the mount table changes
  bool async_ = false;           // inotify signals this thread (no poll per walk)
  uint64_t next_mount_check_ = 0;  // ns, CLOCK_MONOTONIC_COARSE
};

}  // namespace vview
