// File helpers Node's fs lacks, for state files and the vfs store: advisory
// locks (flock) and a copy that keeps holes (SEEK_DATA / SEEK_HOLE).
#pragma once
#include <napi.h>

namespace vview {
// flock(fd, op): 0 or -errno. op: LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8.
Napi::Value FileLock(const Napi::CallbackInfo& info);
// copySparse(srcFd, srcOff, dstFd, dstOff, len): bytes of data copied, or -errno.
Napi::Value CopySparse(const Napi::CallbackInfo& info);
}  // namespace vview
