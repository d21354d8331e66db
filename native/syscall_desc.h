// The shape of the syscall description native code reads. The data comes from
// src/vm/syscalls/table.ts through scripts/gen-native.ts (native/generated/),
// so native code and TypeScript classify every call the same way.
#pragma once
#include <cstdint>

#include "generated/abi.h"

namespace vview {

// A bit in some argument, e.g. AT_SYMLINK_NOFOLLOW in the flags argument.
struct FlagBit {
  int8_t arg = -1;
  uint64_t bit = 0;
};

// A path argument (see PathArg in src/vm/syscalls/spec.ts).
struct PathSpec {
  int8_t arg = 0;
  int8_t dirfd = -1;
  uint8_t last = kLastFollow;  // LastMode
  FlagBit nofollow, follow, empty_path;
  int8_t flags = -1;  // the open flags (kLastOpen) or open_how (kLastOpenhow) argument
  bool null_means_fd = false;
};

struct SyscallDesc {
  int nr = -1;
  const char* name = nullptr;
  uint8_t effect = kEffectNone;  // Effect
  uint8_t stat_kind = kStatNone; // StatKind
  int8_t access_mode = -1;       // access family: the mode argument
  uint8_t npaths = 0;
  PathSpec paths[2];
  uint8_t nfds = 0;
  int8_t fds[2] = {-1, -1};
};

// The description of syscall nr on this architecture (nullptr: not a syscall of it).
const SyscallDesc* syscall_desc(long nr);

}  // namespace vview
