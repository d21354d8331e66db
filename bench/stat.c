/* stat loop: usage stat PATH N ok|enoent. Prints ns per call. */
#include "common.h"
#include <sys/stat.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *path = argv[1];
  long n = arg_n(argc, argv, 2, 200000);
  const char *expect = argc > 3 ? argv[3] : "ok";
  struct stat st;
  int r = stat(path, &st);
  check("stat", expect, r != 0, errno);
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) stat(path, &st);
  long long t1 = now_ns();
  r = stat(path, &st);
  check("stat", expect, r != 0, errno);
  printf("%.2f\n", (double)(t1 - t0) / n);
  return 0;
}
