/* Creates a tree of empty files: usage mktree DIR A B F
 * DIR/dI/sJ/fK for I < A, J < B, K < F (A*B*F files, A + A*B directories; DIR itself
 * is created if missing). Prints the time it took in ms.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
  fprintf(stderr, "mktree: %s %s: %s\n", what, path, strerror(errno));
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  const char *dir = argv[1];
  long a = arg_n(argc, argv, 2, 10), b = arg_n(argc, argv, 3, 10), f = arg_n(argc, argv, 4, 100);
  char p[4096];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("mkdir", dir);
  long long t0 = now_ns();
  for (long i = 0; i < a; i++) {
    snprintf(p, sizeof p, "%s/d%ld", dir, i);
    if (mkdir(p, 0755) != 0) die("mkdir", p);
    for (long j = 0; j < b; j++) {
      snprintf(p, sizeof p, "%s/d%ld/s%ld", dir, i, j);
      if (mkdir(p, 0755) != 0) die("mkdir", p);
      for (long k = 0; k < f; k++) {
        snprintf(p, sizeof p, "%s/d%ld/s%ld/f%ld", dir, i, j, k);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) die("create", p);
        close(fd);
      }
    }
  }
  printf("%.3f\n", (double)(now_ns() - t0) / 1e6);
  return 0;
}
