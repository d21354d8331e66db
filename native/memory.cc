#include "memory.h"

#include <cerrno>
#include <cstring>
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
  // Like the kernel's copy_to_user: a read-only or unmapped page is EFAULT
  // (no ptrace poke, which would write through a read-only mapping).
  struct iovec local = {(void*)buf, len};
  struct iovec remote = {(void*)(uintptr_t)addr, len};
  ssize_t n = process_vm_writev(tid, &local, 1, &remote, 1, 0);
  return n == (ssize_t)len ? 0 : -EFAULT;
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
