/* fsync after a small write in a large file (the vfs write-back cost).
 *   fsync PATH MIB N   create PATH with MIB MiB (not timed), then N times:
 *                      pwrite 4 KiB at a spread offset, fsync. Prints the
 *                      median fsync in ms (the pwrite is not counted).
 */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *path = argv[1];
  long mib = arg_n(argc, argv, 2, 200), n = arg_n(argc, argv, 3, 10);
  static char buf[1024 * 1024];
  memset(buf, 'v', sizeof buf);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    fprintf(stderr, "fsync: open %s: %s\n", path, strerror(errno));
    return 2;
  }
  for (long m = 0; m < mib; m++)
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return 2;
  if (fsync(fd) != 0) return 2;
  double *ms = calloc((size_t)n, sizeof *ms);
  for (long i = 0; i < n; i++) {
    off_t off = (off_t)((i * 7919 % mib) * 1024 * 1024);
    if (pwrite(fd, buf, 4096, off) != 4096) return 2;
    double t0 = now_ns();
    if (fsync(fd) != 0) return 2;
    ms[i] = (now_ns() - t0) / 1e6;
  }
  close(fd);
  qsort(ms, (size_t)n, sizeof *ms, cmp_double);
  printf("%.3f\n", ms[n / 2]);
  return 0;
}
