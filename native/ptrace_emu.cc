// The emulated ptrace, phase 1 (docs/ptrace-emulation.md): the requests strace
// makes, the stops it sees, and its waits. See ptrace_emu.h.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <elf.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <asm/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memory.h"
#include "tracer.h"

namespace vview {

namespace {

constexpr unsigned kOptMask = PTRACE_O_MASK;  // the options the kernel knows
constexpr long kSetSyscallInfo = 0x4212;      // PTRACE_SET_SYSCALL_INFO (Linux 6.16; not in these headers)

// Real, effective, saved uid.
bool uids(pid_t pid, long u[3]) {
  std::string s;
  if (!status_field(pid, "Uid:", s)) return false;
  return sscanf(s.c_str(), "%ld %ld %ld", &u[0], &u[1], &u[2]) == 3;
}

// Whether tracer may attach to target, by the kernel's rule for PTRACE_ATTACH
// and SEIZE (__ptrace_may_access, PTRACE_MODE_ATTACH_REALCREDS): unless the
// tracer has CAP_SYS_PTRACE, its real uid and gid must equal the target's
// real, effective and saved ones, and the target must be dumpable (the files
// of a process that is not, /proc/PID/mem among them, are owned by root; its
// /proc/PID directory keeps its owner). Yama is not checked (this
// kernel has none; see docs/ptrace-emulation.md, decision 8).
bool may_attach(pid_t tracer, pid_t target) {
  std::string cap, tu, tg, xu, xg;
  if (!status_field(tracer, "CapEff:", cap) || !status_field(tracer, "Uid:", tu) || !status_field(tracer, "Gid:", tg) ||
      !status_field(target, "Uid:", xu) || !status_field(target, "Gid:", xg))
    return false;
  unsigned long long eff = strtoull(cap.c_str(), nullptr, 16);
  if (eff & (1ull << 19)) return true;  // CAP_SYS_PTRACE
  long a[3], b[3], g[3], h[3];
  if (sscanf(tu.c_str(), "%ld %ld %ld", &a[0], &a[1], &a[2]) != 3 || sscanf(xu.c_str(), "%ld %ld %ld", &b[0], &b[1], &b[2]) != 3 ||
      sscanf(tg.c_str(), "%ld %ld %ld", &g[0], &g[1], &g[2]) != 3 || sscanf(xg.c_str(), "%ld %ld %ld", &h[0], &h[1], &h[2]) != 3)
    return false;
  for (int i = 0; i < 3; i++)
    if (b[i] != a[0] || h[i] != g[0]) return false;
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/mem", target);
  struct stat st;
  if (stat(p, &st) != 0) return false;
  return st.st_uid == (uid_t)b[1] || b[1] == 0;  // owned by root while not dumpable
}

pid_t pgid_of(pid_t pid) {
  pid_t ppid = 0, pgrp = -1;
  return stat_ids(pid, ppid, pgrp) ? pgrp : -1;
}

// The inner tracer catches or blocks SIGCHLD: it hears of each report by one.
// (Otherwise a SIGCHLD would only cost it a signal-delivery-stop.)
bool wants_sigchld(pid_t tgid) {
  const uint64_t bit = 1ull << (SIGCHLD - 1);
  for (const char* key : {"SigCgt:", "SigBlk:"}) {
    std::string s;
    if (status_field(tgid, key, s) && (strtoull(s.c_str(), nullptr, 16) & bit)) return true;
  }
  return false;
}

// At an exit stop the inner tracer is shown the program's own call (orig_rax
// and the arguments as the program made them), not what the view's modules
// gave the kernel: the overlay, for GETREGS, PEEKUSER and their writes.
bool overlaid(const EmuTracee& e) { return e.kind == EmuTracee::SysExit && e.have_entry; }
void overlay(const EmuTracee& e, arch::Regs& r) {
  r.orig_rax = e.entry.orig_rax;
  for (int i = 0; i < 6; i++) arch::set_arg(r, i, arch::arg(e.entry, i));
}

bool debug() {
  static int on = -1;
  if (on < 0) on = getenv("VVIEW_EMU_DEBUG") != nullptr;
  return on;
}
#define DBG(...) do { if (debug()) fprintf(stderr, "emu: " __VA_ARGS__); } while (0)

}  // namespace

bool Tracer::emu_on_seccomp(Tracee& t) {
  long nr = arch::nr(t.regs);
  if (nr == SYS_ptrace) {
    // First the monitor's own open filter, once per process (TracerPid).
    if (!emu.proc_filter.count(t.tgid) && !emu.prog_traced.count(t.tgid)) {
      emu.proc_filter.insert(t.tgid);
      if (emu_inject_proc_filter(t)) return true;
    }
    emu.requests++;
    bool resumed = false;
    int64_t r = emu_ptrace(t, resumed);
    DBG("%d ptrace(%#lx, %d, %#lx, %#lx) = %ld\n", t.tid, (long)arch::arg(t.regs, 0), (int)arch::arg(t.regs, 1),
        (long)arch::arg(t.regs, 2), (long)arch::arg(t.regs, 3), (long)r);
    arch::skip_syscall(t.regs, r);
    set_regs(t.tid, t.regs);
    cont(t.tid);
    return true;
  }
  if (nr == SYS_wait4 || nr == SYS_waitid) {
    // A tracer made by its child's TRACEME: its open filter at its first wait.
    if (!t.wait_pass && !emu.proc_filter.count(t.tgid) && !emu.prog_traced.count(t.tgid) && emu.tracers.count(t.tgid)) {
      emu.proc_filter.insert(t.tgid);
      if (emu_inject_proc_filter(t)) return true;
    }
    emu_wait_entry(t);
    return true;
  }
  if (nr == SYS_seccomp || nr == SYS_prctl) return emu_seccomp(t);
  return false;
}

// ---- the program's own seccomp filters --------------------------------------------

// seccomp(SECCOMP_SET_MODE_FILTER) and prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)
// by a program in the view. The kernel installs its filter for real (with its
// flags, inheritance, TSYNC, NO_NEW_PRIVS and errors), but each RET_TRACE|data
// return becomes RET_TRACE|tag: at a seccomp stop with a tag the program's
// filter asked for it, and its emulated tracer gets the stop with the data
// (emu_tag_stop). Its other actions the kernel applies as it would natively.
// A user-notification listener is refused (EINVAL, the answer of a kernel
// without it): the program's supervisor would answer calls before the view's
// modules see them.
bool Tracer::emu_seccomp(Tracee& t) {
  long nr = arch::nr(t.regs);
  auto answer = [&](int64_t r) {
    arch::skip_syscall(t.regs, r);
    set_regs(t.tid, t.regs);
    cont(t.tid);
    return true;
  };
  // The first filter of a process that entered a joined layer is that
  // layer's (its RET_TRACE stops are the monitor's): installed as it is.
  if (!layer_filter_.empty() && layer_filter_.count(t.tgid)) {
    bool install = nr == SYS_prctl ? arch::arg(t.regs, 0) == PR_SET_SECCOMP && arch::arg(t.regs, 1) == SECCOMP_MODE_FILTER
                                   : arch::arg(t.regs, 0) == SECCOMP_SET_MODE_FILTER;
    if (install) {
      // (Until its exec: a first try without NO_NEW_PRIVS fails with EACCES,
      // and the retry is the layer's filter too.)
      cont(t.tid);
      return true;
    }
  }
  if (nr == SYS_prctl) {
    if (arch::arg(t.regs, 0) != PR_SET_SECCOMP) return false;  // any other prctl: the modules'
    if (arch::arg(t.regs, 1) != SECCOMP_MODE_FILTER) return cont(t.tid), true;
  } else {
    uint64_t op = arch::arg(t.regs, 0), flags = arch::arg(t.regs, 1);
    if (op == SECCOMP_GET_ACTION_AVAIL) {
      uint32_t action = 0;
      if (read_mem(t.tid, arch::arg(t.regs, 2), &action, sizeof action) == 0 && action == SECCOMP_RET_USER_NOTIF)
        return answer(-EOPNOTSUPP);
      return cont(t.tid), true;
    }
    if (op != SECCOMP_SET_MODE_FILTER) return cont(t.tid), true;
    if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) return answer(-EINVAL);
  }
  // A bad program is the kernel's to refuse, with its own error.
  struct sock_fprog prog;
  if (read_mem(t.tid, arch::arg(t.regs, 2), &prog, sizeof prog) != 0 || prog.len == 0 || prog.len > BPF_MAXINSNS)
    return cont(t.tid), true;
  std::vector<sock_filter> code(prog.len);
  if (read_mem(t.tid, (uint64_t)prog.filter, code.data(), code.size() * sizeof(sock_filter)) != 0) return cont(t.tid), true;
  bool changed = false;
  for (sock_filter& i : code) {
    if (BPF_CLASS(i.code) != BPF_RET || BPF_RVAL(i.code) != BPF_K) continue;
    if ((i.k & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_TRACE) continue;
    int tag = emu.tag((uint16_t)(i.k & SECCOMP_RET_DATA));
    if (tag < 0) return answer(-ENOMEM);
    i.k = SECCOMP_RET_TRACE | (uint32_t)tag;
    changed = true;
  }
  // (A `ret A` returning TRACE keeps its data: the monitor takes that stop as
  // its own. libseccomp, strace and vview itself return constants.)
  if (!changed) return cont(t.tid), true;
  // Its TRACE returns must win over the TracerPid filter's, which would be
  // newer: that filter is not given to this process (or its children).
  emu.prog_traced.insert(t.tgid);
  uint64_t top = scratch_base(t, t.regs);
  uint64_t at = (top - code.size() * sizeof(sock_filter)) & ~(uint64_t)15;
  struct sock_fprog mine = {prog.len, (sock_filter*)at};
  uint64_t pat = (at - sizeof mine) & ~(uint64_t)15;
  if (write_mem(t.tid, at, code.data(), code.size() * sizeof(sock_filter)) != 0 || write_mem(t.tid, pat, &mine, sizeof mine) != 0)
    return answer(-EFAULT);
  arch::Regs r = t.regs;
  arch::set_arg(r, 2, pat);
  set_regs(t.tid, r);
  cont(t.tid);
  return true;
}

// ---- TracerPid ----------------------------------------------------------------------

// The process calls ptrace: before its call, it installs (for all its threads)
// a filter that stops its open family with kTagProc. The call is swapped for
// seccomp(2) at this stop, and put back at that call's exit stop.
bool Tracer::emu_inject_proc_filter(Tracee& t) {
  static const sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch::kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | PtraceEmu::kTagProc),
  };
  const size_t n = sizeof prog / sizeof prog[0];
  uint64_t top = scratch_base(t, t.regs);
  uint64_t at = (top - sizeof prog) & ~(uint64_t)15;
  struct sock_fprog fp = {(unsigned short)n, (sock_filter*)at};
  uint64_t pat = (at - sizeof fp) & ~(uint64_t)15;
  if (write_mem(t.tid, at, prog, sizeof prog) != 0 || write_mem(t.tid, pat, &fp, sizeof fp) != 0) return false;
  arch::Regs r = t.regs;
  r.orig_rax = SYS_seccomp;
  arch::set_arg(r, 0, SECCOMP_SET_MODE_FILTER);
  arch::set_arg(r, 1, SECCOMP_FILTER_FLAG_TSYNC);
  arch::set_arg(r, 2, pat);
  if (!set_regs(t.tid, r)) return false;
  t.inject_regs = t.regs;
  t.injected = true;
  ptrace(PTRACE_SYSCALL, t.tid, nullptr, nullptr);
  return true;
}

