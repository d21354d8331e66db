/* Times a command: usage timeit [-r REPS] [-q | -l LINES] COMMAND [ARGS...]
 * Runs COMMAND (fork + execvp) REPS times (default 1), one after the other, waiting
 * for each; prints the median wall time of a run in ms, from before the fork to after
 * the wait. The command's standard output goes to /dev/null with -q; with -l it
 * is read through a pipe (as `| wc -l` would) and must have exactly LINES lines each
 * run. Exits 2 if a run fails or a count differs.
 * Lets a benchmark time one step of a shell script (the setup before it not counted).
 */
#include "common.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int i = 1, quiet = 0;
  long want = -1, reps = 1;
  if (i + 1 < argc && strcmp(argv[i], "-r") == 0) reps = arg_n(argc, argv, i + 1, 1), i += 2;
  if (i < argc && strcmp(argv[i], "-q") == 0) quiet = 1, i++;
  else if (i + 1 < argc && strcmp(argv[i], "-l") == 0) want = strtol(argv[i + 1], NULL, 10), i += 2;
  if (i >= argc) return 2;
  double *ms = calloc(reps, sizeof *ms);
  if (!ms) return 2;
  for (long rep = 0; rep < reps; rep++) {
    long long t0 = now_ns();
    int pfd[2] = {-1, -1};
    if (want >= 0 && pipe(pfd) != 0) return 2;
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      if (quiet) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
      } else if (want >= 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
      }
      execvp(argv[i], argv + i);
      fprintf(stderr, "timeit: %s: %s\n", argv[i], strerror(errno));
      _exit(127);
    }
    long lines = 0;
    if (want >= 0) {
      close(pfd[1]);
      static char buf[65536];
      ssize_t n;
      while ((n = read(pfd[0], buf, sizeof buf)) > 0)
        for (ssize_t k = 0; k < n; k++) lines += buf[k] == '\n';
      close(pfd[0]);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) return 2;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "timeit: %s failed (%s %d)\n", argv[i], WIFEXITED(status) ? "exit" : "signal",
              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      return 2;
    }
    if (want >= 0 && lines != want) {
      fprintf(stderr, "timeit: %s printed %ld lines, expected %ld\n", argv[i], lines, want);
      return 2;
    }
    ms[rep] = (double)(now_ns() - t0) / 1e6;
  }
  qsort(ms, reps, sizeof *ms, cmp_double);
  printf("%.3f\n", reps % 2 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2);
  return 0;
}
