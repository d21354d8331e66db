#include "spawn.h"
#include "generated/abi.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace vview {

static void put(const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

// Whether this process has CAP_SYS_PTRACE in its effective set (capget: async-signal-safe).
static bool has_cap_sys_ptrace() {
  struct {
    uint32_t version;
    int pid;
  } hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return data[0].effective >> 19 & 1;  // CAP_SYS_PTRACE
}

// Child side: only async-signal-safe calls.
[[noreturn]] static void child(const SpawnRequest& req, char* const* argv, int sync_fd,
                               pid_t parent, const char* const* errtext) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Node ignores SIGPIPE (and may handle others): the command must start with the
  // default dispositions, as a shell would give it.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, nullptr);
  }
  for (int fd : req.inherit_fds) fcntl(fd, F_SETFD, 0);
  // If the monitor dies before it has attached, do not run untraced.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  char go;
  if (read(sync_fd, &go, 1) != 1) _exit(127);  // the parent has seized us (or died)
  close(sync_fd);
  prctl(PR_SET_PDEATHSIG, 0);  // from now on PTRACE_O_EXITKILL covers it (joined: the outer monitor does)
  // Joined, the monitor requires NO_NEW_PRIVS of a command served by a
  // process without CAP_SYS_PTRACE (a setuid program would be answered by us).
  if (req.join_layer > 0 && !has_cap_sys_ptrace()) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (req.join_layer > 0 && prctl((int)kJoinPrctl, kJoinEnter, (unsigned long)req.join_layer, 0, 0) != 0) {
    static const char m[] = "vview: the monitor of the view around this one refused the command into the joined view\n";
    put(m, sizeof m - 1);
    _exit(126);
  }

  if (!req.filter.empty()) {
    struct sock_fprog prog = {(unsigned short)req.filter.size(),
                              const_cast<sock_filter*>(req.filter.data())};
    // With CAP_SYS_ADMIN (vview run as root) the filter needs no NO_NEW_PRIVS,
    // so a setuid binary keeps working as it does under a root tracer. Every
    // view has a filter now (the ptrace emulation), the empty one included.
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    if (r != 0 && errno == EACCES) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(126);
      r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    }
    if (r != 0) {
      static const char m[] = "vview: cannot install the seccomp filter\n";
      put(m, sizeof m - 1);
      _exit(126);
    }
  }
  int err = ENOENT;
  for (const auto& c : req.candidates) {
    execve(c.c_str(), argv, environ);
    // Like execvp: remember a permission problem over "not found".
    if (errno != ENOENT && errno != ENOTDIR) err = errno;
  }
  if (err == ENOENT || err == ENOTDIR) {
    put(req.not_found_msg.data(), req.not_found_msg.size());
    _exit(127);
  }
  put(req.denied_prefix.data(), req.denied_prefix.size());
  const char* t = err < 256 && errtext[err] ? errtext[err] : "cannot execute";
  put(t, strlen(t));
  put("\n", 1);
  _exit(126);
}

pid_t spawn_traced(const SpawnRequest& req, std::string& error) {
  std::vector<char*> argv;
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // strerror is not async-signal-safe: take the texts now.
  static const char* errtext[256];
  for (int e = 1; e < 256; e++) errtext[e] = strerror(e);

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + strerror(errno);
    return -errno;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sync[0]);
    close(sync[1]);
    error = std::string("fork: ") + strerror(e);
    return -e;
  }
  if (pid == 0) {
    close(sync[1]);
    child(req, argv.data(), sync[0], parent, errtext);
  }
  close(sync[0]);
  if (req.join_layer <= 0 && ptrace(PTRACE_SEIZE, pid, nullptr, (void*)req.ptrace_options) != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, __WALL);
    close(sync[1]);
    error = std::string("cannot trace the command: ptrace(PTRACE_SEIZE): ") + strerror(e);
    if (e == EPERM)
      error += " (is vview running under a tracer such as strace or gdb started outside it? "
               "Run them inside the view instead (vview run -- strace ...); a vview inside a "
               "vview works. Or ptrace is restricted: see /proc/sys/kernel/yama/ptrace_scope)";
    return -e;
  }
  char go = 'g';
  ssize_t w = write(sync[1], &go, 1);
  close(sync[1]);
  if (w != 1) {
    error = "cannot start the command";
    return -EIO;
  }
  return pid;
}

}  // namespace vview
