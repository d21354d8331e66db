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

// A view layer: the routing tables of one view's modules. Layer 0 is this
// monitor's own view; each inner `vview run` in the view that joins this
// monitor (a JOIN request, see kJoinPrctl) adds one for the subtree of its
// command, whose modules it serves itself over its channel. A process is in
// one innermost layer; the layers around it are its parents' chain.
struct Layer {
  int parent = -1;        // the layer outside it (-1: the real kernel)
  pid_t server = 0;       // joined: the inner vview process serving its modules (0: this monitor)
  bool configured = false;
  bool entered = false;   // its command's process entered it (ENTER)
  int processes = 0;      // live processes in it or in the layers inside it
  std::vector<SyscallRoute> routes;
  std::vector<PrefixEntry> prefixes;  // longest first
  std::vector<std::pair<std::string, std::string>> aliases;  // host -> view, longest first
  PathResolver::Mounts mounts;     // view -> host, longest first
  PathResolver::Objects objects;   // (dev, ino) -> module, claimed by identity
  std::map<std::pair<uint64_t, uint64_t>, int> inodes;  // fds the modules handed out
  StatView stat_view;
};

// The requests an inner vview makes of the monitor that traces it
// (kJoinPrctl, generated/abi.h): prctl(kJoinPrctl, kJoinOpen, fd): "serve
// my view as a layer of yours": fd (a socket) becomes the layer's channel;
// the answer is the layer's number. prctl(kJoinPrctl, kJoinEnter, layer):
// made by the inner vview's command before its exec: this process (and all
// it starts) is in that layer. Only a child of the layer's server may enter
// it, once. Natively, or under a monitor that does not join, the kernel
// answers EINVAL.

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
  int layer = 0;      // syscall events: the layer whose modules must answer; others: the process's innermost layer
  int parent = -1;    // kEventJoin: the new layer's parent layer
  int fd = -1;        // kEventJoin: the layer's channel, now the monitor's
  uint64_t scratch_top = 0;  // kEventSyscall: where scratch memory below the stack starts
};

// JavaScript's answer to a parked tracee: one call per stop.
struct Action {
  ResumeKind kind = kResumeContinue;
  int64_t value = 0;          // kResumeReturn: result (>= 0) or -errno
  bool want_exit = false;     // kResumeContinue at entry: stop again at syscall exit
  std::vector<std::pair<int, uint64_t>> set_args;        // at entry: arguments set to numbers
  std::vector<std::pair<int, std::string>> set_strings;  // at entry: arguments set to strings written below the stack
  uint32_t host_paths = 0;  // at entry: bit i: path argument i is given to the kernel in its host form
  uint64_t scratch_top = 0; // a joined layer's server used scratch memory down to here (0: none)
};

class Tracer {
 public:
  Tracer();

  // The layer configured by set_routes, add_prefix, add_alias, claim_inode,
  // set_objects and stat_view() (0: this monitor's own).
  void select(int layer) { cfg_ = layers_.at(layer).get(); }
  int layer_count() const { return (int)layers_.size(); }
  Layer& layer(int i) { return *layers_.at(i); }
  // bits by syscall number; the rest of each route comes from the description.
  void set_routes(const std::vector<std::pair<int, uint8_t>>& bits);
  void set_objects(PathResolver::Objects o) { cfg_->objects = std::move(o); }
  StatView& stat_view() { return cfg_->stat_view; }
  void configured() { cfg_->configured = true; }
  // A path prefix owned by a module. nrs: the syscalls it applies to (empty:
  // all path syscalls). direct: syscalls native code does itself below it when
  // the path goes through a mount: the path is rewritten to its host form and
  // the kernel runs the call, without a stop into JavaScript (the open family:
  // read-only opens only).
  void add_prefix(const std::string& prefix, int module, const std::vector<int>& nrs, const std::vector<int>& direct);
  // The view shows the host directory `host` (a bind source, a scratch mirror)
  // as `view`: a tracee's cwd or dirfd below host is taken as the view path.
  void add_alias(const std::string& host, const std::string& view);
  void claim_inode(uint64_t dev, uint64_t ino, int module) { cfg_->inodes[{dev, ino}] = module; }
  // Maps a host path below an aliased directory to the view's path. True if mapped.
  bool alias(std::string& p) const;
  long ptrace_options() const;