void Tracer::emu_inject_done(Tracee& t) {
  t.injected = false;
  arch::Regs r = t.inject_regs;
  // The original call again: back to its syscall instruction, its number in
  // rax; it stops at its seccomp stop as before (now with the filter).
  r.rip -= arch::kSyscallInsnLen;
  r.rax = r.orig_rax;
  set_regs(t.tid, r);
  if (t.emu && t.emu->syscall_mode) t.hide_next_entry = true;  // not the program's own call
  cont(t.tid);
}

// An open by an inner tracer or a TRACEME tracee: /proc/PID/status (or
// /proc/PID/task/TID/status, self, thread-self) of a process of the view is
// served as a snapshot whose TracerPid is the emulated tracer's (0 for none),
// not the monitor's. Other paths are untouched.
void Tracer::emu_proc_open(Tracee& t) {
  if (!get_regs(t.tid, t.regs)) return;
  long nr = arch::nr(t.regs);
  int pa = nr == SYS_open ? 0 : 1;
  std::string p;
  if (read_str(t.tid, arch::arg(t.regs, pa), 64, p) != 0 || p.compare(0, 6, "/proc/") != 0) return;
  // Reads only: a write (EACCES or EIO from the kernel) stays the kernel's.
  uint64_t flags = 0;
  if (nr == SYS_openat2) {
    if (read_mem(t.tid, arch::arg(t.regs, 2), &flags, sizeof flags) != 0) return;
  } else {
    flags = arch::arg(t.regs, pa + 1);
  }
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_PATH))) return;
  const char* c = p.c_str() + 6;
  pid_t who = 0;
  auto num = [](const char*& c) {
    long v = 0;
    if (*c < '0' || *c > '9') return -1L;
    while (*c >= '0' && *c <= '9') v = v * 10 + (*c++ - '0');
    return v;
  };
  if (!strncmp(c, "self/", 5)) who = t.tgid, c += 5;
  else if (!strncmp(c, "thread-self/", 12)) who = t.tid, c += 12;
  else {
    long v = num(c);
    if (v <= 0 || *c != '/') return;
    who = (pid_t)v;
    c++;
  }
  if (!strncmp(c, "task/", 5)) {
    c += 5;
    long v = num(c);
    if (v <= 0 || *c != '/') return;
    who = (pid_t)v;
    c++;
  }
  if (strcmp(c, "status") != 0) return;
  auto it = tracees_.find(who);
  if (it == tracees_.end()) return;  // not the view's: the kernel's answer is right
  pid_t shown = it->second.emu ? it->second.emu->tracer_tgid : 0;
  char src[64];
  snprintf(src, sizeof src, "/proc/%d/task/%d/status", it->second.tgid, who);
  std::string text;
  if (!read_proc(src, text)) return;
  size_t at = text.find("\nTracerPid:\t");
  if (at == std::string::npos) return;
  at += 12;
  size_t end = text.find('\n', at);
  if (end == std::string::npos) return;
  text.replace(at, end - at, std::to_string(shown));
  if (emu.proc_dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/vview-proc-XXXXXX";
    std::vector<char> b(tmpl.begin(), tmpl.end());
    b.push_back(0);
    if (!mkdtemp(b.data())) return;
    chmod(b.data(), 0755);
    emu.proc_dir = b.data();
    static std::string* dir = nullptr;
    if (!dir) {
      dir = &emu.proc_dir;
      atexit([] {
        // The snapshots: one per reader thread (see below).
        if (dir && !dir->empty()) {
          if (DIR* d = opendir(dir->c_str())) {
            while (struct dirent* e = readdir(d))
              if (e->d_name[0] != '.') unlink((*dir + "/" + e->d_name).c_str());
            closedir(d);
          }
          rmdir(dir->c_str());
        }
      });
    }
  }
  // One file per reader thread, replaced atomically: an earlier open of it
  // keeps its own copy.
  std::string file = emu.proc_dir + "/status-" + std::to_string(t.tid);
  std::string tmpf = file + ".new";
  int out = open(tmpf.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
  if (out < 0) return;
  bool ok = write(out, text.data(), text.size()) == (ssize_t)text.size();
  close(out);
  if (!ok || rename(tmpf.c_str(), file.c_str()) != 0) return;
  t.scratch_top = scratch_base(t, t.regs);
  int64_t addr = put_string(t, file);
  if (addr < 0) return;
  arch::set_arg(t.regs, pa, (uint64_t)addr);
  set_regs(t.tid, t.regs);
}

