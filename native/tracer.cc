#include "tracer.h"

#include <algorithm>
#include <linux/capability.h>
#include <atomic>
#include <cstdlib>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <elf.h>
#include <unistd.h>

#include "memory.h"

namespace vview {

static const int kLiveSlots = 8192;
static std::atomic<pid_t> g_live[kLiveSlots];
volatile sig_atomic_t g_root_exited = 0;

void live_add(pid_t pid) {
  for (int i = 0; i < kLiveSlots; i++) {
    pid_t z = 0;
    if (g_live[i].compare_exchange_strong(z, pid)) return;
  }
}
void live_remove(pid_t pid) {
  for (int i = 0; i < kLiveSlots; i++) {
    pid_t p = pid;
    if (g_live[i].compare_exchange_strong(p, 0)) return;
  }
}
// Async-signal-safe.
void live_kill(int sig) {
  for (int i = 0; i < kLiveSlots; i++) {
    pid_t p = g_live[i].load();
    if (p > 0) kill(p, sig);
  }
}

Tracer::Tracer() {
  layers_.push_back(std::make_unique<Layer>());
  layers_[0]->configured = layers_[0]->entered = true;
  cfg_ = cur_ = layers_[0].get();
  resolver.use(&cur_->mounts, &cur_->objects);
}

long Tracer::ptrace_options() const {
  return PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE |
         PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
}

static std::vector<bool> nr_set(const std::vector<int>& nrs) {
  std::vector<bool> v;
  for (int nr : nrs) {
    if (nr < 0 || nr > 4096) continue;
    if ((size_t)nr >= v.size()) v.resize(nr + 1);
    v[nr] = true;
  }
  return v;
}

static bool has_nr(const std::vector<bool>& v, long nr) { return nr >= 0 && (size_t)nr < v.size() && v[nr]; }

static bool flag_set(const FlagBit& f, const arch::Regs& r) { return f.arg >= 0 && (arch::arg(r, f.arg) & f.bit); }

void Tracer::set_routes(const std::vector<std::pair<int, uint8_t>>& bits) {
  auto& routes = cfg_->routes;
  routes.clear();
  for (const auto& [nr, b] : bits) {
    const SyscallDesc* d = syscall_desc(nr);
    if (!d || !b) continue;
    if ((size_t)nr >= routes.size()) routes.resize(nr + 1);
    routes[nr] = {b, d};
  }
}

void Tracer::add_prefix(const std::string& prefix, int module, const std::vector<int>& nrs,
                        const std::vector<int>& direct) {
  auto& prefixes = cfg_->prefixes;
  prefixes.push_back({prefix, module, nr_set(nrs), nr_set(direct)});
  std::stable_sort(prefixes.begin(), prefixes.end(),
                   [](const PrefixEntry& a, const PrefixEntry& b) { return a.path.size() > b.path.size(); });
}

const PrefixEntry* Tracer::prefix_of(const std::string& p, long nr) const {
  for (const PrefixEntry& x : cur_->prefixes) {
    if (!x.nrs.empty() && !has_nr(x.nrs, nr)) continue;
    if (at_or_below(p, x.path)) return &x;
  }
  return nullptr;
}

// The module owning the longest prefix that p equals or lies below, among the
// prefixes that apply to syscall nr.
int Tracer::match_prefix(const std::string& p, long nr) const {
  const PrefixEntry* x = prefix_of(p, nr);
  return x ? x->module : -1;
}

void Tracer::add_alias(const std::string& host, const std::string& view) {
  auto& aliases = cfg_->aliases;
  aliases.emplace_back(host, view);
  std::stable_sort(aliases.begin(), aliases.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  auto& mounts = cfg_->mounts;
  mounts.clear();
  for (const auto& [h, v] : aliases) mounts.emplace_back(v, h);
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

// Maps a host path below an aliased directory to the view's path. True if mapped.
bool Tracer::alias(std::string& p) const {
  for (const auto& [host, view] : cur_->aliases) {
    if (!at_or_below(p, host)) continue;
    p = view + p.substr(host.size());
    return true;
  }
  return false;
}

// A new task's first stop came before its parent's fork/clone event: its
// process and parent are read from /proc. Returns the parent (the thread
// group for a thread, the parent process otherwise), or 0 when unknown.
pid_t Tracer::adopt_orphan(Tracee& t) {
  std::string tg, pp;
  if (!status_field(t.tid, "Tgid:", tg)) return 0;
  pid_t tgid = (pid_t)atoi(tg.c_str());
  if (tgid <= 0) return 0;
  t.known = true;
  if (tgid != t.tgid) {
    auto th = threads_.find(t.tgid);
    if (th != threads_.end()) {
      th->second.erase(t.tid);
      if (th->second.empty()) threads_.erase(th);
    }
    t.tgid = tgid;
    threads_[tgid].insert(t.tid);
  }
  t.ppid = status_field(t.tid, "PPid:", pp) ? (pid_t)atoi(pp.c_str()) : 0;
  if (tgid != t.tid) return tgid;
  if (t.ppid > 0 && layer_of(t.ppid) && !layer_of_.count(tgid)) set_layer(tgid, layer_of(t.ppid));
  live_add(tgid);
  return t.ppid;
}

void Tracer::adopt_root(pid_t pid) {
  root_ = pid;
  Tracee& t = tracees_[pid];
  t.tid = t.tgid = pid;
  t.known = true;
  t.started = true;
  t.ppid = getpid();
  threads_[pid].insert(pid);
  live_add(pid);
}

Tracer::Tracee& Tracer::get(pid_t tid) {
  auto it = tracees_.find(tid);
  if (it != tracees_.end()) return it->second;
  gone_early_.erase(tid);  // a new task with a pid used before
  Tracee& t = tracees_[tid];
  t.tid = t.tgid = tid;
  threads_[tid].insert(tid);
  return t;
}

void Tracer::cont(pid_t tid, int sig) {
  // A tracee that owes a syscall-exit stop (resumed with PTRACE_SYSCALL) may
  // stop in between for an event: execve reports PTRACE_EVENT_EXEC before its
  // exit stop. Resuming it with PTRACE_CONT there would lose that exit stop.
  auto it = tracees_.find(tid);
  int req = it != tracees_.end() ? resume_req(it->second) : PTRACE_CONT;
  // ESRCH: killed meanwhile (SIGKILL needs no cooperation); its exit comes next.
  ptrace((enum __ptrace_request)req, tid, nullptr, (void*)(long)sig);
}

int Tracer::resume_req(const Tracee& t) const {
  if (t.await_exit || t.wait.active || t.wait.blocking || (t.emu && t.emu->syscall_mode)) return PTRACE_SYSCALL;
  // An inner tracer's single step: the monitor's stops on the way (a seccomp
  // stop) keep it, so the step still ends in its SIGTRAP.
  if (t.emu && t.emu->step) return t.emu->step;
  return PTRACE_CONT;
}

int Tracer::mem_fd(pid_t tgid) {
  auto it = mem_fds_.find(tgid);
  if (it != mem_fds_.end()) return it->second;
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/mem", tgid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  mem_fds_[tgid] = fd;
  return fd;
}

void Tracer::close_mem(pid_t tgid) {
  auto it = mem_fds_.find(tgid);
  if (it == mem_fds_.end()) return;
  if (it->second >= 0) close(it->second);
  mem_fds_.erase(it);
}

void Tracer::drop(pid_t tid) {
  resolver.forget_cwd(tid);
  auto it = tracees_.find(tid);
  if (it == tracees_.end()) return;
  auto th = threads_.find(it->second.tgid);
  if (th != threads_.end()) {
    th->second.erase(tid);
    if (th->second.empty()) {
      threads_.erase(th);
      close_mem(it->second.tgid);
      live_remove(it->second.tgid);
    }
  }
  tracees_.erase(it);
}

bool get_regs(pid_t tid, arch::Regs& r) {
  struct iovec io = {&r, sizeof r};
  return ptrace(PTRACE_GETREGSET, tid, (void*)NT_PRSTATUS, &io) == 0;
}
bool set_regs(pid_t tid, const arch::Regs& r) {
  struct iovec io = {const_cast<arch::Regs*>(&r), sizeof r};
  return ptrace(PTRACE_SETREGSET, tid, (void*)NT_PRSTATUS, &io) == 0;
}

bool read_proc(const char* path, std::string& out) {
  out.clear();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, (size_t)n);
  close(fd);
  return !out.empty();
}

bool status_field(pid_t pid, const char* key, std::string& out) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/status", pid);
  std::string text;
  if (!read_proc(p, text)) return false;
  size_t at = text.find(std::string("\n") + key);
  if (at == std::string::npos) return false;
  at += 1 + strlen(key);
  size_t end = text.find('\n', at);
  out = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  return true;
}

bool stat_ids(pid_t pid, pid_t& ppid, pid_t& pgrp) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/stat", pid);
  std::string text;
  if (!read_proc(p, text)) return false;
  size_t rp = text.rfind(')');  // comm may hold spaces and parens
  char state;
  int pp = 0, pg = -1;
  if (rp == std::string::npos || sscanf(text.c_str() + rp + 1, " %c %d %d", &state, &pp, &pg) != 3) return false;
  ppid = pp;
  pgrp = pg;
  return true;
}

