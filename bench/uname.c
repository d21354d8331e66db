/* uname loop: usage uname N NODENAME. Prints ns per call; checks the node name a view shows. */
#include "common.h"
#include <string.h>
#include <sys/utsname.h>

int main(int argc, char **argv) {
  long n = arg_n(argc, argv, 1, 200000);
  const char *expect = argc > 2 ? argv[2] : NULL;
  struct utsname u;
  if (uname(&u) != 0) return 1;
  if (expect && strcmp(u.nodename, expect) != 0) {
    fprintf(stderr, "uname: nodename %s, expected %s\n", u.nodename, expect);
    return 1;
  }
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) uname(&u);
  long long t1 = now_ns();
  printf("%.2f\n", (double)(t1 - t0) / n);
  return 0;
}