bool Tracer::emu_tag_stop(Tracee& t, int status, uint64_t tag) {
  if (tag == PtraceEmu::kTagProc) {
    emu_proc_open(t);
    return false;  // then the monitor's own routes
  }
  if (tag > emu.tag_data.size()) return false;  // not a tag: the monitor's own stop
  uint16_t data = emu.tag_data[tag - 1];
  if (t.emu && (t.emu->options & PTRACE_O_TRACESECCOMP)) {
    t.seccomp_recheck = true;
    t.emu->have_entry = false;
    emu_hold(t, status, EmuTracee::Seccomp, data);
    return true;
  }
  // RET_TRACE and no tracer that asked for seccomp stops: ENOSYS, as natively.
  arch::Regs r;
  if (!get_regs(t.tid, r)) return true;
  arch::skip_syscall(r, -ENOSYS);
  set_regs(t.tid, r);
  cont(t.tid);
  return true;
}

void Tracer::emu_resume_real(Tracee& x, int sig) {
  if (x.seccomp_recheck) {
    // Still in its real seccomp stop: the call goes on through the monitor's
    // own routes first (next()), on the registers the inner tracer left. The
    // signal is dropped, as the kernel drops it at an event stop.
    x.seccomp_recheck = false;
    if (x.emu && x.emu->syscall_mode) {
      // Its exit stop is the inner tracer's: the overlay shows it the
      // registers it left, not what the monitor's modules put there.
      x.emu->have_entry = get_regs(x.tid, x.emu->entry);
    }
    recheck_.push_back({x.tid, -2});
    return;
  }
  ptrace((enum __ptrace_request)resume_req(x), x.tid, nullptr, (void*)(long)sig);
}

// ---- requests -------------------------------------------------------------------