void Tracer::resolve_path(Tracee& t, const PathSpec& s, PathResult& out) {
  const arch::Regs& r = t.regs;
  uint64_t ptr = arch::arg(r, s.arg);
  int dirfd = s.dirfd >= 0 ? (int)(int32_t)arch::arg(r, s.dirfd) : AT_FDCWD;
  bool fd_itself = false;
  if (ptr == 0 && s.null_means_fd) {
    fd_itself = true;
  } else {
    // Read once per stop: the layers evaluated after the first (nested
    // views) see the same memory unless a layer rewrote the pointer.
    int e = 0;
    auto hit = std::find_if(t.raw_cache.begin(), t.raw_cache.end(), [ptr](const auto& c) { return c.first == ptr; });
    if (hit != t.raw_cache.end()) {
      out.raw = hit->second;
    } else {
      e = read_str(t.tid, ptr, PATH_MAX - 1, out.raw, mem_fd(t.tgid));
      if (!e && layers_.size() > 1) t.raw_cache.emplace_back(ptr, out.raw);
    }
    if (e) {
      out.error = e;  // the kernel answers EFAULT / ENAMETOOLONG itself
      return;
    }
    if (out.raw.empty()) {
      if (!flag_set(s.empty_path, r)) {
        out.error = -ENOENT;
        return;
      }
      fd_itself = true;
    }
  }
  // openat2's RESOLVE_* flags: the walk is the kernel's, scoped to the dirfd.
  uint64_t resolve = 0;
  struct open_how how;
  memset(&how, 0, sizeof how);
  bool how_ok = true;
  if (s.last == kLastOpenhow) {
    how_ok = read_mem(t.tid, arch::arg(r, s.flags), &how, sizeof how) == 0;
    // Unknown bits: the kernel refuses the open_how (EINVAL) before any walk.
    if (how_ok && !(how.resolve & ~(uint64_t)0x3f)) resolve = how.resolve;
  }
  const bool scoped = resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT);
  std::string base;
  int e = 0;
  if (!fd_itself && out.raw[0] == '/' && !scoped) base = "/";
  else if (dirfd == AT_FDCWD || s.dirfd < 0) e = resolver.cwd(t.tid, base);
  else e = resolver.fd_path(t.tid, dirfd, base);
  if (e) {
    out.error = e;
    return;
  }
  long nr = arch::nr(r);
  if (fd_itself) {
    // The fd (or cwd) itself: a real kernel object, even when it backs a view
    // path (a bind source, a scratch mirror); the kernel answers exactly.
    out.canonical = base;
    // (Not the access family: W_OK on a read-only mount is the module's EROFS.)
    const SyscallDesc* d = cur_->routes[nr].desc;
    if (alias(out.canonical) && d->effect == kEffectQuery && d->access_mode < 0) return;
    out.module = match_prefix(out.canonical, nr);
    if (out.module < 0 && resolver.has_objects()) {
      char p[64];
      if (dirfd == AT_FDCWD || s.dirfd < 0) snprintf(p, sizeof p, "/proc/%d/cwd", t.tid);
      else snprintf(p, sizeof p, "/proc/%d/fd/%d", t.tid, dirfd);
      out.module = resolver.object_of(p, true);
    }
    return;
  }
  // A cwd or dirfd inside a mount's host directory is the view path: what is
  // relative to it is resolved in the view (and given to the kernel in host form).
  std::string base_host = base;
  bool from_mount = alias(base);
  bool follow = true;
  switch (s.last) {
    case kLastFollow: follow = !flag_set(s.nofollow, r); break;
    case kLastNofollow: follow = flag_set(s.follow, r); break;
    case kLastOpen: {
      out.open_flags = s.flags >= 0 ? arch::arg(r, s.flags) : 0;
      follow = !(out.open_flags & O_NOFOLLOW) && !((out.open_flags & O_CREAT) && (out.open_flags & O_EXCL));
      break;
    }
    case kLastOpenhow: {
      // RESOLVE_* flags, or an unreadable open_how: never done natively.
      if (how_ok && how.resolve == 0) out.open_flags = how.flags;
      else out.open_flags = ~0ull;
      follow = !(how.flags & O_NOFOLLOW) && !((how.flags & O_CREAT) && (how.flags & O_EXCL));
      break;
    }
  }
  Canonical c;
  PathResolver::Under under;
  if (!cur_->prefixes.empty()) under = [this, nr](const std::string& p) { return match_prefix(p, nr) >= 0; };
  // Nested views: a walk without mounts or claimed objects (which change
  // what is looked up) is the same for every such layer at this stop; when
  // it went straight to its path, `touched` adds nothing, so it is reused.
  const bool plain = layers_.size() > 1 && cur_->mounts.empty() && cur_->objects.empty() && !from_mount;
  Tracee::Walk key{ptr, dirfd, follow, resolve};
  auto w = plain ? std::find_if(t.walks.begin(), t.walks.end(), [&](const auto& x) { return x.first == key; }) : t.walks.end();
  if (w != t.walks.end()) {
    c = w->second;
    c.touched.clear();
    e = 0;
  } else {
    e = resolver.canonicalize(t.tid, t.tgid, base, out.raw, follow, under, c, from_mount, resolve);
    if (plain && e == 0 && c.straight) t.walks.emplace_back(key, c);
  }
  if (e) {
    out.error = e;
    // A scoped walk that fails after entering a module's path: the kernel's
    // own walk could reach another object (a mount's host directory), so the
    // module's path answers the error (the router returns it).
    if (resolve) {
      if (!c.touched.empty()) out.module = match_prefix(c.touched, nr);
      if (out.module < 0) out.module = c.object_module;
      if (out.module < 0 && from_mount) out.module = match_prefix(base, nr);
    }
    return;
  }
  out.canonical = std::move(c.path);
  out.host = std::move(c.host);
  out.lexical = c.lexical;
  // (find in a bind: fstatat and openat of each name relative to the directory's fd.)
  if (from_mount && c.verbatim && out.host.size() == base_host.size() + 1 + out.raw.size() &&
      out.host.compare(0, base_host.size(), base_host) == 0 && out.host[base_host.size()] == '/' &&
      out.host.compare(base_host.size() + 1, std::string::npos, out.raw) == 0)
    out.verbatim = true;
  out.module = match_prefix(out.canonical, nr);
  if (out.module < 0 && !c.touched.empty()) out.module = match_prefix(c.touched, nr);
  // An object a module claims by identity, reached by another name (a bind
  // alias, a renamed parent, a hard link): that module, before a mount the
  // name goes through (the object is more specific than the mount).
  if (c.object_module >= 0) out.module = c.object_module;
  // Relative to a directory inside a mount but leading out of it ("..",
  // a symlink out): the kernel would start from the host directory, so the
  // mount's module rewrites it.
  if (out.module < 0 && from_mount && !out.host.empty()) out.module = match_prefix(base, nr);
}

