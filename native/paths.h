// Path canonicalization as the kernel resolves it, from the tracer's side:
// relative paths against the tracee's cwd or dirfd, "." and "..", symlinks
// (followed or not for the last component), trailing slashes, /proc/self.
// The result is the absolute path the kernel would reach; components that do
// not exist on the host are kept lexically (they may be inside a virtual mount).
#pragma once
#include <functional>
#include <string>
#include <sys/types.h>

namespace vview {

struct Canonical {
  std::string path;     // canonical absolute path
  std::string touched;  // first intermediate location under a prefix, if any
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
  int canonicalize(pid_t tid, pid_t tgid, const std::string& base, const std::string& path,
                   bool follow_last, const Under& under, Canonical& out);

  // The tracee's cwd and an fd's path, as absolute paths. -errno when the object
  // has no path (a pipe, a deleted directory, ...).
  int cwd(pid_t tid, std::string& out);
  int fd_path(pid_t tid, int fd, std::string& out);

  uint64_t lookups = 0;  // host lookups performed (for the benchmark / stats)

 private:
  Lookup lookup(const std::string& path);
};

}  // namespace vview