int64_t Tracer::emu_ptrace(Tracee& t, bool& resumed) {
  const arch::Regs& c = t.regs;
  long req = (long)arch::arg(c, 0);
  pid_t pid = (pid_t)arch::arg(c, 1);
  uint64_t addr = arch::arg(c, 2), data = arch::arg(c, 3);

  if (req == PTRACE_TRACEME) {
    if (t.emu) return -EPERM;
    // The tracer is the real parent, which must be in the view.
    pid_t parent = t.ppid;
    auto pit = tracees_.find(parent);
    if (parent <= 0 || pit == tracees_.end() || !pit->second.known || parent == t.tgid) return -EPERM;
    t.emu = std::make_unique<EmuTracee>();
    t.emu->tracer_tgid = parent;
    emu.tracers[parent].tracees.insert(t.tid);
    // The parent may already be in a wait the kernel runs (it had no tracee
    // then): interrupted, the wait restarts and is answered here from now on.
    auto th = threads_.find(parent);
    if (th != threads_.end())
      for (pid_t tid : th->second) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/syscall", tid);
        std::string sc;
        if (!read_proc(p, sc)) continue;
        if (!sc.compare(0, 3, "61 ") || !sc.compare(0, 4, "247 ") || !sc.compare(0, 7, "running"))
          ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
      }
    return 0;
  }
  if (req == PTRACE_SEIZE || req == PTRACE_ATTACH) {
    bool seize = req == PTRACE_SEIZE;
    if (seize && (addr != 0 || (data & ~(uint64_t)kOptMask))) return -EIO;
    auto it = tracees_.find(pid);
    if (pid <= 0 || it == tracees_.end() || !it->second.known) {
      // Nothing in a view traces a process outside it: EPERM, as for a
      // process one may not trace; ESRCH when there is no such process.
      char p[64];
      snprintf(p, sizeof p, "/proc/%d", pid);
      return pid > 0 && access(p, F_OK) == 0 ? -EPERM : -ESRCH;
    }
    Tracee& x = it->second;
    if (x.tgid == t.tgid || x.emu) return -EPERM;
    if (!may_attach(t.tid, pid)) return -EPERM;
    x.emu = std::make_unique<EmuTracee>();
    x.emu->tracer_tgid = t.tgid;
    x.emu->seized = seize;
    x.emu->options = seize ? (uint32_t)data : 0;
    emu.tracers[t.tgid].tracees.insert(pid);
    if (!seize) {
      // PTRACE_ATTACH sends the thread a SIGSTOP: its delivery stop is the
      // inner tracer's first stop (0x137f), with the kernel's siginfo.
      x.emu->attach_stop = true;
      syscall(SYS_tgkill, x.tgid, x.tid, SIGSTOP);
    } else if (x.listening) {
      // Natively a task in a group-stop traps at once for its new tracer.
      ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr);
    }
    return 0;
  }
  auto it = tracees_.find(pid);
  if (pid <= 0 || it == tracees_.end() || !it->second.emu || it->second.emu->tracer_tgid != t.tgid) return -ESRCH;
  Tracee& x = it->second;
  EmuTracee& e = *x.emu;
  switch (req) {
    case PTRACE_KILL:
      syscall(SYS_tgkill, x.tgid, x.tid, SIGKILL);
      return 0;
    case PTRACE_INTERRUPT:
      if (!e.seized) return -EIO;
      // A task whose first stop (the monitor's, as a new task) is still to
      // come: that one stop is the interrupt (a real INTERRUPT now might
      // merge with it, or not: one stop or two).
      if (!x.started) {
        e.interrupt_pending = true;
        return 0;
      }
      // The real thing: the kernel traps it now, after its current stop, or
      // out of a LISTEN, exactly as it would for the inner tracer.
      ptrace(PTRACE_INTERRUPT, x.tid, nullptr, nullptr);
      return 0;
    default:
      break;
  }
  if (!e.held || e.listening) return -ESRCH;  // not stopped for its tracer
  switch (req) {
    case PTRACE_CONT:
    case PTRACE_SYSCALL:
    case PTRACE_SINGLESTEP:
    case PTRACE_SINGLEBLOCK:
      if (data > 64) return -EIO;
      emu_release(x, req == PTRACE_SYSCALL, (int)data, req == PTRACE_SINGLESTEP || req == PTRACE_SINGLEBLOCK ? (int)req : 0);
      resumed = true;
      return 0;
    case PTRACE_POKETEXT:
    case PTRACE_POKEDATA:
    case PTRACE_POKEUSER:
      if (req == PTRACE_POKEUSER && overlaid(e) && addr < sizeof(arch::Regs) && addr % sizeof(long) == 0) {
        // A register of the program's own call as shown (the overlay): left
        // equal to what it was shown, the real one stays.
        arch::Regs real;
        if (!get_regs(x.tid, real)) return -ESRCH;
        arch::Regs shown = real;
        overlay(e, shown);
        uint64_t was;
        memcpy(&was, (const char*)&shown + addr, sizeof was);
        if (was == data) return 0;
      }
      // Done for real on the stopped thread (text writes included: the
      // monitor is its real tracer).
      if (ptrace((enum __ptrace_request)req, x.tid, (void*)addr, (void*)data) != 0) return -errno;
      return 0;
    case PTRACE_GETFPREGS:
    case PTRACE_SETFPREGS: {
      struct user_fpregs_struct fp;
      if (req == PTRACE_SETFPREGS && read_mem(t.tid, data, &fp, sizeof fp) != 0) return -EFAULT;
      if (ptrace((enum __ptrace_request)req, x.tid, nullptr, &fp) != 0) return -errno;
      if (req == PTRACE_GETFPREGS && write_mem(t.tid, data, &fp, sizeof fp) != 0) return -EFAULT;
      return 0;
    }
    case PTRACE_ARCH_PRCTL: {
      // data is the code; ARCH_GET_* store the value at addr.
      if (data == ARCH_GET_FS || data == ARCH_GET_GS) {
        unsigned long v = 0;
        if (ptrace(PTRACE_ARCH_PRCTL, x.tid, &v, (void*)data) != 0) return -errno;
        return write_mem(t.tid, addr, &v, sizeof v);
      }
      if (ptrace(PTRACE_ARCH_PRCTL, x.tid, (void*)addr, (void*)data) != 0) return -errno;
      return 0;
    }
    case PTRACE_GETSIGMASK:
    case PTRACE_SETSIGMASK: {
      if (addr != sizeof(uint64_t)) return -EINVAL;
      uint64_t m = 0;
      if (req == PTRACE_SETSIGMASK && read_mem(t.tid, data, &m, sizeof m) != 0) return -EFAULT;
      if (ptrace((enum __ptrace_request)req, x.tid, (void*)addr, &m) != 0) return -errno;
      if (req == PTRACE_GETSIGMASK && write_mem(t.tid, data, &m, sizeof m) != 0) return -EFAULT;
      return 0;
    }
    case PTRACE_SETSIGINFO: {
      siginfo_t si;
      if (read_mem(t.tid, data, &si, sizeof si) != 0) return -EFAULT;
      if (e.kind == EmuTracee::GroupStop && !e.seized) return -EINVAL;
      if (e.synth) {
        e.si = si;
        return 0;
      }
      if (ptrace(PTRACE_SETSIGINFO, x.tid, nullptr, &si) != 0) return -errno;
      return 0;
    }
    case PTRACE_LISTEN:
      if (!e.seized || (e.kind != EmuTracee::GroupStop && e.kind != EmuTracee::Interrupt)) return -EIO;
      e.held = e.reported = false;
      e.listening = true;
      if (ptrace(PTRACE_LISTEN, x.tid, nullptr, nullptr) != 0) return -errno;
      return 0;
    case PTRACE_DETACH: {
      if (data > 64) return -EIO;
      EmuTracee::Kind kind = e.kind;
      bool synth = e.synth;
      emu_forget(x);
      if (kind == EmuTracee::GroupStop) {
        ptrace(PTRACE_LISTEN, x.tid, nullptr, nullptr);  // it stays stopped, as natively
        x.listening = true;
      } else {
        if (synth && data) syscall(SYS_tgkill, x.tgid, x.tid, (int)data), data = 0;
        emu_resume_real(x, (int)data);
      }
      return 0;
    }
    case PTRACE_SETOPTIONS:
      if (data & ~(uint64_t)kOptMask) return -EINVAL;
      e.options = (uint32_t)data;
      emu_exit_opt(x);
      return 0;
    case PTRACE_GETEVENTMSG: {
      unsigned long m = e.msg;
      return write_mem(t.tid, data, &m, sizeof m);
    }
    case PTRACE_GETSIGINFO: {
      siginfo_t si;
      // A group-stop of a task attached without SEIZE has no siginfo.
      if (e.kind == EmuTracee::GroupStop && !e.seized) return -EINVAL;
      if (e.synth) si = e.si;
      else if (e.attach_si) {
        memset(&si, 0, sizeof si);  // natively sent by the kernel: SI_KERNEL, no sender
        si.si_signo = SIGSTOP;
        si.si_code = SI_KERNEL;
      }
      else if (ptrace(PTRACE_GETSIGINFO, x.tid, nullptr, &si) != 0) return -errno;
      return write_mem(t.tid, data, &si, sizeof si);
    }
    case PTRACE_GET_SYSCALL_INFO: {
      unsigned char buf[256];
      memset(buf, 0, sizeof buf);
      long n = ptrace(PTRACE_GET_SYSCALL_INFO, x.tid, (void*)sizeof buf, buf);
      if (n < 0) return -errno;
      bool sys = e.kind == EmuTracee::SysEntry || e.kind == EmuTracee::SysExit;
      if (e.kind == EmuTracee::Seccomp && buf[0] == PTRACE_SYSCALL_INFO_SECCOMP) {
        // The program's data, not the monitor's tag.
        struct __ptrace_syscall_info* si = (struct __ptrace_syscall_info*)buf;
        si->seccomp.ret_data = (uint32_t)e.msg;
      } else if (!sys || !(e.options & PTRACE_O_TRACESYSGOOD) || e.synth) {
        // Not a syscall stop for the inner tracer (or no SYSGOOD): op NONE.
        buf[0] = 0;
        n = offsetof(struct __ptrace_syscall_info, entry);
        memset(buf + n, 0, sizeof buf - n);
      }
      size_t len = addr < (uint64_t)n ? (size_t)addr : (size_t)n;
      if (len && write_mem(t.tid, data, buf, len) != 0) return -EFAULT;
      return n;
    }
    case PTRACE_GETREGS:
    case PTRACE_GETREGSET: {
      uint64_t type = req == PTRACE_GETREGS ? NT_PRSTATUS : addr;
      struct iovec iov = {nullptr, sizeof(arch::Regs)};
      if (req == PTRACE_GETREGSET && read_mem(t.tid, data, &iov, sizeof iov) != 0) return -EFAULT;
      size_t len = iov.iov_len < 65536 ? iov.iov_len : 65536;
      std::vector<unsigned char> buf(len ? len : 1);
      struct iovec mine = {buf.data(), len};
      if (ptrace(PTRACE_GETREGSET, x.tid, (void*)type, &mine) != 0) return -errno;
      if (type == NT_PRSTATUS && overlaid(e) && mine.iov_len >= sizeof(arch::Regs)) {
        // The program's own call: a module may have skipped it (orig_rax -1) or
        // given the kernel other arguments (a scratch path).
        arch::Regs r;
        memcpy(&r, buf.data(), sizeof r);
        overlay(e, r);
        memcpy(buf.data(), &r, sizeof r);
      }
      uint64_t to = req == PTRACE_GETREGS ? data : (uint64_t)iov.iov_base;
      if (mine.iov_len && write_mem(t.tid, to, buf.data(), mine.iov_len) != 0) return -EFAULT;
      if (req == PTRACE_GETREGSET) {
        iov.iov_len = mine.iov_len;
        if (write_mem(t.tid, data, &iov, sizeof iov) != 0) return -EFAULT;
      }
      return 0;
    }
    case kSetSyscallInfo: {
      // The kernel's checks (reserved, flags, size), with the op the inner
      // tracer was shown: NONE where it sees no syscall stop.
      unsigned char buf[256];
      size_t len = addr < sizeof buf ? (size_t)addr : sizeof buf;
      if (len < 1) return -EINVAL;
      if (read_mem(t.tid, data, buf, len) != 0) return -EFAULT;
      bool sysgood = e.options & PTRACE_O_TRACESYSGOOD;
      int op = e.synth ? 0
               : e.kind == EmuTracee::Seccomp ? PTRACE_SYSCALL_INFO_SECCOMP
               : e.kind == EmuTracee::SysEntry && sysgood ? PTRACE_SYSCALL_INFO_ENTRY
               : e.kind == EmuTracee::SysExit && sysgood ? PTRACE_SYSCALL_INFO_EXIT : 0;
      // Changing the kind of stop, or a stop that is not a syscall stop: EINVAL.
      if (buf[0] != op || op == 0) return -EINVAL;
      if (ptrace((enum __ptrace_request)kSetSyscallInfo, x.tid, (void*)len, buf) != 0) return -errno;
      return 0;
    }
    case PTRACE_SETREGS:
    case PTRACE_SETREGSET: {
      uint64_t type = req == PTRACE_SETREGS ? NT_PRSTATUS : addr;
      struct iovec iov = {(void*)data, sizeof(arch::Regs)};
      if (req == PTRACE_SETREGSET && read_mem(t.tid, data, &iov, sizeof iov) != 0) return -EFAULT;
      size_t len = iov.iov_len < 65536 ? iov.iov_len : 65536;
      std::vector<unsigned char> buf(len ? len : 1);
      if (len && read_mem(t.tid, (uint64_t)iov.iov_base, buf.data(), len) != 0) return -EFAULT;
      if (type == NT_PRSTATUS && e.kind == EmuTracee::SysExit && e.have_entry && len >= sizeof(arch::Regs)) {
        // The registers the inner tracer was shown (the program's own call)
        // map back to the real ones where it left them unchanged.
        arch::Regs r, real;
        memcpy(&r, buf.data(), sizeof r);
        if (get_regs(x.tid, real)) {
          if (r.orig_rax == e.entry.orig_rax) r.orig_rax = real.orig_rax;
          for (int i = 0; i < 6; i++)
            if (arch::arg(r, i) == arch::arg(e.entry, i)) arch::set_arg(r, i, arch::arg(real, i));
          memcpy(buf.data(), &r, sizeof r);
        }
      }
      arch::Regs before;
      bool had = type == NT_PRSTATUS && len >= sizeof(arch::Regs) && get_regs(x.tid, before);
      struct iovec mine = {buf.data(), len};
      if (ptrace(PTRACE_SETREGSET, x.tid, (void*)type, &mine) != 0) return -errno;
      if (had) {
        // Arguments it pointed below the stack (an inner monitor's strings):
        // the monitor's own scratch goes below them (scratch_base).
        arch::Regs r;
        memcpy(&r, buf.data(), sizeof r);
        uint64_t top = arch::sp(r) - arch::kRedZone;
        for (int i = 0; i < 6; i++) {
          uint64_t p = arch::arg(r, i);
          if (p != arch::arg(before, i) && p < top && p + (1u << 20) >= top && (!x.floor || p < x.floor)) x.floor = p;
        }
      }
      if (req == PTRACE_SETREGSET) {
        iov.iov_len = mine.iov_len;
        if (write_mem(t.tid, data, &iov, sizeof iov) != 0) return -EFAULT;
      }
      return 0;
    }
    case PTRACE_PEEKTEXT:
    case PTRACE_PEEKDATA:
    case PTRACE_PEEKUSER: {
      errno = 0;
      long w = ptrace((enum __ptrace_request)req, x.tid, (void*)addr, nullptr);
      if (errno) return -errno;
      if (req == PTRACE_PEEKUSER && overlaid(e) && addr < sizeof(arch::Regs) && addr % sizeof(long) == 0) {
        arch::Regs shown;
        if (get_regs(x.tid, shown)) {
          overlay(e, shown);  // as GETREGS shows them
          memcpy(&w, (const char*)&shown + addr, sizeof w);
        }
      }
      return write_mem(t.tid, data, &w, sizeof w);
    }
    default:
      return -EIO;  // not emulated yet (phase 2: gdb's requests)
  }
}

