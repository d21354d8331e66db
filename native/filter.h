// The seccomp-bpf program, generated from the routing table: a syscall that no
// module claims returns SECCOMP_RET_ALLOW in the kernel and never stops.
#pragma once
#include <cstdint>
#include <vector>
#include <linux/filter.h>

namespace vview {

constexpr uint16_t kForeignRoute = 0xFFFF;  // SECCOMP_RET_DATA for i386 / x32 calls

// traced: syscall numbers that must stop (SECCOMP_RET_TRACE); foreign_trace: also
// stop i386/x32 calls (so a view with modules is not bypassed by another ABI).
std::vector<sock_filter> build_filter(const std::vector<uint32_t>& traced, bool foreign_trace);

}  // namespace vview
