// The ptrace side of the monitor. One Tracer runs on the thread that attached
// (ptrace requires it: Node's main thread). It waits for stops, follows the
// process tree, and applies the fast path: a routed syscall whose paths and fds
// belong to no module is resumed here without entering JavaScript.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <csignal>
#include <sys/types.h>

#include "arch.h"
#include "paths.h"
#include "ptrace_emu.h"
#include "statview.h"
#include "syscall_desc.h"

namespace vview {

// The live processes of the view, readable from a signal handler: a signal sent
// to vview after the command has exited goes to what is left of the view.
// The registers of a stopped tracee (PTRACE_GETREGSET / SETREGSET, NT_PRSTATUS).
bool get_regs(pid_t tid, arch::Regs& r);
bool set_regs(pid_t tid, const arch::Regs& r);
// The whole text of a /proc file; false if it cannot be read or is empty.
bool read_proc(const char* path, std::string& out);
// A line of /proc/PID/status ("Tgid:", "Uid:", "SigCgt:"), after the key.
bool status_field(pid_t pid, const char* key, std::string& out);
// The parent and the process group, from /proc/PID/stat; false if it is gone.
bool stat_ids(pid_t pid, pid_t& ppid, pid_t& pgrp);

void live_add(pid_t pid);
void live_remove(pid_t pid);
void live_kill(int sig);
extern volatile sig_atomic_t g_root_exited;

// Route bits (kRoute*, generated/abi.h): kRouteCwd: chdir/fchdir: the native
// cwd cache is dropped at entry and exit. kRouteStat: a stat-family call shown
// through the stat view (fake ownership).

struct PrefixEntry {
  std::string path;
  int module;
  std::vector<bool> nrs;     // empty: every syscall
  std::vector<bool> direct;  // see Tracer::add_prefix
};

// How one syscall number is routed: why it stops (JavaScript's routing table)
// and what it is (the generated description: path and fd arguments, effect).
struct SyscallRoute {
  uint8_t bits = 0;
  const SyscallDesc* desc = nullptr;
};

struct PathResult {
  std::string raw;        // as the tracee passed it
  std::string canonical;  // empty when it could not be canonicalized (kernel answers)
  std::string host;       // through a mount: the path to give the kernel (Canonical::host)
  bool lexical = false;   // a component before the last did not exist (the rest is lexical)
  uint64_t open_flags = 0;  // open family: the flags
  int module = -1;        // owner of the mount prefix it falls under, or -1
  int error = 0;          // -errno from reading / canonicalizing
  // Relative to a cwd or dirfd in a mount's host directory, and host is that
  // directory followed by raw (Canonical::verbatim): the kernel given raw
  // reaches host, so native code need not rewrite it.
  bool verbatim = false;
};

struct FdResult {
  int fd;
  int module;
  uint64_t dev, ino;
};

struct Event {
  // kEventForeign: a child of this process that is not traced (one a module spawned
  // with child_process) has an event: libuv must reap it; return to the event loop.
  EventType type = kEventNone;
  pid_t tid = 0, tgid = 0;
  pid_t child = 0;  // kEventSpawn: new tid
  bool thread = false;
  pid_t old_tid = 0;  // kEventExec
  long nr = -1;
  uint64_t args[6] = {0, 0, 0, 0, 0, 0};
  int64_t ret = 0;  // kEventSyscallExit
  uint8_t route = 0;
  std::vector<PathResult> paths;
  std::vector<FdResult> fds;
  int status = 0;     // kEventExit: wait status
  bool last = false;  // kEventExit: last thread of its process
};

// JavaScript's answer to a parked tracee: one call per stop.
struct Action {
  ResumeKind kind = kResumeContinue;
  int64_t value = 0;          // kResumeReturn: result (>= 0) or -errno
  bool want_exit = false;     // kResumeContinue at entry: stop again at syscall exit
  std::vector<std::pair<int, uint64_t>> set_args;        // at entry: arguments set to numbers
  std::vector<std::pair<int, std::string>> set_strings;  // at entry: arguments set to strings written below the stack
  uint32_t host_paths = 0;  // at entry: bit i: path argument i is given to the kernel in its host form
};

class Tracer {
 public:
  Tracer();

