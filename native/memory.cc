#include "memory.h"

#include <cerrno>
#include <cstring>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

namespace vview {

static const size_t kPage = 4096;

int read_mem(pid_t tid, uint64_t addr, void* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    struct iovec local = {(char*)buf + done, len - done};
    struct iovec remote = {(void*)(uintptr_t)(addr + done), len - done};
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n <= 0) return n == 0 ? -EFAULT : (errno == ESRCH ? -ESRCH : -EFAULT);
    done += (size_t)n;
  }
  return 0;
}

int write_mem(pid_t tid, uint64_t addr, const void* buf, size_t len) {
  struct iovec local = {(void*)buf, len};
  struct iovec remote = {(void*)(uintptr_t)addr, len};
  ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
  if (n == (ssize_t)len) return 0;
  // process_vm_writev refuses read-only mappings; ptrace pokes go through them
  // (as a debugger writing a breakpoint would). Word by word, preserving the tail.
  size_t off = n > 0 ? (size_t)n : 0;
  while (off < len) {
    uint64_t a = addr + off;
    uint64_t aligned = a & ~(uint64_t)7;
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, tid, (void*)aligned, nullptr);
    if (errno) return -EFAULT;
    size_t skip = a - aligned;
    size_t take = 8 - skip;
    if (take > len - off) take = len - off;
    memcpy((char*)&word + skip, (const char*)buf + off, take);
    if (ptrace(PTRACE_POKEDATA, tid, (void*)aligned, (void*)word) < 0) return -EFAULT;
    off += take;
  }
  return 0;
}

int read_str(pid_t tid, uint64_t addr, size_t max, std::string& out, int mem_fd) {
  out.clear();
  char chunk[kPage];
  uint64_t a = addr;
  size_t want = 256;  // most paths are short: do not copy a whole page first
  while (out.size() < max + 1) {
    size_t room = kPage - (a & (kPage - 1));  // never cross a page in one read
    if (room > want) room = want;
    want = kPage;
    ssize_t n;
    if (mem_fd >= 0) {
      n = pread(mem_fd, chunk, room, (off_t)a);
    } else {
      struct iovec local = {chunk, room};
      struct iovec remote = {(void*)(uintptr_t)a, room};
      n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    }
    if (n <= 0) return -EFAULT;
    void* nul = memchr(chunk, 0, (size_t)n);
    if (nul) {
      out.append(chunk, (const char*)nul - chunk);
      return out.size() > max ? -ENAMETOOLONG : 0;
    }
    out.append(chunk, (size_t)n);
    a += (uint64_t)n;
  }
  return -ENAMETOOLONG;
}

}  // namespace vview