// A call whose paths went through mounts whose modules let native code do it
// (add_prefix's direct): the paths are rewritten to their host form and the
// kernel runs it. Returns false when JavaScript must see it.
bool Tracer::native_rewrite(Tracee& t, const SyscallRoute& route, Event& ev) {
  long nr = arch::nr(t.regs);
  bool any = false;
  for (size_t i = 0; i < ev.paths.size(); i++) {
    const PathResult& p = ev.paths[i];
    if (p.module < 0) continue;
    if (p.error || p.host.empty()) return false;
    const PrefixEntry* x = nullptr;
    for (const PrefixEntry& e : cur_->prefixes)
      if (e.module == p.module && e.nrs.empty()) x = &e;
    if (!x || !has_nr(x->direct, nr)) return false;
    const PathSpec& s = route.desc->paths[i];
    // The mount point itself, as a name (rmdir, rename, unlink of it: EBUSY).
    if (p.canonical == x->path && s.last == kLastNofollow && !flag_set(s.follow, t.regs)) return false;
    // An open that writes, creates or truncates changes the tree: done here
    // only for a module that lets native code make names (mkdirat is direct: a
    // writable bind, with no copy to write back to), and never O_TMPFILE.
    if ((s.last == kLastOpen || s.last == kLastOpenhow) && (p.open_flags & kOpenChanges) != 0 &&
        (!has_nr(x->direct, SYS_mkdirat) || (p.open_flags & O_TMPFILE) == O_TMPFILE))
      return false;
    any = true;
  }
  if (!any) return false;
  // On a copy: a failure leaves the registers as the tracee set them for JavaScript.
  arch::Regs r = t.regs;
  t.scratch_top = scratch_base(t, r);
  bool changed = false;
  for (size_t i = 0; i < ev.paths.size(); i++) {
    const PathResult& p = ev.paths[i];
    if (p.module < 0 || p.raw.empty()) continue;  // the fd itself: nothing to rewrite
    if (p.verbatim) continue;  // the kernel reaches the host path from the real directory
    int64_t addr = put_string(t, p.host);
    if (addr < 0) return false;  // JavaScript sees it
    arch::set_arg(r, route.desc->paths[i].arg, (uint64_t)addr);
    changed = true;
  }
  if (changed && !set_regs(t.tid, r)) return false;
  t.regs = r;
  return true;
}

// What the stat views of `layers` (innermost first) show for st: applied
// outermost first, as each layer sees the result of the layers outside it.
template <class S>
bool Tracer::show_through(S& st, const std::vector<int>& layers) const {
  bool changed = false;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) changed |= layers_[*it]->stat_view.apply(st);
  return changed;
}

// A seccomp stop. Returns true when JavaScript must see it (ev filled, tracee
// parked). from: a layer to go on from (a recheck), or -2: a new stop.
bool Tracer::on_seccomp(Tracee& t, Event& ev, int from) {
  if (!get_regs(t.tid, t.regs)) return false;  // vanished (killed)
  long nr = arch::nr(t.regs);
  t.raw_cache.clear();
  t.walks.clear();
  if (from == -2) {
    if (nr >= 0 && nr < 1024) {
      if ((size_t)nr >= seccomp_stops.size()) seccomp_stops.resize(nr + 1);
      seccomp_stops[nr]++;
    }
    t.exit_layers.clear();
    t.stat_layers.clear();
    t.entry_pending = 0;
    // The emulated ptrace and the joins come before every layer's modules:
    // no module routes these calls.
    const auto& own = layers_[0]->routes;
    if (nr >= 0 && (size_t)nr < own.size() && (own[nr].bits & kRouteEmu)) {
      if (nr == SYS_prctl && arch::arg(t.regs, 0) == kJoinPrctl) return on_join(t, ev);
      if (emu_on_seccomp(t)) return false;
    }
    from = layer_of(t.tgid);
  }
  // The innermost layer first; each layer outside it sees the call as the
  // layers inside it left it (a rewritten path, ...). Afterwards the tables
  // in use are this monitor's own again (viewPath, a stat view's lookups).
  struct Own {
    Tracer* tr;
    ~Own() {
      tr->cur_ = tr->layers_[0].get();
      tr->resolver.use(&tr->cur_->mounts, &tr->cur_->objects);
    }
  } own{this};
  for (int li = from; li >= 0; li = layers_[li]->parent) {
    int r = eval_layer(t, ev, li);
    if (r > 0) return true;
    if (r < 0) return false;
  }
  fast_resumes++;  // no JavaScript at this stop
  finish_entry(t);
  return false;
}

int Tracer::eval_layer(Tracee& t, Event& ev, int li) {
  Layer& L = *layers_[li];
  cur_ = &L;
  resolver.use(&L.mounts, &L.objects);
  long nr = arch::nr(t.regs);
  if (nr < 0 || (size_t)nr >= L.routes.size()) return 0;
  const SyscallRoute& route = L.routes[nr];
  const uint8_t bits = route.bits & ~kRouteEmu;
  if (!bits) return 0;
  uint8_t matched = bits & kRouteName;
  if (bits & kRouteCwd) {
    resolver.forget_cwds();
    t.entry_pending |= kRouteCwd;
  }
  ev.paths.clear();
  ev.fds.clear();
  const SyscallDesc& desc = *route.desc;
  if (bits & kRoutePath) {
    ev.paths.resize(desc.npaths);
    for (size_t i = 0; i < desc.npaths; i++) {
      resolve_path(t, desc.paths[i], ev.paths[i]);
      if (ev.paths[i].module >= 0) matched |= kRoutePath;
    }
  }
  if (bits & kRouteFd && !L.inodes.empty()) {
    for (uint8_t k = 0; k < desc.nfds; k++) {
      int fd = (int)(int32_t)arch::arg(t.regs, desc.fds[k]);
      if (fd < 0) continue;
      char p[64];
      snprintf(p, sizeof p, "/proc/%d/fd/%d", t.tid, fd);
      struct stat st;
      if (stat(p, &st) != 0) continue;
      auto it = L.inodes.find({(uint64_t)st.st_dev, (uint64_t)st.st_ino});
      if (it == L.inodes.end()) continue;
      ev.fds.push_back({fd, it->second, (uint64_t)st.st_dev, (uint64_t)st.st_ino});
      matched |= kRouteFd;
    }
  }
  // With modules, a 32-bit program's exec is refused in JavaScript (with a
  // message); any other exec needs no stop there for it.
  if ((bits & kRouteExec) && exec_is_32bit(t, ev)) matched |= kRouteName;
  // Below a mount whose module lets native code do this call: rewrite, no JavaScript.
  bool rewritten = matched == kRoutePath && native_rewrite(t, route, ev);
  if (rewritten) native_rewrites++;
  if (!matched || rewritten) {
    // Its stat view shows what the layers outside it answer.
    // (After a rewrite the stat view sees the host path in the arguments.)
    if ((bits & kRouteStat) && L.stat_view.enabled && !L.stat_view.identity()) t.stat_layers.push_back(li);
    return 0;
  }
  park(t, ev, kEventSyscall);
  ev.layer = li;
  t.park_layer = li;
  t.desc = route.desc;
  t.hosts.resize(ev.paths.size());
  for (size_t i = 0; i < ev.paths.size(); i++) t.hosts[i] = ev.paths[i].raw.empty() ? std::string() : ev.paths[i].host;
  ev.route = matched;
  return 1;
}

