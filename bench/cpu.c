/* CPU-only loop, no syscalls inside: usage cpu ITERATIONS. Prints total ms. */
#include "common.h"

int main(int argc, char **argv) {
  long n = arg_n(argc, argv, 1, 100000000);
  volatile unsigned long long sink;
  unsigned long long x = 88172645463325252ULL;
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  sink = x;
  (void)sink;
  long long t1 = now_ns();
  printf("%.3f\n", (double)(t1 - t0) / 1e6);
  return 0;
}
