// Emulated ptrace (docs/ptrace-emulation.md, phase 1): strace -f inside a view.
//
// The monitor (Tracer) is every tracee's one real tracer. A process in the view
// that calls ptrace becomes an *inner tracer*: its requests and its waits are
// answered here, in native code, at their seccomp stops. An *emulated tracee*
// is kept in its real ptrace-stop (held) until its inner tracer resumes it, and
// each real stop it has is turned into the emulated stop the inner tracer
// would see natively. Register, memory and siginfo requests are done for real
// on the stopped thread and copied into the inner tracer's memory.
//
// The state lives in Tracer::Tracee (EmuTracee) and in PtraceEmu (per inner
// tracer process); the code is Tracer's emu_* methods in ptrace_emu.cc.
// VVIEW_EMU_DEBUG=1 in vview's environment prints each emulated request, stop
// and wait on stderr.
#pragma once
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>
#include <csignal>
#include <sys/types.h>

#include "arch.h"

namespace vview {

// One emulated tracee (a thread), owned by its Tracer::Tracee.
struct EmuTracee {
  enum Kind { SigDelivery, GroupStop, Interrupt, Event, SysEntry, SysExit, Seccomp };
  pid_t tracer_tgid = 0;      // the inner tracer's process
  bool seized = false;        // PTRACE_SEIZE (else TRACEME)
  uint32_t options = 0;       // PTRACE_O_* the inner tracer set
  bool syscall_mode = false;  // resumed with PTRACE_SYSCALL: syscall stops are reported
  int step = 0;               // resumed with PTRACE_SINGLESTEP or SINGLEBLOCK (that request), else 0
  bool attach_stop = false;   // PTRACE_ATTACH's SIGSTOP is still to come
  bool attach_si = false;     // the held stop is that SIGSTOP: GETSIGINFO shows the kernel's siginfo
  bool held = false;          // kept in its real ptrace-stop for the inner tracer
  bool reported = false;      // ... and that stop was already reported by a wait
  bool listening = false;     // the inner tracer LISTENed (a real LISTEN)
  bool first_stop = false;    // auto-attached: its first stop is still to come
  bool interrupt_pending = false;  // INTERRUPTed before the monitor saw its first stop: that stop is the interrupt
  Kind kind = Interrupt;
  int status = 0;             // the wait status of the held stop
  uint64_t msg = 0;           // PTRACE_GETEVENTMSG
  bool synth = false;         // a stop the kernel did not make (siginfo below)
  siginfo_t si{};
  uint64_t seq = 0;           // report order
  int pass_signal = 0;        // a signal re-injected from a synthesized stop: its real stop passes
  bool have_entry = false;    // the program's own registers at its last syscall-entry stop
  arch::Regs entry{};
};

// A process that traces (an inner tracer).
struct EmuTracerState {
  struct Zombie {
    pid_t tid;
    int status;
    uint64_t seq;
  };
  struct Waiter {
    pid_t tid;
  };
  std::set<pid_t> tracees;
  std::deque<Zombie> zombies;
  std::vector<Waiter> waiters;

  // Thread tid waits for a report (once in the list).
  void wait_on(pid_t tid) {
    for (const Waiter& w : waiters)
      if (w.tid == tid) return;
    waiters.push_back({tid});
  }
  // Thread tid no longer waits.
  void unwait(pid_t tid) {
    for (size_t i = 0; i < waiters.size();)
      if (waiters[i].tid == tid) waiters.erase(waiters.begin() + i);
      else i++;
  }
};

// A wait4/waitid of an inner tracer run for real with WNOHANG: at its exit stop.
struct EmuWait {
  bool active = false;    // run with WNOHANG added: its exit stop decides
  bool blocking = false;  // run again as the program made it (blocking), until its exit stop
  bool paused = false;    // no real child: sleeping in pause() until a report (or a signal)
  arch::Regs regs{};  // at entry, as the program made the call
  arch::Regs pass{};  // the blocking wait restarted for real (Tracee::wait_pass): recognized by these
};

struct PtraceEmu {
  std::unordered_map<pid_t, EmuTracerState> tracers;  // by inner tracer tgid
  uint64_t seq = 0;
  // The program's own seccomp filters are installed with each RET_TRACE|data
  // return rewritten to RET_TRACE|tag (tag >= 1; the monitor's own filter
  // returns RET_TRACE|0), so a seccomp stop tells whose TRACE it is.
  std::vector<uint16_t> tag_data;                 // tag - 1 -> the program's data (tags 1..0xfffe)
  // Inner tracers and the tracees that asked (TRACEME) get a filter of the
  // monitor's own that stops their opens with this tag, so that
  // /proc/PID/status shows the emulated tracer (TracerPid).
  static constexpr uint16_t kTagProc = 0xffff;
  std::set<pid_t> proc_filter;  // thread groups given that filter (or that failed to take it)
  std::set<pid_t> prog_traced;  // thread groups with a program filter that returns TRACE (inherited at fork)
  std::string proc_dir;         // snapshots of status files served to them
  std::unordered_map<uint16_t, uint16_t> tag_of;  // data -> tag
  int tag(uint16_t data) {
    auto it = tag_of.find(data);
    if (it != tag_of.end()) return it->second;
    if (tag_data.size() >= 0xfffe) return -1;
    tag_data.push_back(data);
    return tag_of[data] = (uint16_t)tag_data.size();
  }
  // --stats
  uint64_t stops = 0, requests = 0, waits = 0, wakes = 0;
};

}  // namespace vview
