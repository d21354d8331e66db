#include "syscall_desc.h"

#include <cstddef>
#include <vector>

#if defined(__x86_64__)
#include "generated/syscalls_x86_64.h"
namespace table = vview::arch::x86_64;
#else
#error "vview: this architecture is not supported yet (x86-64 only; see native/arch/)"
#endif

namespace vview {

const SyscallDesc* syscall_desc(long nr) {
  static const std::vector<const SyscallDesc*> by_nr = [] {
    std::vector<const SyscallDesc*> v;
    for (const SyscallDesc& d : table::kSyscalls) {
      if ((std::size_t)d.nr >= v.size()) v.resize(d.nr + 1, nullptr);
      v[d.nr] = &d;
    }
    return v;
  }();
  return nr >= 0 && (std::size_t)nr < by_nr.size() ? by_nr[nr] : nullptr;
}

}  // namespace vview
