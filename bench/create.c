/* File creation loop: usage create DIR N. Creates DIR/f0 .. DIR/f(N-1) (open
 * O_CREAT|O_EXCL, close), DIR made first; prints ns per file. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  long n = arg_n(argc, argv, 2, 2000);
  if (mkdir(argv[1], 0755) != 0) {
    perror(argv[1]);
    return 2;
  }
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 2;
  char name[32];
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) {
    snprintf(name, sizeof name, "f%ld", i);
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    check("create", "ok", fd < 0, errno);
    close(fd);
  }
  long long t1 = now_ns();
  printf("%.2f\n", (double)(t1 - t0) / n);
  return 0;
}