// No layer's JavaScript claimed the call (or the last one let it go on): it
// runs, shown through the stat views it passed, with an exit stop when a
// layer asked for one or the cwd changes.
void Tracer::finish_entry(Tracee& t) {
  bool exit_needed = !t.exit_layers.empty();
  const SyscallDesc* d = syscall_desc(arch::nr(t.regs));
  if (!t.stat_layers.empty() && d && d->stat_kind) {
    uint8_t kind = d->stat_kind;
    int e = exit_needed ? -1 : emulate_stat(t, kind);
    if (e > 0) {
      t.stat_layers.clear();
      cont(t.tid);
      return;
    }
    if (e < 0) {
      // The kernel runs it; its result is shown at the exit.
      int buf_arg = kind == kStatAt ? 2 : kind == kStatStatx ? 4 : 1;
      t.patch_kind = kind;
      t.patch_buf = arch::arg(t.regs, buf_arg);
      t.native_exit = exit_needed = true;
    } else {
      t.stat_layers.clear();  // the kernel fails it as the monitor's own stat did: nothing to show
    }
  }
  if (t.entry_pending & kRouteCwd) {
    // The cwd changes when the call completes: drop the cache again then.
    t.cwd_exit = t.native_exit = exit_needed = true;
  }
  if (!exit_needed) {
    cont(t.tid);
    return;
  }
  t.await_exit = true;
  ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
}

// The exit event of the next layer that asked for one (outermost first).
bool Tracer::next_exit(Tracee& t, Event& ev) {
  if (t.exit_layers.empty() || !get_regs(t.tid, t.regs)) return false;
  ev = Event();
  park(t, ev, kEventSyscallExit);
  ev.ret = arch::ret(t.regs);
  ev.layer = t.exit_layers.back();
  t.exit_layers.pop_back();
  t.park_layer = ev.layer;
  return true;
}

