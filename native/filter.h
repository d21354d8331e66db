// The seccomp-bpf program, generated from the routing table: a syscall that no
// module claims returns SECCOMP_RET_ALLOW in the kernel and never stops.
#pragma once
#include <cstdint>
#include <vector>
#include <linux/filter.h>

namespace vview {

// A syscall that stops only when one argument is non-zero (e.g. sendto with a
// destination address): the filter loads that argument for this nr alone, so
// every other nr keeps the kernel's per-nr action cache.
struct ArgRoute {
  uint32_t nr;
  uint32_t arg;      // 0..5
  int64_t eq = -1;   // >= 0: stop only when the argument equals this (prctl(PR_SET_SECCOMP)); else when non-zero
};
// traced: syscall numbers that must stop (SECCOMP_RET_TRACE); traced_if_arg:
// those that stop only with that argument non-zero. i386/x32 calls are refused
// with ENOSYS: a view with modules is not bypassed by another ABI; with
// allow_foreign (only the ptrace emulation routes, no module) they are allowed.
std::vector<sock_filter> build_filter(const std::vector<uint32_t>& traced, const std::vector<ArgRoute>& traced_if_arg,
                                      bool allow_foreign = false);

}  // namespace vview
