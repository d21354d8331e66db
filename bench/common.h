/* Shared helpers for the vview microbenchmarks (compiled by bench/run.js). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long arg_n(int argc, char **argv, int i, long dflt) {
  if (argc > i) {
    long n = strtol(argv[i], NULL, 10);
    if (n > 0) return n;
  }
  return dflt;
}

/* qsort comparator for medians. */
static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* expect: "ok" (the call must succeed) or "enoent" (it must fail with ENOENT). */
static inline void check(const char *what, const char *expect, int failed, int err) {
  int want_fail = expect && strcmp(expect, "enoent") == 0;
  if (want_fail ? !(failed && err == ENOENT) : failed) {
    fprintf(stderr, "%s: expected %s, got %s\n", what, want_fail ? "ENOENT" : "success",
            failed ? strerror(err) : "success");
    exit(2);
  }
}
