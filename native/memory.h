// Tracee memory access: process_vm_readv/writev, page by page so that a string
// ending just before an unmapped page is still read.
#pragma once
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace vview {

// Reads exactly len bytes; returns 0 or -errno (EFAULT on a bad address).
int read_mem(pid_t tid, uint64_t addr, void* buf, size_t len);
// Writes exactly len bytes; -EFAULT where the tracee could not write itself.
int write_mem(pid_t tid, uint64_t addr, const void* buf, size_t len);
// Reads a NUL-terminated string of at most max bytes (NUL excluded).
// Returns 0, -EFAULT, or -ENAMETOOLONG when no NUL is found within max bytes.
// mem_fd: an open /proc/PID/mem of the tracee (pread is cheaper than
// process_vm_readv on the fast path), or -1 to use process_vm_readv.
int read_str(pid_t tid, uint64_t addr, size_t max, std::string& out, int mem_fd = -1);

}  // namespace vview