void Tracer::emu_release(Tracee& x, bool syscall_mode, int sig, int step) {
  EmuTracee& e = *x.emu;
  e.held = e.reported = false;
  e.syscall_mode = syscall_mode;
  e.step = step;
  if (e.synth && sig) {
    // The kernel never made this stop: the signal is sent for real, and its
    // own delivery stop passes.
    syscall(SYS_tgkill, x.tgid, x.tid, sig);
    e.pass_signal = sig;
    sig = 0;
  }
  e.synth = false;
  // The entry's registers serve the exit stop that follows an entry or a
  // seccomp stop; after any other stop they are stale.
  if (e.kind != EmuTracee::Seccomp && e.kind != EmuTracee::SysEntry) e.have_entry = false;
  // A real stop: the kernel does with the signal what it does natively.
  emu_resume_real(x, sig);
}

// The inner tracer single-stepped over a syscall the monitor stopped at the
// exit of (its own exit work): that exit stop already ended the step, so no
// further real step is made; the tracer gets the step's trap here, as the
// kernel reports it at a stepped syscall's exit (SIGTRAP, TRAP_BRKPT).
bool Tracer::emu_step_trap(Tracee& t) {
  if (!t.emu || !t.emu->step || t.emu->syscall_mode) return false;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGTRAP;
  si.si_code = TRAP_BRKPT;
  arch::Regs r;
  if (get_regs(t.tid, r)) si.si_addr = (void*)arch::ip(r);
  emu_hold(t, SIGTRAP << 8 | 0x7f, EmuTracee::SigDelivery, 0, &si);
  return true;
}

