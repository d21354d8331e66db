#include "filter.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <linux/seccomp.h>

#include "arch.h"

namespace vview {

// The program loads `arch` and `nr`, and an argument only after it has matched
// one of the `traced_if_arg` numbers: every other ALLOW result stays constant
// per syscall, so the kernel's seccomp action cache (Linux >= 5.11) skips
// running the filter at all for them. (The cache is per nr: an nr whose path
// through the program reads an argument is simply not cached.)
std::vector<sock_filter> build_filter(const std::vector<uint32_t>& traced_in, const std::vector<ArgRoute>& traced_if_arg,
                                      bool allow_foreign) {
  std::vector<uint32_t> traced = traced_in;
  std::sort(traced.begin(), traced.end());
  traced.erase(std::unique(traced.begin(), traced.end()), traced.end());

  const uint32_t allow = SECCOMP_RET_ALLOW;
  const uint32_t trace = SECCOMP_RET_TRACE;
  // i386 (int 0x80) and x32 calls have their own numbers and argument layout;
  // the routing table is x86-64's. Under a view with modules they fail cleanly
  // rather than bypass the modules.
  const uint32_t foreign = allow_foreign ? SECCOMP_RET_ALLOW : SECCOMP_RET_ERRNO | ENOSYS;
  std::vector<sock_filter> p;
  p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch::kAuditArch, 1, 0));
  p.push_back(BPF_STMT(BPF_RET | BPF_K, foreign));
  p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
  p.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, arch::kX32Bit, 0, 1));
  p.push_back(BPF_STMT(BPF_RET | BPF_K, foreign));
  // Each comparison is followed by its own return, so no jump is longer than one
  // instruction (classic BPF jump offsets are 8 bits).
  for (uint32_t nr : traced) {
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
    p.push_back(BPF_STMT(BPF_RET | BPF_K, trace));
  }
  // nr == N: trace when args[arg] != 0 (64-bit, little-endian halves), else allow.
  for (const ArgRoute& r : traced_if_arg) {
    if (std::binary_search(traced.begin(), traced.end(), r.nr) || r.arg > 5) continue;  // already always traced
    const uint32_t lo = offsetof(struct seccomp_data, args) + 8 * r.arg;
    if (r.eq >= 0) {
      // nr == N: trace when args[arg] == eq (a 32-bit value: high half zero);
      // otherwise on to the next condition (prctl has two), nr reloaded.
      p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r.nr, 0, 6));
      p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo));
      p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r.eq, 0, 3));
      p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo + 4));
      p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
      p.push_back(BPF_STMT(BPF_RET | BPF_K, trace));
      p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
      continue;
    }
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, r.nr, 0, 6));
    p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo));
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3));  // low half set: trace
    p.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo + 4));
    p.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));  // high half set: trace
    p.push_back(BPF_STMT(BPF_RET | BPF_K, allow));
    p.push_back(BPF_STMT(BPF_RET | BPF_K, trace));
  }
  p.push_back(BPF_STMT(BPF_RET | BPF_K, allow));
  return p;
}

}  // namespace vview