  // bits by syscall number; the rest of each route comes from the description.
  void set_routes(const std::vector<std::pair<int, uint8_t>>& bits);
  // A path prefix owned by a module. nrs: the syscalls it applies to (empty:
  // all path syscalls). direct: syscalls native code does itself below it when
  // the path goes through a mount: the path is rewritten to its host form and
  // the kernel runs the call, without a stop into JavaScript (the open family:
  // read-only opens only).
  void add_prefix(const std::string& prefix, int module, const std::vector<int>& nrs, const std::vector<int>& direct);
  // The view shows the host directory `host` (a bind source, a scratch mirror)
  // as `view`: a tracee's cwd or dirfd below host is taken as the view path.
  void add_alias(const std::string& host, const std::string& view);
  void claim_inode(uint64_t dev, uint64_t ino, int module) { inodes_[{dev, ino}] = module; }
  // Maps a host path below an aliased directory to the view's path. True if mapped.
  bool alias(std::string& p) const;
  long ptrace_options() const;

  void adopt_root(pid_t pid);
  // While a module's child_process child may be alive, wait events are peeked
  // first (one more syscall per stop) so that libuv's are left to libuv.
  void set_peek(bool on) { peek_ = on; }
  int root_status() const { return root_status_; }

  // Waits for the next event JavaScript must see. block=false: returns kNone when
  // nothing is pending. kDone when no tracee is left. -errno on a tracer failure.
  int next(bool block, Event& ev);
  // Applies JavaScript's answer to a tracee parked at a syscall entry or exit.
  int resume(pid_t tid, const Action& a);
  // Scratch memory below the parked tracee's stack (past the red zone).
  int64_t scratch(pid_t tid, size_t len);

  uint64_t stops = 0, fast_resumes = 0, js_events = 0;
  std::vector<uint64_t> seccomp_stops;  // by syscall number (for --stats)
  PathResolver resolver;
  StatView stat_view;
  uint64_t stats_emulated = 0, stats_patched = 0;
  uint64_t native_rewrites = 0;  // calls below a mount done natively (path rewritten)
  PtraceEmu emu;

 private:
  struct Tracee {
    pid_t tid = 0, tgid = 0;
    bool known = false;       // its process (tgid) is known: parent's event, or /proc
    bool parked = false;      // stopped at a syscall, waiting for resume()
    bool at_exit = false;     // parked at a syscall-exit stop
    bool await_exit = false;  // resumed with PTRACE_SYSCALL: next syscall stop is the exit
    bool native_exit = false; // that exit stop is native's own (cwd change), not JavaScript's
    uint8_t patch_kind = 0;   // native exit: a stat-family result to show through the stat view
    uint64_t patch_buf = 0;
    uint64_t scratch_top = 0;
    const SyscallDesc* desc = nullptr;  // parked at entry: the call's description
    std::vector<std::string> hosts;      // parked at entry: the host form of each path argument
    arch::Regs regs{};
    // The emulated ptrace (ptrace_emu.h).
    pid_t ppid = 0;            // the real parent process (0: unknown)
    bool listening = false;    // the monitor LISTENed at its group-stop
    bool exit_opt = false;     // PTRACE_O_TRACEEXIT is set for real (an inner tracer asked)
    bool wait_pass = false;    // its next wait4/waitid seccomp stop is a restarted blocking wait: let it run
    bool hide_next_entry = false;  // a call the monitor restarts: its entry is not the program's
    bool hide_exec_exit = false;   // execve's exit stop after a synthesized exec SIGTRAP (natively after it)
    bool started = false;      // it had a stop (the first of an auto-attached task is the monitor's)
    bool first_held = false;   // a new task's first stop, held until its parent's event tells if it is emulated
    bool seccomp_recheck = false;  // held at a seccomp stop its own filter asked for: the monitor's routes come after
    bool injected = false;     // running a call the monitor put in place of its own (emu_inject): restore at its exit
    uint64_t floor = 0;        // at this stop, the lowest pointer below the stack an inner tracer set as an argument (0: none)
    arch::Regs inject_regs{};  // the registers of the call it replaced
    EmuWait wait;
    std::unique_ptr<EmuTracee> emu;
  };

