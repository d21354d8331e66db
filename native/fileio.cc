// See fileio.h. Both run on the main thread; the copy happens only while no
// tracee runs (the vfs store is read before the view starts and saved after
// it ended), so blocking is fine and the data never enters JavaScript.
#include "fileio.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace vview {
namespace {

int64_t Arg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  return v.As<Napi::Number>().Int64Value();
}

// [from, to) of src to dst at dstOff + (from - srcOff): copy_file_range, else read/write.
int64_t CopyData(int src, int64_t from, int64_t to, int dst, int64_t dstAt) {
  static bool cfr = true;  // copy_file_range unsupported between these file systems: stop trying
  int64_t done = 0;
  while (from < to) {
    ssize_t n = -1;
    if (cfr) {
      loff_t in = from, out = dstAt;
      n = copy_file_range(src, &in, dst, &out, (size_t)(to - from), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF)) {
        if (errno != EBADF) cfr = false;
        n = -1;
      } else if (n < 0) {
        return -errno;
      }
    }
    if (n < 0) {
      static std::vector<char> buf(1 << 20);
      size_t want = (size_t)std::min<int64_t>((int64_t)buf.size(), to - from);
      ssize_t r = pread(src, buf.data(), want, from);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return -errno;
      if (r == 0) break;  // the source is shorter than it said
      ssize_t w = 0;
      while (w < r) {
        ssize_t k = pwrite(dst, buf.data() + w, (size_t)(r - w), dstAt + w);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -errno;
        w += k;
      }
      n = r;
    }
    if (n == 0) break;
    from += n;
    dstAt += n;
    done += n;
  }
  return done;
}

}  // namespace

Napi::Value FileLock(const Napi::CallbackInfo& info) {
  int fd = (int)Arg(info, 0), op = (int)Arg(info, 1);
  int r;
  do r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : 0);
}

Napi::Value CopySparse(const Napi::CallbackInfo& info) {
  int src = (int)Arg(info, 0), dst = (int)Arg(info, 2);
  int64_t srcOff = Arg(info, 1), dstOff = Arg(info, 3), len = Arg(info, 4);
  int64_t end = srcOff + len, pos = srcOff, copied = 0;
  auto result = [&](int64_t v) { return Napi::Number::New(info.Env(), (double)v); };
  while (pos < end) {
    off_t data = lseek(src, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole up to the end of the file
      // No SEEK_DATA here: everything is data.
      int64_t r = CopyData(src, pos, end, dst, dstOff + (pos - srcOff));
      return result(r < 0 ? r : copied + r);
    }
    if (data >= end) break;
    off_t hole = lseek(src, data, SEEK_HOLE);
    if (hole < 0) return result(-errno);
    int64_t stop = std::min<int64_t>(hole, end);
    int64_t r = CopyData(src, data, stop, dst, dstOff + (data - srcOff));
    if (r < 0) return result(r);
    copied += r;
    if (r < stop - data) break;  // shorter than it said
    pos = stop;
  }
  return result(copied);
}

}  // namespace vview