// The stat view's fast path: the monitor runs the stat itself on the path the
// tracee would reach, shows it through the view, writes it into the tracee's
// buffer and skips the call: one stop, no exit stop, no JavaScript. Returns
// 0 when the kernel must answer because the call fails (the path does not
// exist, a bad pointer, ...): nothing to show then. Returns -1 when the monitor
// cannot tell (an odd path, a permission on /proc): the call then runs and its
// result is patched at its exit stop.
int Tracer::emulate_stat(Tracee& t, uint8_t kind) {
  const arch::Regs& r = t.regs;
  int dirfd = AT_FDCWD, flags = 0;
  uint64_t pathp = 0, buf = 0;
  unsigned mask = 0;
  bool has_path = true;
  switch (kind) {
    case kStatPath: pathp = arch::arg(r, 0); buf = arch::arg(r, 1); break;
    case kStatLink: pathp = arch::arg(r, 0); buf = arch::arg(r, 1); flags = AT_SYMLINK_NOFOLLOW; break;
    case kStatFd:
      dirfd = (int)(int32_t)arch::arg(r, 0);
      if (dirfd < 0) return 0;  // EBADF (fstat has no AT_FDCWD)
      buf = arch::arg(r, 1); has_path = false; flags = AT_EMPTY_PATH;
      break;
    case kStatAt: dirfd = (int)(int32_t)arch::arg(r, 0); pathp = arch::arg(r, 1); buf = arch::arg(r, 2); flags = (int)arch::arg(r, 3); break;
    case kStatStatx: dirfd = (int)(int32_t)arch::arg(r, 0); pathp = arch::arg(r, 1); flags = (int)arch::arg(r, 2); mask = (unsigned)arch::arg(r, 3); buf = arch::arg(r, 4); break;
    default: return -1;
  }
  std::string raw, where;
  if (has_path && read_str(t.tid, pathp, PATH_MAX - 1, raw, mem_fd(t.tgid)) != 0) return 0;  // EFAULT, ENAMETOOLONG
  int stat_flags = flags & ~AT_EMPTY_PATH;
  if (raw.empty()) {
    // The fd itself: its /proc link leads to the very object, followed.
    if (!(flags & AT_EMPTY_PATH) || (dirfd < 0 && dirfd != AT_FDCWD)) return 0;  // ENOENT, EBADF
    char p[64];
    if (dirfd == AT_FDCWD) snprintf(p, sizeof p, "/proc/%d/cwd", t.tid);
    else snprintf(p, sizeof p, "/proc/%d/fd/%d", t.tid, dirfd);
    where = p;
    stat_flags &= ~AT_SYMLINK_NOFOLLOW;
  } else {
    std::string base;
    if (raw[0] != '/') {
      int e = dirfd == AT_FDCWD ? resolver.cwd(t.tid, base) : resolver.fd_path(t.tid, dirfd, base);
      if (e) return -1;  // a dirfd or cwd without a path: the kernel knows
    }
    Canonical c;
    bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
    // ELOOP, ENAMETOOLONG, or a component that does not exist: the call fails.
    if (resolver.canonicalize(t.tid, t.tgid, base, raw, follow, PathResolver::Under(), c) != 0 || c.missing) return 0;
    where = std::move(c.path);
    // "file/" is ENOTDIR for the kernel; keep the slash for the stat.
    if (raw.back() == '/' && where != "/") where += '/';
    stat_flags |= AT_SYMLINK_NOFOLLOW;  // the walk above already followed what it should
    // "x/.." is lexical in the canonical walk; the kernel refuses it when x is
    // not a directory. Cross-check such paths with the kernel's own walk.
    bool dotdot = false, named = false;
    for (size_t i = 0; i <= raw.size() && !dotdot;) {
      size_t j = raw.find('/', i);
      if (j == std::string::npos) j = raw.size();
      std::string_view comp(raw.data() + i, j - i);
      if (comp == "..") dotdot = named;
      else if (!comp.empty() && comp != ".") named = true;
      i = j + 1;
    }
    if (dotdot) {
      char p[64] = "";
      if (raw[0] != '/') {
        if (dirfd == AT_FDCWD) snprintf(p, sizeof p, "/proc/%d/cwd/", t.tid);
        else snprintf(p, sizeof p, "/proc/%d/fd/%d/", t.tid, dirfd);
      }
      std::string walk = std::string(p) + raw;
      struct stat a, b;
      if (walk.size() >= PATH_MAX || fstatat(AT_FDCWD, walk.c_str(), &a, flags & AT_SYMLINK_NOFOLLOW) != 0 ||
          fstatat(AT_FDCWD, where.c_str(), &b, AT_SYMLINK_NOFOLLOW) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return -1;
    }
  }
  if (where.size() >= PATH_MAX) return -1;
  // The monitor's stat failed: so does the tracee's, unless /proc refused the
  // monitor (a tracee that made itself non-dumpable).
  auto failed = [] { return errno == EACCES || errno == EPERM ? -1 : 0; };
  int64_t res = 0;
  if (kind == kStatStatx) {
    struct statx x;
    if (statx(AT_FDCWD, where.c_str(), stat_flags, mask, &x) != 0) return failed();
    show_through(x, t.stat_layers);
    if (write_mem(t.tid, buf, &x, sizeof x) != 0) res = -EFAULT;
  } else {
    struct stat st;
    if (fstatat(AT_FDCWD, where.c_str(), &st, stat_flags) != 0) return failed();
    show_through(st, t.stat_layers);
    if (write_mem(t.tid, buf, &st, sizeof st) != 0) res = -EFAULT;
  }
  arch::skip_syscall(t.regs, res);
  if (!set_regs(t.tid, t.regs)) return 1;  // vanished
  stats_emulated++;
  return 1;  // (the caller resumes it)
}

// At the exit of a stat-family call the kernel ran: show its result through the view.
void Tracer::patch_stat(Tracee& t) {
  uint8_t kind = t.patch_kind;
  t.patch_kind = 0;
  std::vector<int> layers = std::move(t.stat_layers);
  t.stat_layers.clear();
  if (!get_regs(t.tid, t.regs) || arch::ret(t.regs) != 0) return;
  if (kind == kStatStatx) {
    struct statx x;
    if (read_mem(t.tid, t.patch_buf, &x, sizeof x) != 0) return;
    if (show_through(x, layers)) write_mem(t.tid, t.patch_buf, &x, sizeof x);
  } else {
    struct stat st;
    if (read_mem(t.tid, t.patch_buf, &st, sizeof st) != 0) return;
    if (show_through(st, layers)) write_mem(t.tid, t.patch_buf, &st, sizeof st);
  }
  stats_patched++;
}

// Leaves t stopped for JavaScript, which answers with resume().
void Tracer::park(Tracee& t, Event& ev, EventType type) {
  ev.type = type;
  ev.tid = t.tid;
  ev.tgid = t.tgid;
  ev.nr = arch::nr(t.regs);
  for (int i = 0; i < 6; i++) ev.args[i] = arch::arg(t.regs, i);
  t.parked = true;
  t.at_exit = type == kEventSyscallExit;
  t.scratch_top = ev.scratch_top = scratch_base(t, t.regs);
  js_events++;
}

static bool is_stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

// Whether a pending wait event is the view's (a tracee's) or belongs to a child
// Node spawned for a module, which libuv must reap itself.
bool Tracer::is_tracee_event(const siginfo_t& si) {
  if (si.si_code == CLD_TRAPPED) return true;  // a ptrace stop
  pid_t pid = si.si_pid;
  if (pid == root_ || tracees_.count(pid)) return true;
  // An exit before its first stop: a tracee unless it is our own child.
  pid_t ppid = 0, pgrp = 0;
  if (!stat_ids(pid, ppid, pgrp)) return true;
  return ppid != getpid();
}

int Tracer::next(bool block, Event& ev) {
  for (;;) {
    while (!recheck_.empty()) {
      // Its inner tracer let the call go on from a seccomp stop of its own
      // filter: now the monitor's routes, on the registers as they are now.
      Recheck rc = recheck_.front();
      recheck_.pop_front();
      auto it = tracees_.find(rc.tid);
      if (it == tracees_.end()) continue;
      if (rc.from == kRecheckExit) {
        if (next_exit(it->second, ev)) return 0;
        continue;
      }
      if (on_seccomp(it->second, ev, rc.from)) return 0;
    }
    if (root_exited_ && tracees_.empty()) {
      ev.type = kEventDone;
      return 0;
    }
    int status = 0;
    pid_t tid;
    if (peek_) {
      // Peek, then consume only the view's events: waitpid(-1) would also reap
      // the children of child_process, which libuv waits for by pid.
      siginfo_t si;
      memset(&si, 0, sizeof si);
      if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL | (block ? 0 : WNOHANG)) < 0) {
        if (errno == EINTR) continue;
        if (errno == ECHILD) {
          ev.type = kEventDone;
          return 0;
        }
        return -errno;
      }
      if (si.si_pid == 0) {
        ev.type = kEventNone;
        return 0;
      }
      if (!is_tracee_event(si)) {
        ev = Event();
        ev.type = kEventForeign;
        ev.tid = si.si_pid;
        return 0;
      }
      tid = waitpid(si.si_pid, &status, __WALL | WNOHANG);
      if (tid <= 0) continue;
    } else {
      tid = waitpid(-1, &status, __WALL | (block ? 0 : WNOHANG));
      if (tid == 0) {
        ev.type = kEventNone;
        return 0;
      }
      if (tid < 0) {
        if (errno == EINTR) continue;
        if (errno == ECHILD) {
          ev.type = kEventDone;
          return 0;
        }
        return -errno;
      }
    }
    stops++;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      auto it = tracees_.find(tid);
      pid_t tgid = it != tracees_.end() ? it->second.tgid : tid;
      if (it != tracees_.end() && it->second.adopted) gone_early_.insert(tid);
      bool last_thread = threads_.count(tgid) == 0 || threads_[tgid].size() <= 1;
      emu_on_exit(tid, tgid, status, last_thread);
      drop(tid);
      int layer = layer_of(tgid);
      if (last_thread) {
        set_layer(tgid, 0);
        entered_.erase(tgid);
        layer_filter_.erase(tgid);
        layer_server_gone(tgid);
      }
      if (tid == root_) {
        root_status_ = status;
        root_exited_ = true;
        g_root_exited = 1;
      }
      ev = Event();
      ev.type = kEventExit;
      ev.tid = tid;
      ev.tgid = tgid;
      ev.status = status;
      ev.last = threads_.find(tgid) == threads_.end();
      ev.layer = layer;
      return 0;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int event = (unsigned)status >> 16;
    Tracee& t = get(tid);
    bool first = !t.started;
    t.started = true;
    switch (event) {
      case PTRACE_EVENT_SECCOMP: {
        t.floor = 0;  // a new call: nothing an inner tracer set yet
        unsigned long msg = 0;
        // RET_TRACE|tag: the program's own filter asked (emu_seccomp).
        if ((!emu.tag_data.empty() || !emu.proc_filter.empty()) && ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg) == 0 &&
            msg != 0 && emu_tag_stop(t, status, msg))
          continue;
        if (on_seccomp(t, ev)) return 0;
        continue;
      }
      case PTRACE_EVENT_FORK:
      case PTRACE_EVENT_VFORK:
      case PTRACE_EVENT_CLONE: {
        unsigned long msg = 0;
        ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
        pid_t child = (pid_t)msg;
        if (gone_early_.erase(child)) {
          // It was reported at its first stop and has exited since: the view knows.
          cont(tid);
          continue;
        }
        bool thread = false;
        if (event == PTRACE_EVENT_CLONE) {
          arch::Regs r;
          if (get_regs(tid, r)) {
            uint64_t flags = 0;
            if (arch::nr(r) == SYS_clone3) read_mem(tid, arch::arg(r, 0), &flags, sizeof flags);
            else flags = arch::arg(r, 0);
            thread = flags & CLONE_THREAD;
          }
        }
        Tracee& c = get(child);
        bool reported = c.adopted;  // the view heard of it at its first stop
        c.adopted = false;
        if (c.tgid != (thread ? t.tgid : child)) {
          auto th = threads_.find(c.tgid);
          if (th != threads_.end()) {
            th->second.erase(child);
            if (th->second.empty()) threads_.erase(th);
          }
          c.tgid = thread ? t.tgid : child;
          threads_[c.tgid].insert(child);
        }
        if (!thread && !c.known) live_add(child);
        c.known = true;
        c.ppid = thread ? t.ppid : t.tgid;
        c.exit_opt = t.exit_opt;  // the kernel copies the options to an auto-attached child
        if (!thread) emu_wake_paused(t.tgid);
        if (!thread && emu.prog_traced.count(t.tgid)) emu.prog_traced.insert(child);  // filters are inherited
        // The child is in its creator's layers, whatever adopt_orphan guessed
        // from its real parent at a first stop that came first (CLONE_PARENT),
        // unless it has entered a layer of its own since.
        if (!thread && !entered_.count(child) && layer_of(child) != layer_of(t.tgid)) set_layer(child, layer_of(t.tgid));
        if (!emu_on_fork(t, c, event)) cont(tid);
        if (reported) continue;
        ev = Event();
        ev.type = kEventSpawn;
        ev.tid = tid;
        ev.tgid = t.tgid;
        ev.child = child;
        ev.thread = thread;
        ev.layer = layer_of(t.tgid);
        return 0;
      }
      case PTRACE_EVENT_EXEC: {
        unsigned long msg = 0;
        ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
        pid_t old = (pid_t)msg;
        if (old != tid) {
          // A non-leader thread ran execve: it now has the leader's tid, and the
          // other threads are gone. Keep its syscall state under the new tid.
          auto it = tracees_.find(old);
          if (it != tracees_.end()) {
            bool await = it->second.await_exit;
            std::vector<int> exit_layers = std::move(it->second.exit_layers);  // the layers that asked for execve's exit
            std::unique_ptr<EmuTracee> e = std::move(it->second.emu);
            pid_t ppid = it->second.ppid;
            bool exit_opt = it->second.exit_opt;
            drop(old);
            // The leader (killed by the exec) left its state under this tid: a
            // park, a call's description and host paths, a wait, that are not
            // this thread's. A late resume() of the old park finds nothing parked.
            Tracee& n = get(tid);
            n.parked = n.at_exit = n.native_exit = false;
            n.patch_kind = 0;
            n.desc = nullptr;
            n.hosts.clear();
            n.wait = EmuWait();
            n.wait_pass = n.hide_next_entry = n.hide_exec_exit = false;
            n.seccomp_recheck = n.injected = false;
            n.floor = 0;
            n.stat_layers.clear();
            n.cwd_exit = false;
            n.entry_pending = 0;
            n.exit_layers = std::move(exit_layers);
            n.await_exit = await;
            n.ppid = ppid;
            n.exit_opt = exit_opt;
            if (e) {
              // The thread goes on as the leader: so does its inner tracer's view of it.
              auto tr = emu.tracers.find(e->tracer_tgid);
              if (tr != emu.tracers.end()) {
                tr->second.tracees.erase(old);
                tr->second.tracees.insert(tid);
              }
              n.emu = std::move(e);
            }
          }
        }
        Tracee& n = get(tid);
        n.known = true;
        close_mem(n.tgid);  // a new address space
        layer_filter_.erase(n.tgid);  // (a joined layer's filter is installed before the exec)
        if (n.emu && exec_gained_privileges(n)) {
          // Natively the kernel runs a setuid or file-capability program
          // traced by a tracer that could not trace the result without those
          // privileges; here the real tracer is vview, so it would run with
          // them under the inner tracer's control. It must not run at all.
          static const char m[] = "vview: a program that gains privileges at exec, traced by a tracer in the view without CAP_SYS_PTRACE: killed (natively it would run without them)\n";
          ssize_t w = write(2, m, sizeof m - 1);
          (void)w;
          kill(n.tgid, SIGKILL);
          cont(tid);
        } else if (n.emu && (n.emu->options & PTRACE_O_TRACEEXEC)) {
          emu_hold(n, status, EmuTracee::Event, (uint64_t)old);
        } else if (n.emu && !n.emu->seized) {
          // Natively a traced exec without TRACEEXEC sends SIGTRAP to the tracee itself.
          siginfo_t si;
          memset(&si, 0, sizeof si);
          si.si_signo = SIGTRAP;
          si.si_code = SI_USER;
          si.si_pid = n.tgid;
          si.si_uid = getuid();
          n.hide_exec_exit = true;
          emu_hold(n, (SIGTRAP << 8) | 0x7f, EmuTracee::SigDelivery, 0, &si);
        } else {
          cont(tid);
        }
        ev = Event();
        ev.type = kEventExec;
        ev.tid = tid;
        ev.tgid = n.tgid;
        ev.old_tid = old;
        ev.layer = layer_of(n.tgid);
        return 0;
      }
      case PTRACE_EVENT_STOP:
        t.listening = false;
        if (t.wait.paused && !is_stop_signal(sig)) {
          // An inner tracer's wait sleeping in pause(), woken by a report.
          emu_wait_unpause(t, 0);
          cont(tid);
          continue;
        }
        if (t.emu) {
          // Its inner tracer decides: a group-stop or an interrupt (its own
          // INTERRUPT, a SIGCONT after its LISTEN, a new child's first stop).
          EmuTracee& e = *t.emu;
          if (first && !is_stop_signal(sig) && !e.first_stop) {
            // The kernel's first stop for the monitor, not the inner tracer's,
            // unless the inner tracer INTERRUPTed it before it came.
            if (e.interrupt_pending) {
              e.interrupt_pending = false;
              emu_hold(t, status, EmuTracee::Interrupt);
            } else {
              cont(tid);
            }
          } else if (is_stop_signal(sig)) {
            e.first_stop = false;
            emu_hold(t, e.seized ? status : (sig << 8) | 0x7f, EmuTracee::GroupStop);
          } else if (e.first_stop) {
            emu_first_stop(t);
          } else if (e.seized) {
            emu_hold(t, status, EmuTracee::Interrupt);
          } else {
            cont(tid);
          }
          continue;
        }
        if (is_stop_signal(sig)) {
          // Group-stop (Ctrl-Z, SIGSTOP): stay stopped, but let the kernel tell the
          // real parent and wake us on SIGCONT.
          ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
          t.listening = true;
        } else if (!t.known && tid != root_) {
          // A new task's first stop came before its parent's fork/clone event.
          // Waiting for that event could wait forever (the parent may be killed
          // in between); ask /proc which process it belongs to and go on. The
          // view hears of the new task now, before any of its calls (the
          // parent's event, when it comes, is the same news again).
          pid_t parent = adopt_orphan(t);
          t.adopted = parent > 0;
          // A child of an emulated tracee may be the inner tracer's too: held
          // until the parent's fork event says (emu_on_fork).
          if (parent > 0 && emu_wants_children(parent)) t.first_held = true;
          else cont(tid);
          if (parent > 0) {
            ev = Event();
            ev.type = kEventSpawn;
            ev.tid = parent;
            ev.tgid = parent;
            ev.child = tid;
            ev.thread = t.tgid != tid;
            ev.layer = layer_of(t.tgid);
            return 0;
          }
        } else {
          cont(tid);
        }
        continue;
      case 0:
        if (sig == (SIGTRAP | 0x80)) {
          if (t.injected) {
            emu_inject_done(t);
            continue;
          }
          if (t.wait.active || t.wait.blocking) {
            emu_wait_exit(t);
            continue;
          }
          // A tracee whose inner tracer asked PTRACE_SYSCALL: an entry stop is
          // the inner tracer's alone (it comes before the seccomp stop, so it
          // shows the program's own registers); at an exit stop the monitor's
          // own exit work comes first, then the inner tracer's exit stop.
          bool emu_sys = t.emu && t.emu->syscall_mode;
          if (emu_sys) {
            bool entry = false;
            if (!emu_syscall_stop(t, entry)) continue;
            if (entry) continue;
            if (t.hide_exec_exit) emu_sys = false;  // natively the SIGTRAP came after it
          }
          t.hide_exec_exit = false;
          auto done = [&] {
            if (emu_sys) emu_hold(t, t.emu->options & PTRACE_O_TRACESYSGOOD ? status : (SIGTRAP << 8) | 0x7f, EmuTracee::SysExit);
            else if (!emu_step_trap(t)) cont(tid);
          };
          if (!t.await_exit) {
            done();
            continue;
          }
          t.await_exit = false;
          if (t.native_exit) {
            t.native_exit = false;
            if (t.patch_kind) patch_stat(t);
            if (t.cwd_exit) resolver.forget_cwds();
            t.cwd_exit = false;
          }
          if (t.exit_layers.empty()) {
            done();
            continue;
          }
          if (!get_regs(tid, t.regs)) continue;
          int64_t r = arch::ret(t.regs);
          if (r <= -512 && r >= -516) {
            t.exit_layers.clear();
            done();  // interrupted: the restarted call stops at seccomp again
            continue;
          }
          if (next_exit(t, ev)) return 0;
          done();
          continue;
        }
        // A signal for an inner tracer whose wait sleeps in pause(): it
        // interrupts the wait, as natively.
        if (t.wait.paused) emu_wait_unpause(t, sig);
        if (t.emu) {
          if (t.emu->pass_signal == sig) {
            t.emu->pass_signal = 0;  // re-injected from a synthesized stop: delivered now
            cont(tid, sig);
          } else {
            emu_hold(t, status, EmuTracee::SigDelivery);
          }
          continue;
        }
        // Signal-delivery-stop: deliver it unchanged.
        cont(tid, sig);
        continue;
      case PTRACE_EVENT_EXIT:
        if (t.emu && (t.emu->options & PTRACE_O_TRACEEXIT)) {
          unsigned long msg = 0;
          ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
          emu_hold(t, status, EmuTracee::Event, msg);
          continue;
        }
        cont(tid);
        continue;
      default:
        cont(tid);
        continue;
    }
  }
}

