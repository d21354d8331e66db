// Starting the traced command. Node is multi-threaded: between fork and execve
// the child only makes raw, async-signal-safe calls, and everything it needs
// (the BPF program, argv, the messages it may print) is built before the fork.
#pragma once
#include <string>
#include <vector>
#include <linux/filter.h>
#include <sys/types.h>

namespace vview {

struct SpawnRequest {
  std::vector<std::string> candidates;  // paths to try, in order (PATH search done by the caller)
  std::vector<std::string> argv;
  std::vector<sock_filter> filter;      // empty: no filter at all (nothing routed)
  std::string not_found_msg;            // printed by the child when no candidate exists
  std::string denied_prefix;            // "vview: cmd: " + strerror for other failures
  std::vector<int> inherit_fds;         // made inheritable again (Node marks all fds CLOEXEC)
  long ptrace_options = 0;
  // Joined (src/vm/layers.ts): not traced by this process; the child enters
  // this layer of the monitor that traces us (prctl kJoinEnter) before it
  // installs the filter and execs. 0: traced by this process.
  int join_layer = 0;
};

// Forks, seizes (unless joining), and lets the child install the filter and exec. Returns the pid
// or -errno (with `error` describing it).
pid_t spawn_traced(const SpawnRequest& req, std::string& error);

}  // namespace vview
