// Architecture layer: x86-64 registers as the tracer sees them at a syscall stop.
// Everything that knows a register name lives here; aarch64 gets a sibling file.
#pragma once
#include <cstdint>
#include <sys/user.h>
#include <linux/audit.h>

namespace vview::arch {

constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
constexpr uint32_t kX32Bit = 0x40000000;                 // x32 ABI syscall numbers
constexpr uint64_t kRedZone = 128;                       // below rsp, reserved to leaf code
constexpr uint64_t kSyscallInsnLen = 2;                  // `syscall` is 0f 05

using Regs = user_regs_struct;

inline long nr(const Regs& r) { return (long)r.orig_rax; }
inline uint64_t arg(const Regs& r, int i) {
  switch (i) {
    case 0: return r.rdi;
    case 1: return r.rsi;
    case 2: return r.rdx;
    case 3: return r.r10;
    case 4: return r.r8;
    default: return r.r9;
  }
}
inline void set_arg(Regs& r, int i, uint64_t v) {
  switch (i) {
    case 0: r.rdi = v; break;
    case 1: r.rsi = v; break;
    case 2: r.rdx = v; break;
    case 3: r.r10 = v; break;
    case 4: r.r8 = v; break;
    default: r.r9 = v; break;
  }
}
inline int64_t ret(const Regs& r) { return (int64_t)r.rax; }
inline void set_ret(Regs& r, int64_t v) { r.rax = (unsigned long long)v; }
inline uint64_t sp(const Regs& r) { return r.rsp; }
inline uint64_t ip(const Regs& r) { return r.rip; }
// Skip the syscall at a seccomp stop: the kernel then returns regs' ax unchanged.
inline void skip_syscall(Regs& r, int64_t result) {
  r.orig_rax = (unsigned long long)-1;
  r.rax = (unsigned long long)result;
}
// At a syscall-exit stop: make the same syscall run again once the tracee resumes.
inline void restart_syscall(Regs& r) {
  r.rip -= kSyscallInsnLen;
  r.rax = r.orig_rax;
}

}  // namespace vview::arch