  void adopt_root(pid_t pid);
  // While a module's child_process child may be alive, wait events are peeked
  // first (one more syscall per stop) so that libuv's are left to libuv.
  void set_peek(bool on) { peek_ = on; }
  int root_status() const { return root_status_; }
  bool root_exited() const { return root_exited_; }

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
    bool adopted = false;      // reported at its first stop (adopt_orphan), before its parent's fork/clone event
    bool seccomp_recheck = false;  // held at a seccomp stop its own filter asked for: the monitor's routes come after
    bool injected = false;     // running a call the monitor put in place of its own (emu_inject): restore at its exit
    uint64_t floor = 0;        // at this stop, the lowest pointer below the stack an inner tracer set as an argument (0: none)
    arch::Regs inject_regs{};  // the registers of the call it replaced
    EmuWait wait;
    std::unique_ptr<EmuTracee> emu;
    // Layers (joined views): at entry, the layers that asked for the exit
    // stop, innermost first (their exit events go outermost first); the
    // layers with a stat view a JavaScript answer of an outer layer passed
    // over (their views show its result at the exit).
    std::vector<int> exit_layers;
    std::vector<int> stat_layers;
    int park_layer = 0;          // parked: the layer whose JavaScript answers
    uint8_t entry_pending = 0;   // at this entry: kRouteCwd (a layer tracks the cwd)
    bool cwd_exit = false;       // the exit stop drops the cwd cache
    std::vector<std::pair<uint64_t, std::string>> raw_cache;  // path arguments read at this stop (nested views)
    struct Walk {
      uint64_t ptr;
      int dirfd;
      bool follow;
      uint64_t resolve;
      bool operator==(const Walk& o) const { return ptr == o.ptr && dirfd == o.dirfd && follow == o.follow && resolve == o.resolve; }
    };
    std::vector<std::pair<Walk, Canonical>> walks;  // straight walks at this stop, for the next layer (nested views)
  };

  Tracee& get(pid_t tid);
  bool on_seccomp(Tracee& t, Event& ev, int from = -2);
  // The layers: evaluates layer `li` for t at a seccomp stop (cur_ = it).
  // 1: JavaScript (ev filled), 0: not claimed or done natively (go on to the
  // parent layer), -1: answered here (t resumed).
  int eval_layer(Tracee& t, Event& ev, int li);
  void finish_entry(Tracee& t);  // no layer claimed the call (or the last let it go on): it runs
  bool next_exit(Tracee& t, Event& ev);   // a JavaScript exit event for the next layer that asked
  int layer_of(pid_t tgid) const {
    auto it = layer_of_.find(tgid);
    return it == layer_of_.end() ? 0 : it->second;
  }
  bool on_join(Tracee& t, Event& ev);     // prctl(kJoinPrctl, ...)
  void set_layer(pid_t tgid, int layer);
  void layer_server_gone(pid_t tgid);     // a joined layer's server exited: its processes are killed
  template <class S> bool show_through(S& st, const std::vector<int>& layers) const;
  int emulate_stat(Tracee& t, uint8_t kind);
  int64_t put_string(Tracee& t, const std::string& s);
  // The program an execve/execveat at this stop would run is a 32-bit ELF.
  bool exec_is_32bit(Tracee& t, const Event& ev);
  // After an emulated tracee's exec: it gained privileges its inner tracer could not trace natively.
  bool exec_gained_privileges(const Tracee& t);
  // Where scratch memory below a stopped tracee's stack starts: past the red
  // zone, and below the strings an inner monitor in the view put there for
  // this call (Tracee::floor: pointers its SETREGS gave the arguments).
  static uint64_t scratch_base(const Tracee& t, const arch::Regs& r);
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

  std::vector<std::unique_ptr<Layer>> layers_;
  Layer* cfg_ = nullptr;  // the layer being configured
  Layer* cur_ = nullptr;  // the layer being evaluated at a stop
  std::unordered_map<pid_t, int> layer_of_;  // tgid -> innermost layer (absent: 0)
  std::unordered_set<pid_t> layer_filter_;   // entered a layer: its next seccomp(SET_MODE_FILTER) is the layer's, installed as it is
  std::unordered_set<pid_t> entered_;        // processes that entered a layer themselves (Join.enter)
  std::unordered_map<pid_t, Tracee> tracees_;
  std::unordered_map<pid_t, std::unordered_set<pid_t>> threads_;
  std::unordered_map<pid_t, int> mem_fds_;  // tgid -> /proc/tgid/mem (until exec/exit)
  // Tasks reported at their first stop that exited before their parent's
  // fork/clone event came: that event is old news (no Spawn event, no state).
  std::unordered_set<pid_t> gone_early_;
  // Go on at a seccomp stop from a layer (released from a stop of its own
  // filter: from its innermost layer; a layer answered with a continue: its
  // parent layer), or (kRecheckExit) the next layer's exit event.
  struct Recheck {
    pid_t tid;
    int from;
  };
  static constexpr int kRecheckExit = -3;
  std::deque<Recheck> recheck_;
  bool is_tracee_event(const siginfo_t& si);
  bool peek_ = false;  // Node has children of its own: never consume theirs
  pid_t root_ = 0;
  bool root_exited_ = false;
  int root_status_ = 0;
};

}  // namespace vview