// After an emulated tracee's exec: it gained privileges (a setuid or setgid
// program, file capabilities) that its inner tracer, lacking CAP_SYS_PTRACE,
// could not trace natively.
bool Tracer::exec_gained_privileges(const Tracee& t) {
  std::string uid, gid, cap, tcap;
  if (!status_field(t.tgid, "Uid:", uid) || !status_field(t.tgid, "Gid:", gid) || !status_field(t.tgid, "CapEff:", cap)) return false;
  unsigned long ru = 0, eu = 0, rg = 0, eg = 0;
  if (sscanf(uid.c_str(), "%lu %lu", &ru, &eu) != 2 || sscanf(gid.c_str(), "%lu %lu", &rg, &eg) != 2) return false;
  bool gained = eu != ru || eg != rg || (ru != 0 && strtoull(cap.c_str(), nullptr, 16) != 0);
  if (!gained) return false;
  bool mighty = status_field(t.emu->tracer_tgid, "CapEff:", tcap) && (strtoull(tcap.c_str(), nullptr, 16) >> CAP_SYS_PTRACE & 1);
  return !mighty;
}

bool Tracer::exec_is_32bit(Tracee& t, const Event& ev) {
  const bool at = arch::nr(t.regs) == SYS_execveat;
  std::string file;
  if (!ev.paths.empty() && !ev.paths[0].error && !ev.paths[0].raw.empty()) {
    // Resolved for a module (a mount): where the kernel will look.
    file = !ev.paths[0].host.empty() ? ev.paths[0].host : ev.paths[0].canonical;
  }
  if (file.empty()) {
    std::string raw;
    if (read_str(t.tid, arch::arg(t.regs, at ? 1 : 0), PATH_MAX - 1, raw, mem_fd(t.tgid)) != 0) return false;
    int dirfd = at ? (int)(int32_t)arch::arg(t.regs, 0) : AT_FDCWD;
    char base[64];
    if (dirfd == AT_FDCWD) snprintf(base, sizeof base, "/proc/%d/cwd", t.tid);
    else snprintf(base, sizeof base, "/proc/%d/fd/%d", t.tid, dirfd);
    if (raw.empty()) file = base;
    else if (raw[0] == '/') file = raw;
    else file = std::string(base) + "/" + raw;
    // /proc/self as the tracee means it.
    if (!file.compare(0, 11, "/proc/self/")) file = "/proc/" + std::to_string(t.tgid) + file.substr(10);
    else if (!file.compare(0, 18, "/proc/thread-self/")) file = "/proc/" + std::to_string(t.tgid) + "/task/" + std::to_string(t.tid) + file.substr(17);
  }
  int fd = open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;  // the kernel answers
  unsigned char h[5];
  bool elf32 = pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && !memcmp(h, "\x7f" "ELF", 4) && h[4] == 1 /* ELFCLASS32 */;
  close(fd);
  return elf32;
}