  Tracee& get(pid_t tid);
  bool on_seccomp(Tracee& t, Event& ev);
  int emulate_stat(Tracee& t, uint8_t kind);
  int64_t put_string(Tracee& t, const std::string& s);
  // The program an execve/execveat at this stop would run is a 32-bit ELF.
  bool exec_is_32bit(Tracee& t, const Event& ev);
  // Where scratch memory below a stopped tracee's stack starts: past the red
  // zone, and below the strings an inner monitor in the view put there for
  // this call (Tracee::floor: pointers its SETREGS gave the arguments).
  static uint64_t scratch_base(const Tracee& t, const arch::Regs& r);
  bool show_stat(Tracee& t, const SyscallRoute& route);
  void patch_stat(Tracee& t);
  void park(Tracee& t, Event& ev, EventType type);
  void resolve_path(Tracee& t, const PathSpec& s, PathResult& out);
  int match_prefix(const std::string& p, long nr) const;
  // The prefix entry owning p for nr (nullptr: none).
  const struct PrefixEntry* prefix_of(const std::string& p, long nr) const;
  bool native_rewrite(Tracee& t, const SyscallRoute& route, Event& ev);
  void cont(pid_t tid, int sig = 0);
  // The real resume request for t: PTRACE_SYSCALL when a syscall-exit stop is owed
  // (the monitor's own, a wait's) or its inner tracer wants syscall stops.
  int resume_req(const Tracee& t) const;

  // ptrace_emu.cc
  bool emu_on_seccomp(Tracee& t);
  bool emu_seccomp(Tracee& t);            // seccomp(2), prctl(PR_SET_SECCOMP): the program's filter, retagged
  bool emu_tag_stop(Tracee& t, int status, uint64_t tag);  // a seccomp stop the program's filter asked for
  void emu_resume_real(Tracee& x, int sig);
  bool emu_inject_proc_filter(Tracee& t);   // at its ptrace seccomp stop: installs the kTagProc filter first
  void emu_inject_done(Tracee& t);          // the injected call's exit stop: the original call again
  void emu_proc_open(Tracee& t);            // a kTagProc stop: /proc/PID/status with the emulated TracerPid
  bool emu_step_trap(Tracee& t);            // a single-stepped syscall's exit the monitor stopped at: the step's SIGTRAP  // the held real stop goes on (a seccomp stop: the monitor's routes first)
  void emu_wait_unpause(Tracee& t, int sig);
  void emu_wake_paused(pid_t tgid);  // a new real child: waits sleeping in pause() run again  // a wait sleeping in pause() stopped: the wait's registers again  // ptrace, wait4, waitid (kRouteEmu): handled, true
  int64_t emu_ptrace(Tracee& t, bool& resumed);
  void emu_wait_entry(Tracee& t);
  void emu_wait_exit(Tracee& t);
  bool emu_wait_answer(Tracee& t, const arch::Regs& call, bool any_only, bool& any, int64_t& result);
  void emu_hold(Tracee& t, int status, EmuTracee::Kind kind, uint64_t msg = 0, const siginfo_t* synth = nullptr);
  void emu_report(pid_t tracer_tgid);
  void emu_release(Tracee& t, bool syscall_mode, int sig, int step = 0);
  void emu_exit_opt(Tracee& t);
  void emu_forget(Tracee& t);              // no longer an emulated tracee
  void emu_on_exit(pid_t tid, pid_t tgid, int status, bool last);
  void emu_tracer_gone(pid_t tgid);
  bool emu_syscall_stop(Tracee& t, bool& is_entry);  // a SIGTRAP|0x80 stop of a tracee in syscall mode
  bool emu_on_fork(Tracee& parent, Tracee& child, int event);
  bool emu_wants_children(pid_t tgid) const;
  void emu_first_stop(Tracee& c);
  void drop(pid_t tid);
  pid_t adopt_orphan(Tracee& t);
  int mem_fd(pid_t tgid);
  void close_mem(pid_t tgid);

  std::vector<SyscallRoute> routes_;
  std::vector<PrefixEntry> prefixes_;  // longest first
  std::vector<std::pair<std::string, std::string>> aliases_;  // host -> view, longest first
  std::map<std::pair<uint64_t, uint64_t>, int> inodes_;
  std::unordered_map<pid_t, Tracee> tracees_;
  std::unordered_map<pid_t, std::unordered_set<pid_t>> threads_;
  std::unordered_map<pid_t, int> mem_fds_;  // tgid -> /proc/tgid/mem (until exec/exit)
  std::deque<pid_t> recheck_;  // released from a seccomp stop of their own filter: the monitor's routes next
  bool is_tracee_event(const siginfo_t& si);
  bool peek_ = false;  // Node has children of its own: never consume theirs
  pid_t root_ = 0;
  bool root_exited_ = false;
  int root_status_ = 0;
};

}  // namespace vview
