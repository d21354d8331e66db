/* open+close loop: usage openclose PATH N ok|enoent. Prints ns per iteration. */
#include "common.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *path = argv[1];
  long n = arg_n(argc, argv, 2, 100000);
  const char *expect = argc > 3 ? argv[3] : "ok";
  int fd = open(path, O_RDONLY);
  check("open", expect, fd < 0, errno);
  if (fd >= 0) close(fd);
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) {
    fd = open(path, O_RDONLY);
    if (fd >= 0) close(fd);
  }
  long long t1 = now_ns();
  fd = open(path, O_RDONLY);
  check("open", expect, fd < 0, errno);
  if (fd >= 0) close(fd);
  printf("%.2f\n", (double)(t1 - t0) / n);
  return 0;
}