uint64_t Tracer::scratch_base(const Tracee& t, const arch::Regs& r) {
  uint64_t top = arch::sp(r) - arch::kRedZone;
  // Only what the inner tracer itself pointed an argument at: any other
  // pointer below the stack may be live data (another thread's stack).
  if (t.floor && t.floor < top && t.floor + (1u << 20) >= top) top = t.floor;
  return top & ~(uint64_t)15;
}

// Writes s (with its NUL) below the parked tracee's stack; its address, or -errno.
int64_t Tracer::put_string(Tracee& t, const std::string& s) {
  t.scratch_top = (t.scratch_top - (s.size() + 1)) & ~(uint64_t)15;
  if (write_mem(t.tid, t.scratch_top, s.c_str(), s.size() + 1) != 0) return -EFAULT;
  return (int64_t)t.scratch_top;
}

int Tracer::resume(pid_t tid, const Action& a) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || !it->second.parked) return -ESRCH;
  Tracee& t = it->second;
  t.parked = false;
  bool dirty = false;
  bool fault = false;
  // A joined layer's server used scratch memory for this call: strings go below it.
  if (!t.at_exit && a.scratch_top && a.scratch_top < t.scratch_top) t.scratch_top = a.scratch_top & ~(uint64_t)15;
  if (!t.at_exit) {
    if (a.kind == kResumeReturn) {
      arch::skip_syscall(t.regs, a.value);
      dirty = true;
    } else {
      for (const auto& [i, v] : a.set_args) {
        arch::set_arg(t.regs, i, v);
        dirty = true;
      }
      // A string that cannot be written below the stack (no room: a stack
      // pointer the tracee set itself) fails the call with EFAULT.
      for (const auto& [i, v] : a.set_strings) {
        int64_t addr = put_string(t, v);
        if (addr < 0) fault = true;
        else arch::set_arg(t.regs, i, (uint64_t)addr);
        dirty = true;
      }
      for (size_t i = 0; !fault && t.desc && i < t.desc->npaths && i < t.hosts.size(); i++) {
        if (!(a.host_paths & (1u << i)) || t.hosts[i].empty()) continue;
        int64_t addr = put_string(t, t.hosts[i]);
        if (addr < 0) fault = true;
        else arch::set_arg(t.regs, t.desc->paths[i].arg, (uint64_t)addr);
        dirty = true;
      }
      if (fault) arch::skip_syscall(t.regs, -EFAULT);
    }
  } else {
    if (a.kind == kResumeReturn) {
      arch::set_ret(t.regs, a.value);
      dirty = true;
    } else if (a.kind == kResumeRestart) {
      arch::restart_syscall(t.regs);
      dirty = true;
    }
  }
  const SyscallDesc* desc = t.desc;
  t.desc = nullptr;
  t.hosts.clear();
  if (dirty && !set_regs(tid, t.regs)) return -errno;
  if (!t.at_exit) {
    if (a.kind == kResumeContinue && !fault) {
      // The call goes on: to the layer outside this one, or to the kernel.
      if (a.want_exit) t.exit_layers.push_back(t.park_layer);
      int parent = layers_[t.park_layer]->parent;
      if (parent >= 0) recheck_.push_back({tid, parent});
      else finish_entry(t);
      return 0;
    }
    // Answered at entry. The layers inside it that asked for the exit see it
    // there; those whose stat view it passed over show its result there.
    if (!t.stat_layers.empty() && desc && desc->stat_kind && a.kind == kResumeReturn && a.value == 0) {
      uint8_t kind = desc->stat_kind;
      t.patch_kind = kind;
      t.patch_buf = arch::arg(t.regs, kind == kStatAt ? 2 : kind == kStatStatx ? 4 : 1);
      t.native_exit = t.await_exit = true;
    } else {
      t.stat_layers.clear();
    }
    if (!t.exit_layers.empty()) t.await_exit = true;
    if (ptrace((enum __ptrace_request)resume_req(t), tid, nullptr, nullptr) != 0) return -errno;
    return 0;
  }
  if (a.kind == kResumeRestart) t.exit_layers.clear();
  if (!t.exit_layers.empty()) {
    // The layers inside it that asked for the exit see the result it left.
    recheck_.push_back({tid, kRecheckExit});
    return 0;
  }
  if (t.at_exit && a.kind != kResumeRestart && emu_step_trap(t)) return 0;
  if (t.at_exit && t.emu && t.emu->syscall_mode) {
    if (a.kind == kResumeRestart) {
      t.hide_next_entry = true;  // the module's restart, not the program's call
    } else {
      // The modules have fixed the result: now the inner tracer's exit stop.
      emu_hold(t, (t.emu->options & PTRACE_O_TRACESYSGOOD ? (SIGTRAP | 0x80) : SIGTRAP) << 8 | 0x7f, EmuTracee::SysExit);
      return 0;
    }
  }
  if (ptrace((enum __ptrace_request)resume_req(t), tid, nullptr, nullptr) != 0) return -errno;
  return 0;
}

