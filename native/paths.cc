#include "paths.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <csignal>
#include <ctime>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/openat2.h>
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

// Set by SIGURG, which the kernel sends to the tracer thread when an inotify
// event is queued. The event is queued inside the tracee's changing syscall, so
// the signal is handled before this thread sees any later stop of that tracee.
static volatile sig_atomic_t g_inotify_pending = 1;
static void on_inotify(int) { g_inotify_pending = 1; }

const PathResolver::Mounts PathResolver::kNoMounts;
const PathResolver::Objects PathResolver::kNoObjects;

PathResolver::PathResolver() {
  inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  mounts_ = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (inotify_ < 0) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_inotify;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  struct f_owner_ex owner = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
  async_ = sigaction(SIGURG, &sa, nullptr) == 0 && fcntl(inotify_, F_SETSIG, SIGURG) == 0 &&
           fcntl(inotify_, F_SETOWN_EX, &owner) == 0 &&
           fcntl(inotify_, F_SETFL, O_NONBLOCK | O_ASYNC) == 0;
}

PathResolver::~PathResolver() {
  if (inotify_ >= 0) close(inotify_);
  if (mounts_ >= 0) close(mounts_);
}

static const uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;

// File systems whose changes all go through this kernel's VFS (so inotify sees
// them) and whose entries do not change on their own like /proc's.
static bool cacheable_fs(long type) {
  switch ((unsigned long)type) {
    case 0xEF53:      // ext2/3/4
    case 0x58465342:  // xfs
    case 0x9123683E:  // btrfs
    case 0x01021994:  // tmpfs
    case 0x794c7630:  // overlayfs
    case 0xF2F52010:  // f2fs
    case 0x73717368:  // squashfs
    case 0x858458f6:  // ramfs
    case 0x2fc12fc1:  // zfs
      return true;
    default:
      return false;
  }
}

bool PathResolver::watch(const std::string& dir) {
  auto it = watched_.find(dir);
  if (it != watched_.end()) return it->second >= 0;
  if (inotify_ < 0 || watched_.size() > 65536) return false;
  int wd = -1;
  struct statfs sf;
  if (statfs(dir.c_str(), &sf) == 0 && cacheable_fs(sf.f_type))
    wd = inotify_add_watch(inotify_, dir.c_str(), kWatchMask);
  watched_[dir] = wd < 0 ? -1 : wd;
  if (wd >= 0) {
    auto old = wds_.find(wd);  // the same inode reached by another path (bind mount)
    if (old != wds_.end() && old->second != dir) {
      watched_[dir] = -1;
      return false;
    }
    wds_[wd] = dir;
  }
  return wd >= 0;
}

void PathResolver::erase_below(const std::string& path) {
  auto it = cache_.lower_bound(path);
  while (it != cache_.end() && it->first.compare(0, path.size(), path) == 0 &&
         (it->first.size() == path.size() || it->first[path.size()] == '/'))
    it = cache_.erase(it);
  for (auto w = watched_.begin(); w != watched_.end();) {
    const std::string& d = w->first;
    if (d.compare(0, path.size(), path) == 0 && (d.size() == path.size() || d[path.size()] == '/')) {
      if (w->second >= 0) {
        inotify_rm_watch(inotify_, w->second);
        wds_.erase(w->second);
      }
      w = watched_.erase(w);
    } else {
      ++w;
    }
  }
}

