/* getpid loop: usage getpid N. Prints ns per call. */
#include "common.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = arg_n(argc, argv, 1, 1000000);
  long sink = 0;
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) sink += syscall(SYS_getpid);
  long long t1 = now_ns();
  if (sink == 0) return 3;
  printf("%.2f\n", (double)(t1 - t0) / n);
  return 0;
}