void Tracer::emu_exit_opt(Tracee& t) {
  if (!t.emu || !(t.emu->options & PTRACE_O_TRACEEXIT) || t.exit_opt) return;
  if (ptrace(PTRACE_SETOPTIONS, t.tid, nullptr, (void*)(ptrace_options() | PTRACE_O_TRACEEXIT)) == 0) t.exit_opt = true;
}

void Tracer::emu_forget(Tracee& t) {
  if (!t.emu) return;
  auto ts = emu.tracers.find(t.emu->tracer_tgid);
  if (ts != emu.tracers.end()) ts->second.tracees.erase(t.tid);
  t.emu.reset();
}

// ---- stops ----------------------------------------------------------------------

void Tracer::emu_hold(Tracee& t, int status, EmuTracee::Kind kind, uint64_t msg, const siginfo_t* synth) {
  EmuTracee& e = *t.emu;
  e.held = true;
  e.reported = false;
  e.listening = false;
  e.kind = kind;
  e.status = status;
  e.msg = msg;
  e.synth = synth != nullptr;
  if (synth) e.si = *synth;
  e.seq = ++emu.seq;
  e.attach_si = false;
  if (e.attach_stop && kind == EmuTracee::SigDelivery && !synth && (status >> 8) == SIGSTOP) {
    e.attach_stop = false;
    e.attach_si = true;
  }
  emu.stops++;
  DBG("%d stop %#x kind %d for %d\n", t.tid, status, (int)kind, e.tracer_tgid);
  emu_exit_opt(t);
  emu_report(e.tracer_tgid);
}

bool Tracer::emu_syscall_stop(Tracee& t, bool& is_entry) {
  struct __ptrace_syscall_info info;
  if (ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, (void*)sizeof info, &info) < 0) return false;
  is_entry = info.op == 1;
  if (!is_entry) return true;
  if (t.hide_next_entry) {
    t.hide_next_entry = false;
    cont(t.tid);
    return true;
  }
  EmuTracee& e = *t.emu;
  e.have_entry = get_regs(t.tid, e.entry);
  int status = (e.options & PTRACE_O_TRACESYSGOOD ? (SIGTRAP | 0x80) : SIGTRAP) << 8 | 0x7f;
  emu_hold(t, status, EmuTracee::SysEntry);
  return true;
}

bool Tracer::emu_wants_children(pid_t tgid) const {
  auto th = threads_.find(tgid);
  if (th == threads_.end()) return false;
  for (pid_t tid : th->second) {
    auto it = tracees_.find(tid);
    if (it != tracees_.end() && it->second.emu &&
        (it->second.emu->options & (PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE)))
      return true;
  }
  return false;
}

bool Tracer::emu_on_fork(Tracee& t, Tracee& c, int event) {
  uint32_t want = event == PTRACE_EVENT_FORK ? PTRACE_O_TRACEFORK
                  : event == PTRACE_EVENT_VFORK ? PTRACE_O_TRACEVFORK : PTRACE_O_TRACECLONE;
  if (!t.emu || !(t.emu->options & want) || c.emu) {
    if (c.first_held) {
      c.first_held = false;
      cont(c.tid);
    }
    return false;
  }
  // The new task is auto-attached to the same inner tracer.
  c.emu = std::make_unique<EmuTracee>();
  c.emu->tracer_tgid = t.emu->tracer_tgid;
  c.emu->seized = t.emu->seized;
  c.emu->options = t.emu->options;
  c.emu->first_stop = true;
  emu.tracers[c.emu->tracer_tgid].tracees.insert(c.tid);
  emu_hold(t, event << 16 | SIGTRAP << 8 | 0x7f, EmuTracee::Event, (uint64_t)c.tid);
  if (c.first_held) {
    c.first_held = false;
    emu_first_stop(c);
  }
  return true;
}

void Tracer::emu_first_stop(Tracee& c) {
  EmuTracee& e = *c.emu;
  e.first_stop = false;
  if (e.seized) {
    emu_hold(c, PTRACE_EVENT_STOP << 16 | SIGTRAP << 8 | 0x7f, EmuTracee::Interrupt);
  } else {
    // Natively a SIGSTOP, sent by the kernel to the new task.
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGSTOP;
    si.si_code = SI_USER;
    emu_hold(c, SIGSTOP << 8 | 0x7f, EmuTracee::SigDelivery, 0, &si);
  }
}

void Tracer::emu_on_exit(pid_t tid, pid_t tgid, int status, bool last) {
  auto it = tracees_.find(tid);
  if (it != tracees_.end() && it->second.emu) {
    pid_t tr = it->second.emu->tracer_tgid;
    // A process whose tracer is its real parent: the parent's own wait
    // reports it once, as natively. Otherwise its tracer gets a report.
    bool parent_reaps = tid == tgid && it->second.ppid == tr;
    emu_forget(it->second);
    auto ts = emu.tracers.find(tr);
    if (!parent_reaps && ts != emu.tracers.end()) {
      ts->second.zombies.push_back({tid, status, ++emu.seq});
      emu_report(tr);
    }
  }
  auto own = emu.tracers.find(tgid);
  if (own != emu.tracers.end()) own->second.unwait(tid);
  if (last) {
    emu.proc_filter.erase(tgid);
    emu.prog_traced.erase(tgid);
    emu_tracer_gone(tgid);
    // Tasks held for this process's fork event that will never come.
    for (auto& [id, x] : tracees_)
      if (x.first_held && x.ppid == tgid) {
        x.first_held = false;
        cont(id);
      }
  }
}