void PathResolver::sync() {
  if (inotify_ < 0) return;
  // Mounts made outside the view give no inotify event: look at most every 0.1 s.
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  bool mount_check = now >= next_mount_check_;
  if (async_ && !g_inotify_pending && !mount_check) return;
  if (mount_check) next_mount_check_ = now + 100000000ull;
  g_inotify_pending = 0;
  struct pollfd p[2] = {{inotify_, POLLIN, 0}, {mounts_, POLLPRI, 0}};
  int n = poll(p, mounts_ >= 0 ? 2 : 1, 0);
  if (n <= 0) return;
  if (mounts_ >= 0 && (p[1].revents & (POLLPRI | POLLERR))) {
    // A mount or unmount anywhere: every cached answer may be wrong.
    char buf[4096];
    lseek(mounts_, 0, SEEK_SET);
    while (read(mounts_, buf, sizeof buf) > 0) {
    }
    for (auto& [d, wd] : watched_)
      if (wd >= 0) inotify_rm_watch(inotify_, wd);
    watched_.clear();
    wds_.clear();
    cache_.clear();
    cwds_.clear();
  }
  if (!(p[0].revents & POLLIN)) return;
  alignas(struct inotify_event) char buf[16384];
  for (;;) {
    ssize_t len = read(inotify_, buf, sizeof buf);
    if (len <= 0) break;
    for (char* q = buf; q < buf + len;) {
      auto* e = (struct inotify_event*)q;
      q += sizeof(struct inotify_event) + e->len;
      if (e->mask & IN_Q_OVERFLOW) {
        cache_.clear();
        cwds_.clear();
        continue;
      }
      auto w = wds_.find(e->wd);
      if (w == wds_.end()) continue;
      std::string dir = w->second;
      if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        erase_below(dir);
        cwds_.clear();
        continue;
      }
      if (e->len && e->name[0]) {
        std::string child = dir.size() == 1 ? "/" + std::string(e->name) : dir + "/" + e->name;
        erase_below(child);
        if (e->mask & (IN_MOVED_FROM | IN_DELETE)) cwds_.clear();  // a cwd may be below it
      }
    }
  }
}

int PathResolver::cwd(pid_t tid, std::string& out) {
  sync();
  auto it = cwds_.find(tid);
  if (it != cwds_.end()) {
    out = it->second;
    return 0;
  }
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/cwd", tid);
  int r = proc_link(p, out);
  if (r) return r;
  // Keep it only if a rename of any directory above it would be seen.
  bool all = true;
  for (size_t k = 1; k <= out.size(); k = out.find('/', k) + 1) {
    size_t end = out.find('/', k);
    if (!watch(out.substr(0, k == 1 ? 1 : k - 1))) all = false;
    if (end == std::string::npos) break;
  }
  if (all && watch(out)) cwds_[tid] = out;
  return 0;
}

int PathResolver::fd_path(pid_t tid, int fd, std::string& out) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/%d", tid, fd);
  int r = proc_link(p, out);
  return r == -ENOENT && access(p, F_OK) != 0 ? -EBADF : r;
}

Lookup PathResolver::lookup(const std::string& dir, const std::string& path) {
  auto it = cache_.find(path);
  if (it != cache_.end()) {
    cache_hits++;
    return it->second;
  }
  lookups++;
  Lookup l;
  struct stat st;
  int r;
  if (lstat(path.c_str(), &st) != 0) r = -errno;
  else r = S_ISLNK(st.st_mode) ? read_link(path, l.target) : -EINVAL;
  if (r == 0) l.kind = Lookup::kSymlink;
  else if (r == -EINVAL) l.kind = Lookup::kPlain;
  else l.kind = Lookup::kMissing;  // ENOENT, ENOTDIR, EACCES: the rest is lexical
  if (l.kind != Lookup::kMissing) {
    l.dev = (uint64_t)st.st_dev;
    l.ino = (uint64_t)st.st_ino;
  }
  // Permission answers can change without an entry changing: not cached.
  if ((r == 0 || r == -EINVAL || r == -ENOENT) && watch(dir)) cache_.emplace(path, l);
  return l;
}