// prctl(kJoinPrctl, ...): an inner vview joins this monitor (tracer.h).
bool Tracer::on_join(Tracee& t, Event& ev) {
  auto answer = [&](int64_t r) {
    arch::skip_syscall(t.regs, r);
    set_regs(t.tid, t.regs);
    cont(t.tid);
  };
  uint64_t op = arch::arg(t.regs, 1), arg = arch::arg(t.regs, 2);
  if (op == kJoinOpen) {
    // A layer whose server has exited and whose processes are gone (its inner
    // layers' too) is free again.
    int id = -1;
    for (size_t i = 1; i < layers_.size() && id < 0; i++) {
      if (layers_[i]->server != -1 || layers_[i]->processes != 0) continue;
      bool used = false;
      for (const auto& L : layers_) used |= L->parent == (int)i && L->server != -1;
      if (!used) id = (int)i;
    }
    if (id < 0 && layers_.size() >= 64) return answer(-EAGAIN), false;
    // The caller's socket, copied into the monitor: the layer's channel. The
    // stop says who asked: no path or variable anyone could forge.
    int pidfd = (int)syscall(SYS_pidfd_open, t.tgid, 0);
    if (pidfd < 0) return answer(-errno), false;
    int fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)arg, 0);
    int e = errno;
    close(pidfd);
    if (fd < 0) return answer(-e), false;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
      close(fd);
      return answer(-EINVAL), false;
    }
    auto L = std::make_unique<Layer>();
    L->parent = layer_of(t.tgid);
    L->server = t.tgid;
    if (id < 0) {
      id = (int)layers_.size();
      layers_.push_back(std::move(L));
    } else {
      layers_[id] = std::move(L);
    }
    answer(id);
    ev = Event();
    ev.type = kEventJoin;
    ev.tid = t.tid;
    ev.tgid = t.tgid;
    ev.layer = id;
    ev.parent = layers_[id]->parent;
    ev.fd = fd;
    return true;
  }
  if (op == kJoinEnter) {
    if (arg == 0 || arg >= layers_.size()) return answer(-EINVAL), false;
    int id = (int)arg;
    Layer& L = *layers_[id];
    if (layer_of(t.tgid) == id) return answer(0), false;
    // Only the layer's server's own child, once, single-threaded, still in
    // the layer the server is in: a program in a view cannot put processes
    // outside its own subtree under a layer.
    pid_t ppid = 0, pgrp = 0;
    auto th = threads_.find(t.tgid);
    if (!L.configured || L.entered || L.server <= 0 || !stat_ids(t.tgid, ppid, pgrp) || ppid != L.server ||
        layer_of(t.tgid) != L.parent || (th != threads_.end() && th->second.size() > 1))
      return answer(-EPERM), false;
    // The server answers the calls of what the process becomes: a setuid
    // program must not gain privileges it could then be made to misuse.
    // So NO_NEW_PRIVS, unless the server could trace anything anyway
    // (CAP_SYS_PTRACE: vview run as root).
    std::string nnp, caps;
    bool contained = status_field(t.tgid, "NoNewPrivs:", nnp) && atoi(nnp.c_str()) == 1;
    bool mighty = status_field(L.server, "CapEff:", caps) && (strtoull(caps.c_str(), nullptr, 16) >> CAP_SYS_PTRACE & 1);
    if (!contained && !mighty) return answer(-EPERM), false;
    L.entered = true;
    set_layer(t.tgid, id);
    entered_.insert(t.tgid);
    layer_filter_.insert(t.tgid);
    return answer(0), false;
  }
  return answer(-EINVAL), false;
}

// Moves a process to a layer (0: none, or gone), keeping each joined
// layer's count of the processes in it or in layers inside it.
void Tracer::set_layer(pid_t tgid, int layer) {
  int old = layer_of(tgid);
  for (int l = old; l > 0; l = layers_[l]->parent) layers_[l]->processes--;
  if (layer) layer_of_[tgid] = layer;
  else layer_of_.erase(tgid);
  for (int l = layer; l > 0; l = layers_[l]->parent) layers_[l]->processes++;
}

// The server of joined layers exited: the processes in them are killed, as
// the kernel kills a tracer's tracees under PTRACE_O_EXITKILL.
void Tracer::layer_server_gone(pid_t tgid) {
  bool any = false;
  for (auto& L : layers_)
    if (L->server == tgid) {
      L->server = -1;
      any = true;
    }
  if (!any) return;
  for (const auto& [pid, li] : layer_of_) {
    for (int l = li; l > 0; l = layers_[l]->parent)
      if (layers_[l]->server == -1) {
        kill(pid, SIGKILL);
        break;
      }
  }
}

int64_t Tracer::scratch(pid_t tid, size_t len) {
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || !it->second.parked) return -ESRCH;
  Tracee& t = it->second;
  t.scratch_top = (t.scratch_top - len) & ~(uint64_t)15;
  return (int64_t)t.scratch_top;
}

}  // namespace vview
