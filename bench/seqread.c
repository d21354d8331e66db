/* Sequential file I/O.
 *   seqread write PATH MIB   create PATH (O_CREAT|O_TRUNC) and write MIB MiB of a
 *                            pattern in 1 MiB chunks; not timed, prints nothing.
 *   seqread read PATH REPS   REPS passes of open, read() to EOF in 128 KiB chunks
 *                            (cat's buffer size), close; checks every pass read the
 *                            whole file. Prints two lines: the first pass's ms, then
 *                            the median pass's ms (open to close).
 */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define WCHUNK (1024 * 1024)
#define RCHUNK (128 * 1024)

static void die(const char *what, const char *path) {
  fprintf(stderr, "seqread: %s %s: %s\n", what, path, strerror(errno));
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *path = argv[2];
  if (strcmp(argv[1], "write") == 0) {
    long mib = arg_n(argc, argv, 3, 64);
    static char buf[WCHUNK];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 131 + (i >> 12));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open", path);
    for (long m = 0; m < mib; m++) {
      buf[0] = (char)m;
      for (size_t off = 0; off < sizeof buf;) {
        ssize_t w = write(fd, buf + off, sizeof buf - off);
        if (w <= 0) die("write", path);
        off += w;
      }
    }
    if (close(fd) != 0) die("close", path);
    return 0;
  }
  long reps = arg_n(argc, argv, 3, 5);
  struct stat st;
  if (stat(path, &st) != 0) die("stat", path);
  static char buf[RCHUNK];
  unsigned long sum = 0;
  double *ms = calloc(reps, sizeof *ms);
  if (!ms) return 2;
  for (long r = 0; r < reps; r++) {
    long long t0 = now_ns();
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open", path);
    long long total = 0;
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0) die("read", path);
      if (n == 0) break;
      sum += (unsigned char)buf[0];
      total += n;
    }
    close(fd);
    ms[r] = (double)(now_ns() - t0) / 1e6;
    if (total != (long long)st.st_size) {
      fprintf(stderr, "seqread: pass %ld read %lld bytes of %lld\n", r, total, (long long)st.st_size);
      return 2;
    }
  }
  if (sum == 1) fprintf(stderr, "-\n"); /* keep the loads */
  printf("%.3f\n", ms[0]);
  qsort(ms, reps, sizeof *ms, cmp_double);
  printf("%.3f\n", reps % 2 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2);
  return 0;
}