int PathResolver::object_of(const std::string& p, bool follow) const {
  if (objects_->empty()) return -1;
  struct stat st;
  if ((follow ? stat(p.c_str(), &st) : lstat(p.c_str(), &st)) != 0) return -1;
  auto it = objects_->find({(uint64_t)st.st_dev, (uint64_t)st.st_ino});
  return it == objects_->end() ? -1 : it->second;
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

bool PathResolver::to_host(const std::string& view, std::string& out) const {
  for (const auto& [v, h] : *views_) {
    if (!at_or_below(view, v)) continue;
    out = h + view.substr(v.size());
    return true;
  }
  return false;
}

bool PathResolver::to_view(const std::string& host, std::string& out) const {
  size_t best = 0;
  bool found = false;
  for (const auto& [v, h] : *views_) {
    if (h.size() < best || !at_or_below(host, h)) continue;
    if (found && h.size() == best) continue;
    out = v + (h == "/" ? host : host.substr(h.size()));
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    best = h.size();
    found = true;
  }
  return found;
}

const std::string* PathResolver::view_mount(const std::string& p) const {
  for (const auto& [v, h] : *views_)
    if (at_or_below(p, v)) return &v;
  return nullptr;
}

int PathResolver::canonicalize(pid_t tid, pid_t tgid, const std::string& base,
                               const std::string& path, bool follow_last, const Under& under,
                               Canonical& out, bool from_mount, uint64_t resolve) {
  out.touched.clear();
  out.host.clear();
  out.lexical = false;
  out.object_module = -1;
  out.straight = true;
  bool verbatim = !path.empty() && path[0] != '/';
  sync();
  // openat2's scoped lookups: the root is base (the dirfd or cwd).
  const bool scoped = resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  const bool absolute = path.size() && path[0] == '/';
  if (absolute && (resolve & RESOLVE_BENEATH)) return -EXDEV;
  const std::string root = scoped ? base : std::string("/");
  std::string cur = absolute ? root : base;
  bool slash = !path.empty() && path.back() == '/';
  // A trailing slash (or "/." ) makes the last component a directory lookup,
  // which follows a symlink even under AT_SYMLINK_NOFOLLOW / O_NOFOLLOW.
  if (slash) follow_last = true;
  std::deque<std::string> rest;
  split_into(path, rest, false);
  int links = 0;
  bool missing = false;
  // A last component "." or "..": the kernel treats it specially (rmdir(".")
  // is EINVAL, rename of ".." EBUSY); the host form keeps it.
  std::string dot_last = !rest.empty() && (rest.back() == "." || rest.back() == "..") ? rest.back() : "";
  std::string dot_from;  // for "..": the directory it was taken from
  // Through a mount: where the kernel must look instead (see Canonical::host).
  bool mounted = from_mount && path.size() && (!absolute || scoped);
  // Crossing into or out of one of the view's mounts (RESOLVE_NO_XDEV).
  auto crosses = [this](const std::string& a, const std::string& b) { return view_mount(a) != view_mount(b); };
  // What the walk lands on: a claimed object (set_objects) routes to its module.
  auto claim = [this, &out](const Lookup& l) {
    if (out.object_module >= 0 || objects_->empty() || l.kind == Lookup::kMissing) return;
    auto it = objects_->find({l.dev, l.ino});
    if (it != objects_->end()) out.object_module = it->second;
  };
  std::string miss_at;                 // the resolved location where a lookup first failed
  std::deque<std::string> miss_rest;   // the components from there on, as given
  std::string cur_host, next_host;
  while (!rest.empty()) {
    std::string comp = std::move(rest.front());
    rest.pop_front();
    bool last = rest.empty();
    if (comp == "." || comp == "..") verbatim = false;
    if (comp == ".") continue;
    if (comp == "..") {
      out.straight = false;
      if (scoped && cur == root) {
        if (resolve & RESOLVE_BENEATH) return -EXDEV;
        continue;  // RESOLVE_IN_ROOT: ".." of the root is the root
      }
      if (resolve & RESOLVE_NO_XDEV) {
        std::string up = cur;
        pop_component(up);
        if (crosses(cur, up)) return -EXDEV;
      }
      if (last) dot_from = cur;
      pop_component(cur);
      continue;
    }
    if (comp.size() > NAME_MAX) return -ENAMETOOLONG;
    std::string next = cur.size() == 1 ? "/" + comp : cur + "/" + comp;
    // Passing through a name under a prefix counts even if the walk then leaves it
    // (a hidden symlink followed elsewhere, "hidden/..").
    if (out.touched.empty() && under && under(next)) out.touched = next;
    if ((resolve & RESOLVE_NO_XDEV) && !missing && crosses(cur, next)) return -EXDEV;
    if (cur == "/proc" && !missing && (comp == "self" || comp == "thread-self") && (resolve & RESOLVE_NO_SYMLINKS) &&
        (!last || follow_last))
      return -ELOOP;
    if (cur == "/proc" && !missing) {
      // /proc/self is the reader's own pid: resolve it as the tracee would.
      if (comp == "self" || comp == "thread-self") verbatim = out.straight = false;
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
      // The last name itself, not followed: is it a claimed object?
      if (!missing && !objects_->empty()) {
        bool in_mount = !views_->empty() && to_host(next, next_host);
        if (in_mount && !to_host(cur, cur_host)) cur_host = cur;
        claim(in_mount ? lookup(cur_host, next_host) : lookup(cur, next));
      }
      cur = std::move(next);
    } else {
      // Below a mount the lookup is made in its host directory.
      bool in_mount = !views_->empty() && to_host(next, next_host);
      if (in_mount) {
        mounted = true;
        if (!to_host(cur, cur_host)) cur_host = cur;
      }
      Lookup l = in_mount ? lookup(cur_host, next_host) : lookup(cur, next);
      claim(l);
      if (l.kind == Lookup::kSymlink) {
        verbatim = out.straight = false;
        if (resolve & RESOLVE_NO_SYMLINKS) return -ELOOP;
        if (++links > kMaxSymlinks) return -ELOOP;
        if (l.target.empty()) return -ENOENT;
        // A magic link: below /proc/PID (cwd, root, exe, fd/N, map_files, ns),
        // where the kernel jumps to the object itself.
        bool magic = next.compare(0, 6, "/proc/") == 0 && cur != "/proc";
        if (magic) {
          if (resolve & RESOLVE_NO_MAGICLINKS) return -ELOOP;
          if (resolve & (RESOLVE_NO_XDEV | RESOLVE_BENEATH | RESOLVE_IN_ROOT)) return -EXDEV;
        }
        // /proc magic links (cwd, fd/N, exe) that name no path end the walk here.
        if (l.target[0] != '/' && next.compare(0, 6, "/proc/") == 0 &&
            l.target.find(":[") != std::string::npos)
          return -ENOENT;
        std::string target = l.target;
        static const char kDeleted[] = " (deleted)";
        const size_t kDel = sizeof kDeleted - 1;
        bool deleted = target.size() > kDel && target.compare(target.size() - kDel, kDel, kDeleted) == 0;
        if (magic && target[0] == '/' && !deleted) {
          // The object in a mount's host directory (a bind source, a scratch
          // copy) is the view's object there: continue from its view path.
          std::string v;
          if (to_view(target, v)) target = std::move(v);
        }
        if (target[0] == '/') {
          if (!magic && (resolve & RESOLVE_BENEATH)) return -EXDEV;
          if (!magic && (resolve & RESOLVE_NO_XDEV) && view_mount(cur)) return -EXDEV;
          cur = !magic && (resolve & RESOLVE_IN_ROOT) ? root : std::string("/");
        }
        if (last && target.back() == '/') slash = true;
        split_into(target, rest, true);
        continue;
      }
      if (l.kind == Lookup::kMissing) {
        missing = true;
        out.lexical = !last;
        miss_at = cur;
        miss_rest.assign(1, comp);
        miss_rest.insert(miss_rest.end(), rest.begin(), rest.end());
      }
      cur = std::move(next);
    }
  }
  if (cur.size() >= PATH_MAX) return -ENAMETOOLONG;
  if (!mounted && !views_->empty()) mounted = to_host(missing ? miss_at : cur, cur_host);
  if (mounted) {
    // The kernel gets the host form: errors for what does not exist are its own.
    std::string h;
    const std::string& at = missing ? miss_at : cur;
    if (!to_host(at, h)) h = at;
    if (missing)
      for (const std::string& r : miss_rest) {
        if (h.size() != 1) h += '/';
        h += r;
      }
    if (!missing && dot_last == ".") h += h.size() == 1 ? "." : "/.";
    // "x/..": from x's host directory, unless x is a mount point (its parent
    // in the view is not its host directory's).
    std::string from_host;
    if (!missing && dot_last == ".." && to_host(dot_from, from_host)) {
      bool mount_point = false;
      for (const auto& [v, hd] : *views_) mount_point |= v == dot_from;
      if (!mount_point) h = from_host + "/..";
    }
    if (slash && h.size() != 1 && h.back() != '/') h += '/';
    out.host = std::move(h);
  }
  out.path = std::move(cur);
  out.missing = missing;
  out.verbatim = verbatim;
  return 0;
}

}  // namespace vview
