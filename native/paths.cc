#include "paths.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <unistd.h>

namespace vview {

static const int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS

static int read_link(const std::string& p, std::string& out) {
  char buf[PATH_MAX];
  ssize_t n = readlink(p.c_str(), buf, sizeof buf);
  if (n < 0) return -errno;
  out.assign(buf, (size_t)n);
  return 0;
}

// An absolute path to an existing object, as /proc prints it; anything else
// ("pipe:[12]", "/x (deleted)") has no path a lookup could reach.
static int proc_link(const std::string& p, std::string& out) {
  int r = read_link(p, out);
  if (r) return r;
  if (out.empty() || out[0] != '/') return -ENOTDIR;
  static const char kDeleted[] = " (deleted)";
  if (out.size() > sizeof kDeleted - 1 &&
      out.compare(out.size() - (sizeof kDeleted - 1), sizeof kDeleted - 1, kDeleted) == 0)
    return -ENOENT;
  return 0;
}

int PathResolver::cwd(pid_t tid, std::string& out) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/cwd", tid);
  return proc_link(p, out);
}

int PathResolver::fd_path(pid_t tid, int fd, std::string& out) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/%d", tid, fd);
  int r = proc_link(p, out);
  return r == -ENOENT && access(p, F_OK) != 0 ? -EBADF : r;
}

Lookup PathResolver::lookup(const std::string& path) {
  lookups++;
  Lookup l;
  int r = read_link(path, l.target);
  if (r == 0) l.kind = Lookup::kSymlink;
  else if (r == -EINVAL) l.kind = Lookup::kPlain;
  else l.kind = Lookup::kMissing;  // ENOENT, ENOTDIR, EACCES: the rest is lexical
  return l;
}

static void split_into(const std::string& s, std::deque<std::string>& out, bool front) {
  std::deque<std::string> parts;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) parts.emplace_back(s, i, j - i);
    i = j + 1;
  }
  if (front) out.insert(out.begin(), parts.begin(), parts.end());
  else out.insert(out.end(), parts.begin(), parts.end());
}

static void pop_component(std::string& cur) {
  size_t k = cur.rfind('/');
  cur.resize(k == 0 ? 1 : k);  // ".." of "/" is "/"
}

int PathResolver::canonicalize(pid_t tid, pid_t tgid, const std::string& base,
                               const std::string& path, bool follow_last, const Under& under,
                               Canonical& out) {
  out.touched.clear();
  std::string cur = path.size() && path[0] == '/' ? std::string("/") : base;
  // A trailing slash (or "/." ) makes the last component a directory lookup,
  // which follows a symlink even under AT_SYMLINK_NOFOLLOW / O_NOFOLLOW.
  if (!path.empty() && path.back() == '/') follow_last = true;
  std::deque<std::string> rest;
  split_into(path, rest, false);
  int links = 0;
  bool missing = false;
  while (!rest.empty()) {
    std::string comp = std::move(rest.front());
    rest.pop_front();
    bool last = rest.empty();
    if (comp == ".") continue;
    if (comp == "..") {
      pop_component(cur);
      continue;
    }
    if (comp.size() > NAME_MAX) return -ENAMETOOLONG;
    std::string next = cur.size() == 1 ? "/" + comp : cur + "/" + comp;
    // Passing through a name under a prefix counts even if the walk then leaves it
    // (a hidden symlink followed elsewhere, "hidden/..").
    if (out.touched.empty() && under && under(next)) out.touched = next;
    if (cur == "/proc" && !missing) {
      // /proc/self is the reader's own pid: resolve it as the tracee would.
      if (comp == "self") {
        cur = "/proc/" + std::to_string(tgid);
        continue;
      }
      if (comp == "thread-self") {
        cur = "/proc/" + std::to_string(tgid) + "/task/" + std::to_string(tid);
        continue;
      }
    }
    if (missing || (last && !follow_last)) {
      cur = std::move(next);
    } else {
      Lookup l = lookup(next);
      if (l.kind == Lookup::kSymlink) {
        if (++links > kMaxSymlinks) return -ELOOP;
        if (l.target.empty()) return -ENOENT;
        // /proc magic links (cwd, fd/N, exe) that name no path end the walk here.
        if (l.target[0] != '/' && next.compare(0, 6, "/proc/") == 0 &&
            l.target.find(":[") != std::string::npos)
          return -ENOENT;
        if (l.target[0] == '/') cur = "/";
        split_into(l.target, rest, true);
        continue;
      }
      cur = std::move(next);
      if (l.kind == Lookup::kMissing) missing = true;
    }
  }
  if (cur.size() >= PATH_MAX) return -ENAMETOOLONG;
  out.path = std::move(cur);
  return 0;
}

}  // namespace vview