// The inner tracer has exited: its tracees are detached (killed with EXITKILL).
void Tracer::emu_tracer_gone(pid_t tgid) {
  auto ts = emu.tracers.find(tgid);
  if (ts == emu.tracers.end()) return;
  std::set<pid_t> tracees = std::move(ts->second.tracees);
  emu.tracers.erase(ts);
  for (pid_t tid : tracees) {
    auto it = tracees_.find(tid);
    if (it == tracees_.end() || !it->second.emu) continue;
    Tracee& x = it->second;
    EmuTracee e = *x.emu;
    x.emu.reset();
    if (e.options & PTRACE_O_EXITKILL) {
      syscall(SYS_tgkill, x.tgid, x.tid, SIGKILL);
    } else if (e.held) {
      if (e.kind == EmuTracee::GroupStop) {
        ptrace(PTRACE_LISTEN, x.tid, nullptr, nullptr);
        x.listening = true;
      } else {
        emu_resume_real(x, 0);
      }
    }
  }
}

// The inner tracer tgid has a new real child: a wait of it sleeping in pause()
// (it had none) runs again, now for real, so that the child's exit reaches it.
void Tracer::emu_wake_paused(pid_t tgid) {
  auto ts = emu.tracers.find(tgid);
  if (ts == emu.tracers.end()) return;
  for (const auto& w : ts->second.waiters) {
    auto it = tracees_.find(w.tid);
    if (it != tracees_.end() && it->second.wait.paused) ptrace(PTRACE_INTERRUPT, w.tid, nullptr, nullptr);
  }
}

// A new report for the inner tracer tgid: SIGCHLD, and its waiting threads wake.
void Tracer::emu_report(pid_t tgid) {
  auto ts = emu.tracers.find(tgid);
  if (ts == emu.tracers.end()) return;
  if (wants_sigchld(tgid)) kill(tgid, SIGCHLD);
  std::vector<EmuTracerState::Waiter> waiters = std::move(ts->second.waiters);
  ts->second.waiters.clear();
  for (const auto& w : waiters) {
    auto it = tracees_.find(w.tid);
    if (it == tracees_.end()) continue;
    Tracee& x = it->second;
    DBG("wake %d pass=%d blocking=%d paused=%d\n", w.tid, x.wait_pass, x.wait.blocking, x.wait.paused);
    emu.wakes++;
    if (x.wait_pass) {
      x.wait_pass = false;  // its seccomp stop is still to come: it will be answered there
      x.wait.blocking = false;
    } else if (x.wait.blocking || x.wait.paused) {
      // In the real blocking wait: a real interrupt ends it with -ERESTARTSYS,
      // and the kernel's restart brings the call back to its seccomp stop.
      // In pause() (no real child): at the interrupt stop the wait is put
      // back in its place (emu_wait_unpause) and restarts the same way.
      ptrace(PTRACE_INTERRUPT, x.tid, nullptr, nullptr);
    }
  }
}

// ---- waits ----------------------------------------------------------------------

// Answers a wait4/waitid call (its registers) from the emulated reports: true
// with result when one was written. any: some tracee or zombie matches.
bool Tracer::emu_wait_answer(Tracee& t, const arch::Regs& c, bool /*any_only*/, bool& any, int64_t& result) {
  any = false;
  auto ts = emu.tracers.find(t.tgid);
  if (ts == emu.tracers.end()) return false;
  EmuTracerState& st = ts->second;
  bool w4 = arch::nr(c) == SYS_wait4;
  int options = (int)arch::arg(c, w4 ? 2 : 3);
  int pid = (int)arch::arg(c, 0), idtype = (int)arch::arg(c, 0), id = (int)arch::arg(c, 1);
  pid_t my_pgid = -2;
  auto mine = [&] { return my_pgid == -2 ? (my_pgid = pgid_of(t.tid)) : my_pgid; };
  auto match = [&](pid_t tid) {
    if (w4) {
      if (pid == -1) return true;
      if (pid > 0) return tid == pid;
      return pgid_of(tid) == (pid == 0 ? mine() : -pid);
    }
    switch (idtype) {
      case P_ALL: return true;
      case P_PID: return tid == id;
      case P_PGID: return pgid_of(tid) == (id ? id : mine());
      default: return false;
    }
  };
  bool exited_ok = w4 || (options & WEXITED);
  uint64_t best = UINT64_MAX;
  Tracee* stop = nullptr;
  size_t zi = SIZE_MAX;
  for (pid_t tid : st.tracees) {
    if (!match(tid)) continue;
    any = true;
    auto it = tracees_.find(tid);
    if (it == tracees_.end() || !it->second.emu) continue;
    EmuTracee& e = *it->second.emu;
    if (e.held && !e.reported && e.seq < best) best = e.seq, stop = &it->second;
  }
  for (size_t i = 0; i < st.zombies.size(); i++) {
    if (!match(st.zombies[i].tid)) continue;
    any = true;
    if (exited_ok && st.zombies[i].seq < best) best = st.zombies[i].seq, zi = i, stop = nullptr;
  }
  if (best == UINT64_MAX) return false;
  pid_t who = stop ? stop->tid : st.zombies[zi].tid;
  int status = stop ? stop->emu->status : st.zombies[zi].status;
  if (w4) {
    uint64_t sp = arch::arg(c, 1), ru = arch::arg(c, 3);
    if (sp && write_mem(t.tid, sp, &status, sizeof status) != 0) return result = -EFAULT, true;
    if (ru) {
      struct rusage z;
      memset(&z, 0, sizeof z);
      if (write_mem(t.tid, ru, &z, sizeof z) != 0) return result = -EFAULT, true;
    }
    result = who;
  } else {
    uint64_t ip = arch::arg(c, 2);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGCHLD;
    si.si_pid = who;
    long u[3];
    si.si_uid = uids(who, u) ? (uid_t)u[0] : getuid();
    if (stop) {
      si.si_code = CLD_TRAPPED;
      si.si_status = status >> 8;
    } else if (WIFEXITED(status)) {
      si.si_code = CLD_EXITED;
      si.si_status = WEXITSTATUS(status);
    } else {
      si.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
      si.si_status = WTERMSIG(status);
    }
    if (ip && write_mem(t.tid, ip, &si, sizeof si) != 0) return result = -EFAULT, true;
    result = 0;
  }
  if (!w4 && (options & WNOWAIT)) return true;
  if (stop) stop->emu->reported = true;
  else st.zombies.erase(st.zombies.begin() + zi);
  return true;
}

void Tracer::emu_wait_entry(Tracee& t) {
  emu.waits++;
  DBG("%d wait entry nr %ld pass=%d\n", t.tid, arch::nr(t.regs), t.wait_pass);
  if (t.wait_pass) {
    const arch::Regs& p = t.wait.pass;
    bool same = arch::ip(t.regs) == arch::ip(p) && arch::nr(t.regs) == arch::nr(p);
    for (int i = 0; same && i < 5; i++) same = arch::arg(t.regs, i) == arch::arg(p, i);
    if (same) {
      // The restarted blocking wait (emu_wait_exit): the real call, to its exit stop.
      t.wait_pass = false;
      t.wait.regs = p;
      t.wait.active = false;
      t.wait.blocking = true;
      auto ts = emu.tracers.find(t.tgid);
      if (ts != emu.tracers.end()) ts->second.wait_on(t.tid);
      cont(t.tid);
      return;
    }
    // Another wait first (a signal handler's, before the restart): handled as
    // any wait; the restarted one is still recognized when it comes.
  }
  auto ts = emu.tracers.find(t.tgid);
  if (ts == emu.tracers.end() || (ts->second.tracees.empty() && ts->second.zombies.empty())) {
    t.wait.blocking = false;
    cont(t.tid);  // not an inner tracer: the kernel's wait, untouched
    return;
  }
  bool any = false;
  int64_t res = 0;
  if (emu_wait_answer(t, t.regs, false, any, res)) {
    DBG("%d wait answered at entry: %ld\n", t.tid, (long)res);
    arch::skip_syscall(t.regs, res);
    set_regs(t.tid, t.regs);
    cont(t.tid);
    return;
  }
  if (!any) {
    cont(t.tid);
    return;
  }
  DBG("%d wait: WNOHANG first\n", t.tid);
  // Real children first: the real call with WNOHANG, looked at at its exit stop.
  t.wait.active = true;
  t.wait.blocking = false;
  t.wait.regs = t.regs;
  int oi = arch::nr(t.regs) == SYS_wait4 ? 2 : 3;
  arch::Regs r = t.regs;
  arch::set_arg(r, oi, arch::arg(r, oi) | WNOHANG);
  set_regs(t.tid, r);
  cont(t.tid);
}

void Tracer::emu_wait_exit(Tracee& t) {
  {
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, t.tid, (void*)sizeof info, &info) < 0) return;
    DBG("%d wait exit? op %d nr %ld rip %llx\n", t.tid, info.op, (long)info.entry.nr, (unsigned long long)info.instruction_pointer);
    if (info.op != 2) {
      ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
      return;
    }
  }
  bool blocking = t.wait.blocking;
  t.wait.active = t.wait.blocking = false;
  DBG("%d wait exit blocking=%d\n", t.tid, blocking);
  auto own = emu.tracers.find(t.tgid);
  if (own != emu.tracers.end()) own->second.unwait(t.tid);
  arch::Regs r;
  if (!get_regs(t.tid, r)) return;
  const arch::Regs& c = t.wait.regs;
  bool w4 = arch::nr(c) == SYS_wait4;
  int oi = w4 ? 2 : 3;
  int orig_opts = (int)arch::arg(c, oi);
  int64_t ret = arch::ret(r);
  if (!blocking) arch::set_arg(r, oi, arch::arg(c, oi));  // the program's options, as it passed them
  bool event = w4 ? ret > 0 : false;
  if (!w4 && ret == 0 && arch::arg(c, 2)) {
    siginfo_t si;
    event = read_mem(t.tid, arch::arg(c, 2), &si, sizeof si) == 0 && si.si_pid != 0;
  }
  auto done = [&] {
    set_regs(t.tid, r);
    cont(t.tid);
  };
  // A real event; or an error, a signal, a wake-up (restarted by the kernel).
  if (event || (ret < 0 && ret != -ECHILD)) return done();
  bool any = false;
  int64_t res = 0;
  if (emu_wait_answer(t, c, false, any, res)) {
    arch::set_ret(r, res);
    return done();
  }
  // No tracee matches any more (its exit was handled meanwhile): a blocking
  // wait that the kernel answered 0 only because of the added WNOHANG still
  // has real children to wait for (below).
  if (!any && !(ret == 0 && !blocking && !(orig_opts & WNOHANG))) return done();
  if (orig_opts & WNOHANG) {
    if (ret == -ECHILD) {
      arch::set_ret(r, 0);  // tracees exist: nothing to report yet
      if (!w4 && arch::arg(c, 2)) {
        siginfo_t z;
        memset(&z, 0, sizeof z);
        write_mem(t.tid, arch::arg(c, 2), &z, sizeof z);
      }
    }
    return done();
  }
  auto sit = emu.tracers.find(t.tgid);
  if (sit == emu.tracers.end()) return done();  // no longer a tracer: the kernel's answer
  auto& st = sit->second;
  if (ret == 0 && !blocking) {
    // Real children that may still report: the real blocking call runs again
    // (rip back to the syscall instruction); a report interrupts it (emu_report).
    arch::Regs back = c;
    back.rip -= arch::kSyscallInsnLen;
    back.rax = back.orig_rax;
    set_regs(t.tid, back);
    t.wait_pass = true;
    t.wait.pass = c;
    t.wait.blocking = true;
    st.wait_on(t.tid);
    // CONT: the restarted call's next stop is its seccomp stop, not an entry stop.
    ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
    return;
  }
  // No real child to wait for: the thread sleeps in pause(), so that a signal
  // reaches it as natively (emu_wait_unpause), until a report interrupts it.
  arch::Regs p = r;
  p.rip -= arch::kSyscallInsnLen;
  p.rax = SYS_pause;
  set_regs(t.tid, p);
  t.wait.paused = true;
  st.wait_on(t.tid);
  ptrace(PTRACE_CONT, t.tid, nullptr, nullptr);
}

// A thread put in pause() for its wait (emu_wait_exit) has stopped: interrupted
// by a report (sig 0), or a signal is to be delivered. Its registers become the
// wait's again, interrupted by the kernel: resumed after an interrupt, the wait
// restarts (and is answered at its seccomp stop); for a signal, -ERESTARTSYS
// gives the native outcome (restarted after an SA_RESTART handler, else EINTR,
// or the default action). The caller resumes the thread.
void Tracer::emu_wait_unpause(Tracee& t, int sig) {
  t.wait.paused = false;
  auto own = emu.tracers.find(t.tgid);
  if (own != emu.tracers.end()) own->second.unwait(t.tid);
  arch::Regs r = t.wait.regs;
  r.rax = (unsigned long long)(int64_t)(sig ? -512 /* ERESTARTSYS */ : -514 /* ERESTARTNOHAND */);
  set_regs(t.tid, r);
}

}  // namespace vview
