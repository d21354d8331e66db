/**
 * Classification of every x86-64 system call (see spec.ts for the meaning of
 * each field). Typed as a total Record over the architecture's syscall names:
 * a syscall added to src/vm/arch/x86_64/syscalls.ts without an entry here, or a
 * misspelled name, fails the build.
 *
 * Argument lists follow the kernel's SYSCALL_DEFINEn signatures for the 64-bit
 * ABI (not the libc wrappers): e.g. faccessat and fchmodat take 3 arguments,
 * fanotify_mark takes 5 (the 64-bit mask is one register), preadv/pwritev take
 * pos_l and pos_h.
 *
 * Conventions:
 * - Flag bits are spelled with the named constants below, checked against the
 *   uapi headers (fcntl.h, inotify.h, fanotify.h, mount.h).
 * - uid/gid arguments are 'int' because -1 ("leave unchanged") is meaningful.
 * - Syscall numbers that were never implemented on x86-64, or were removed
 *   (afs_syscall, tuxcall, vserver, ...), take no arguments; the kernel returns
 *   ENOSYS without reading any register.
 *
 * Path subtleties the spec cannot express, left to the handlers:
 * - statx, newfstatat, the *xattrat calls and file_getattr/file_setattr accept a
 *   NULL path together with AT_EMPTY_PATH (Linux 6.11+), meaning the dirfd itself,
 *   like "". nullMeansFd is reserved for calls where NULL alone means the dirfd
 *   (utimensat, futimesat, fanotify_mark).
 * - readlinkat with an empty path reads the symlink the dirfd refers to (an
 *   O_PATH fd), with no flag needed.
 * - mount's source (arg 0) is a path lookup for MS_BIND / MS_MOVE and block
 *   devices, and mount data / fsconfig values can name paths (overlayfs
 *   lowerdir=...). They are classified 'str' / 'ptr' as decided for this table.
 * - quotactl(Q_QUOTAON)'s addr (arg 3) is a path to the quota file.
 * - AF_UNIX socket addresses in bind/connect/sendto/sendmsg are paths inside a
 *   struct sockaddr.
 */
import type { SyscallSpec } from './spec.js';
import type { X86_64SyscallName } from '../arch/x86_64/syscalls.js';

// <linux/fcntl.h>
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
// <linux/inotify.h>
const IN_DONT_FOLLOW = 0x02000000;
// <linux/fanotify.h>
const FAN_MARK_DONTFOLLOW = 0x4;
// <linux/mount.h> / <sys/mount.h>
const UMOUNT_NOFOLLOW = 0x8;
const MOVE_MOUNT_F_SYMLINKS = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOVE_MOUNT_T_SYMLINKS = 0x10;
const MOVE_MOUNT_T_EMPTY_PATH = 0x40;
const FSPICK_SYMLINK_NOFOLLOW = 0x2;
const FSPICK_EMPTY_PATH = 0x8;

export const SYSCALL_SPECS: Record<X86_64SyscallName, SyscallSpec> = {
  read: { args: ['fd', 'ptr', 'size'], fds: [0] }, // 0
  write: { effect: 'write', args: ['fd', 'ptr', 'size'], fds: [0] }, // 1
  open: { effect: 'open', args: ['path', 'oflags', 'mode'], paths: [{ arg: 0, last: 'open', flags: 1 }] }, // 2
  close: { args: ['fd'], fds: [0] }, // 3
  stat: { effect: 'query', stat: 'path', args: ['path', 'ptr'], paths: [{ arg: 0, last: 'follow' }] }, // 4
  fstat: { effect: 'query', stat: 'fd', args: ['fd', 'ptr'], fds: [0] }, // 5
  lstat: { effect: 'query', stat: 'link', args: ['path', 'ptr'], paths: [{ arg: 0, last: 'nofollow' }] }, // 6
  poll: { args: ['ptr', 'uint', 'int'] }, // 7
  lseek: { args: ['fd', 'int', 'int'], fds: [0] }, // 8
  mmap: { args: ['ptr', 'size', 'hex', 'hex', 'fd', 'hex'], fds: [4] }, // 9
  mprotect: { args: ['ptr', 'size', 'hex'] }, // 10
  munmap: { args: ['ptr', 'size'] }, // 11
  brk: { args: ['ptr'] }, // 12
  rt_sigaction: { args: ['signal', 'ptr', 'ptr', 'size'] }, // 13
  rt_sigprocmask: { args: ['int', 'ptr', 'ptr', 'size'] }, // 14
  rt_sigreturn: { args: [] }, // 15
  ioctl: { args: ['fd', 'hex', 'hex'], fds: [0] }, // 16
  pread64: { args: ['fd', 'ptr', 'size', 'int'], fds: [0] }, // 17
  pwrite64: { effect: 'write', args: ['fd', 'ptr', 'size', 'int'], fds: [0] }, // 18
  readv: { args: ['fd', 'ptr', 'uint'], fds: [0] }, // 19
  writev: { effect: 'write', args: ['fd', 'ptr', 'uint'], fds: [0] }, // 20
  access: { effect: 'query', accessMode: 1, args: ['path', 'hex'], paths: [{ arg: 0, last: 'follow' }] }, // 21
  pipe: { args: ['ptr'] }, // 22
  select: { args: ['int', 'ptr', 'ptr', 'ptr', 'ptr'] }, // 23
  sched_yield: { args: [] }, // 24
  mremap: { args: ['ptr', 'size', 'size', 'hex', 'ptr'] }, // 25
  msync: { args: ['ptr', 'size', 'hex'] }, // 26
  mincore: { args: ['ptr', 'size', 'ptr'] }, // 27
  madvise: { args: ['ptr', 'size', 'int'] }, // 28
  shmget: { args: ['hex', 'size', 'hex'] }, // 29
  shmat: { args: ['int', 'ptr', 'hex'] }, // 30
  shmctl: { args: ['int', 'int', 'ptr'] }, // 31
  dup: { args: ['fd'], fds: [0] }, // 32
  dup2: { args: ['fd', 'int'], fds: [0] }, // 33
  pause: { args: [] }, // 34
  nanosleep: { args: ['ptr', 'ptr'] }, // 35
  getitimer: { args: ['int', 'ptr'] }, // 36
  alarm: { args: ['uint'] }, // 37
  setitimer: { args: ['int', 'ptr', 'ptr'] }, // 38
  getpid: { args: [] }, // 39
  sendfile: { args: ['fd', 'fd', 'ptr', 'size'], fds: [0, 1] }, // 40
  socket: { args: ['int', 'hex', 'int'] }, // 41
  connect: { args: ['fd', 'ptr', 'size'], fds: [0] }, // 42
  accept: { args: ['fd', 'ptr', 'ptr'], fds: [0] }, // 43
  sendto: { args: ['fd', 'ptr', 'size', 'hex', 'ptr', 'size'], fds: [0] }, // 44
  recvfrom: { args: ['fd', 'ptr', 'size', 'hex', 'ptr', 'ptr'], fds: [0] }, // 45
  sendmsg: { args: ['fd', 'ptr', 'hex'], fds: [0] }, // 46
  recvmsg: { args: ['fd', 'ptr', 'hex'], fds: [0] }, // 47
  shutdown: { args: ['fd', 'int'], fds: [0] }, // 48
  bind: { args: ['fd', 'ptr', 'size'], fds: [0] }, // 49
  listen: { args: ['fd', 'int'], fds: [0] }, // 50
  getsockname: { args: ['fd', 'ptr', 'ptr'], fds: [0] }, // 51
  getpeername: { args: ['fd', 'ptr', 'ptr'], fds: [0] }, // 52
  socketpair: { args: ['int', 'hex', 'int', 'ptr'] }, // 53
  setsockopt: { args: ['fd', 'int', 'int', 'ptr', 'size'], fds: [0] }, // 54
  getsockopt: { args: ['fd', 'int', 'int', 'ptr', 'ptr'], fds: [0] }, // 55
  clone: { args: ['hex', 'ptr', 'ptr', 'ptr', 'ptr'] }, // 56: flags, stack, parent_tid, child_tid, tls
  fork: { args: [] }, // 57
  vfork: { args: [] }, // 58
  execve: { effect: 'exec', args: ['path', 'strv', 'strv'], paths: [{ arg: 0, last: 'follow' }] }, // 59
  exit: { args: ['int'] }, // 60
  wait4: { args: ['pid', 'ptr', 'hex', 'ptr'] }, // 61
  kill: { args: ['pid', 'signal'] }, // 62
  uname: { args: ['ptr'] }, // 63
  semget: { args: ['hex', 'int', 'hex'] }, // 64
  semop: { args: ['int', 'ptr', 'size'] }, // 65
  semctl: { args: ['int', 'int', 'int', 'hex'] }, // 66
  shmdt: { args: ['ptr'] }, // 67
  msgget: { args: ['hex', 'hex'] }, // 68
  msgsnd: { args: ['int', 'ptr', 'size', 'hex'] }, // 69
  msgrcv: { args: ['int', 'ptr', 'size', 'int', 'hex'] }, // 70
  msgctl: { args: ['int', 'int', 'ptr'] }, // 71
  fcntl: { args: ['fd', 'int', 'hex'], fds: [0] }, // 72
  flock: { args: ['fd', 'hex'], fds: [0] }, // 73
  fsync: { args: ['fd'], fds: [0] }, // 74
  fdatasync: { args: ['fd'], fds: [0] }, // 75
  truncate: { effect: 'attr', args: ['path', 'size'], paths: [{ arg: 0, last: 'follow' }] }, // 76
  ftruncate: { effect: 'write', args: ['fd', 'size'], fds: [0] }, // 77
  getdents: { args: ['fd', 'ptr', 'size'], fds: [0] }, // 78
  getcwd: { args: ['ptr', 'size'] }, // 79
  chdir: { effect: 'cwd', args: ['path'], paths: [{ arg: 0, last: 'follow' }] }, // 80
  fchdir: { effect: 'cwd', args: ['fd'], fds: [0] }, // 81
  rename: {
    effect: 'rename',
    args: ['path', 'path'],
    paths: [
      { arg: 0, last: 'nofollow' },
      { arg: 1, last: 'nofollow' },
    ],
  }, // 82
  mkdir: { effect: 'create', args: ['path', 'mode'], paths: [{ arg: 0, last: 'nofollow' }] }, // 83
  rmdir: { effect: 'remove', args: ['path'], paths: [{ arg: 0, last: 'nofollow' }] }, // 84
  // creat = open(O_CREAT|O_WRONLY|O_TRUNC) without O_EXCL: a final symlink is followed.
  creat: { effect: 'open', args: ['path', 'mode'], paths: [{ arg: 0, last: 'follow' }] }, // 85
  link: {
    effect: 'link',
    args: ['path', 'path'],
    paths: [
      { arg: 0, last: 'nofollow' },
      { arg: 1, last: 'nofollow' },
    ],
  }, // 86
  unlink: { effect: 'remove', args: ['path'], paths: [{ arg: 0, last: 'nofollow' }] }, // 87
  symlink: { effect: 'create', args: ['str', 'path'], paths: [{ arg: 1, last: 'nofollow' }] }, // 88
  readlink: { effect: 'query', args: ['path', 'ptr', 'size'], paths: [{ arg: 0, last: 'nofollow' }] }, // 89
  chmod: { effect: 'attr', args: ['path', 'mode'], paths: [{ arg: 0, last: 'follow' }] }, // 90
  fchmod: { effect: 'attr', args: ['fd', 'mode'], fds: [0] }, // 91
  chown: { effect: 'attr', args: ['path', 'int', 'int'], paths: [{ arg: 0, last: 'follow' }] }, // 92
  fchown: { effect: 'attr', args: ['fd', 'int', 'int'], fds: [0] }, // 93
  lchown: { effect: 'attr', args: ['path', 'int', 'int'], paths: [{ arg: 0, last: 'nofollow' }] }, // 94
  umask: { args: ['mode'] }, // 95
  gettimeofday: { args: ['ptr', 'ptr'] }, // 96
  getrlimit: { args: ['int', 'ptr'] }, // 97
  getrusage: { args: ['int', 'ptr'] }, // 98
  sysinfo: { args: ['ptr'] }, // 99
  times: { args: ['ptr'] }, // 100
  ptrace: { args: ['int', 'pid', 'ptr', 'ptr'] }, // 101
  getuid: { args: [] }, // 102
  syslog: { args: ['int', 'ptr', 'size'] }, // 103
  getgid: { args: [] }, // 104
  setuid: { args: ['uint'] }, // 105
  setgid: { args: ['uint'] }, // 106
  geteuid: { args: [] }, // 107
  getegid: { args: [] }, // 108
  setpgid: { args: ['pid', 'pid'] }, // 109
  getppid: { args: [] }, // 110
  getpgrp: { args: [] }, // 111
  setsid: { args: [] }, // 112
  setreuid: { args: ['int', 'int'] }, // 113
  setregid: { args: ['int', 'int'] }, // 114
  getgroups: { args: ['int', 'ptr'] }, // 115
  setgroups: { args: ['int', 'ptr'] }, // 116
  setresuid: { args: ['int', 'int', 'int'] }, // 117
  getresuid: { args: ['ptr', 'ptr', 'ptr'] }, // 118
  setresgid: { args: ['int', 'int', 'int'] }, // 119
  getresgid: { args: ['ptr', 'ptr', 'ptr'] }, // 120
  getpgid: { args: ['pid'] }, // 121
  setfsuid: { args: ['uint'] }, // 122
  setfsgid: { args: ['uint'] }, // 123
  getsid: { args: ['pid'] }, // 124
  capget: { args: ['ptr', 'ptr'] }, // 125
  capset: { args: ['ptr', 'ptr'] }, // 126
  rt_sigpending: { args: ['ptr', 'size'] }, // 127
  rt_sigtimedwait: { args: ['ptr', 'ptr', 'ptr', 'size'] }, // 128
  rt_sigqueueinfo: { args: ['pid', 'signal', 'ptr'] }, // 129
  rt_sigsuspend: { args: ['ptr', 'size'] }, // 130
  sigaltstack: { args: ['ptr', 'ptr'] }, // 131
  utime: { effect: 'attr', args: ['path', 'ptr'], paths: [{ arg: 0, last: 'follow' }] }, // 132
  mknod: { effect: 'create', args: ['path', 'mode', 'hex'], paths: [{ arg: 0, last: 'nofollow' }] }, // 133
  // Removed from recent kernels (ENOSYS), but older hosts still resolve the path.
  uselib: { effect: 'exec', args: ['path'], paths: [{ arg: 0, last: 'follow' }] }, // 134
  personality: { args: ['hex'] }, // 135
  ustat: { args: ['hex', 'ptr'] }, // 136
  statfs: { effect: 'query', args: ['path', 'ptr'], paths: [{ arg: 0, last: 'follow' }] }, // 137
  fstatfs: { effect: 'query', args: ['fd', 'ptr'], fds: [0] }, // 138
  sysfs: { args: ['int', 'hex', 'hex'] }, // 139
  getpriority: { args: ['int', 'int'] }, // 140
  setpriority: { args: ['int', 'int', 'int'] }, // 141
  sched_setparam: { args: ['pid', 'ptr'] }, // 142
  sched_getparam: { args: ['pid', 'ptr'] }, // 143
  sched_setscheduler: { args: ['pid', 'int', 'ptr'] }, // 144
  sched_getscheduler: { args: ['pid'] }, // 145
  sched_get_priority_max: { args: ['int'] }, // 146
  sched_get_priority_min: { args: ['int'] }, // 147
  sched_rr_get_interval: { args: ['pid', 'ptr'] }, // 148
  mlock: { args: ['ptr', 'size'] }, // 149
  munlock: { args: ['ptr', 'size'] }, // 150
  mlockall: { args: ['hex'] }, // 151
  munlockall: { args: [] }, // 152
  vhangup: { args: [] }, // 153
  modify_ldt: { args: ['int', 'ptr', 'size'] }, // 154
  pivot_root: {
    effect: 'mount', refuse: 'mount',
    args: ['path', 'path'],
    paths: [
      { arg: 0, last: 'follow' },
      { arg: 1, last: 'follow' },
    ],
  }, // 155
  _sysctl: { args: ['ptr'] }, // 156 (removed: ENOSYS)
  prctl: { args: ['int', 'hex', 'hex', 'hex', 'hex'] }, // 157
  arch_prctl: { args: ['int', 'hex'] }, // 158
  adjtimex: { args: ['ptr'] }, // 159
  setrlimit: { args: ['int', 'ptr'] }, // 160
  chroot: { effect: 'root', refuse: 'chroot', args: ['path'], paths: [{ arg: 0, last: 'follow' }] }, // 161
  sync: { args: [] }, // 162
  acct: { effect: 'admin', args: ['path'], paths: [{ arg: 0, last: 'follow' }] }, // 163 (NULL turns accounting off)
  settimeofday: { args: ['ptr', 'ptr'] }, // 164
  // dev_name is classified 'str' (see the header comment); the target is a path.
  mount: { effect: 'mount', refuse: 'mount', args: ['str', 'path', 'str', 'hex', 'ptr'], paths: [{ arg: 1, last: 'follow' }] }, // 165
  umount2: {
    effect: 'mount', refuse: 'mount',
    args: ['path', 'hex'],
    paths: [{ arg: 0, last: 'follow', nofollowFlag: { arg: 1, bit: UMOUNT_NOFOLLOW } }],
  }, // 166
  swapon: { effect: 'admin', args: ['path', 'hex'], paths: [{ arg: 0, last: 'follow' }] }, // 167
  swapoff: { effect: 'admin', args: ['path'], paths: [{ arg: 0, last: 'follow' }] }, // 168
  reboot: { args: ['hex', 'hex', 'hex', 'ptr'] }, // 169
  sethostname: { args: ['ptr', 'size'] }, // 170
  setdomainname: { args: ['ptr', 'size'] }, // 171
  iopl: { args: ['uint'] }, // 172
  ioperm: { args: ['hex', 'uint', 'int'] }, // 173
  create_module: { args: ['str', 'size'] }, // 174 (removed in 2.6: ENOSYS)
  init_module: { args: ['ptr', 'size', 'str'] }, // 175
  delete_module: { args: ['str', 'hex'] }, // 176
  get_kernel_syms: { args: ['ptr'] }, // 177 (removed in 2.6: ENOSYS)
  query_module: { args: ['str', 'int', 'ptr', 'size', 'ptr'] }, // 178 (removed in 2.6: ENOSYS)
  quotactl: { effect: 'admin', args: ['hex', 'path', 'int', 'ptr'], paths: [{ arg: 1, last: 'follow' }] }, // 179
  nfsservctl: { args: ['int', 'ptr', 'ptr'] }, // 180 (removed in 3.1: ENOSYS)
  getpmsg: { args: [] }, // 181 (never implemented)
  putpmsg: { args: [] }, // 182 (never implemented)
  afs_syscall: { args: [] }, // 183 (never implemented)
  tuxcall: { args: [] }, // 184 (never implemented)
  security: { args: [] }, // 185 (never implemented)
  gettid: { args: [] }, // 186
  readahead: { args: ['fd', 'int', 'size'], fds: [0] }, // 187
  setxattr: {
    effect: 'attr',
    args: ['path', 'str', 'ptr', 'size', 'hex'],
    paths: [{ arg: 0, last: 'follow' }],
  }, // 188
  lsetxattr: {
    effect: 'attr',
    args: ['path', 'str', 'ptr', 'size', 'hex'],
    paths: [{ arg: 0, last: 'nofollow' }],
  }, // 189
  fsetxattr: { effect: 'attr', args: ['fd', 'str', 'ptr', 'size', 'hex'], fds: [0] }, // 190
  getxattr: { effect: 'query', args: ['path', 'str', 'ptr', 'size'], paths: [{ arg: 0, last: 'follow' }] }, // 191
  lgetxattr: { effect: 'query', args: ['path', 'str', 'ptr', 'size'], paths: [{ arg: 0, last: 'nofollow' }] }, // 192
  fgetxattr: { effect: 'query', args: ['fd', 'str', 'ptr', 'size'], fds: [0] }, // 193
  listxattr: { effect: 'query', args: ['path', 'ptr', 'size'], paths: [{ arg: 0, last: 'follow' }] }, // 194
  llistxattr: { effect: 'query', args: ['path', 'ptr', 'size'], paths: [{ arg: 0, last: 'nofollow' }] }, // 195
  flistxattr: { effect: 'query', args: ['fd', 'ptr', 'size'], fds: [0] }, // 196
  removexattr: { effect: 'attr', args: ['path', 'str'], paths: [{ arg: 0, last: 'follow' }] }, // 197
  lremovexattr: { effect: 'attr', args: ['path', 'str'], paths: [{ arg: 0, last: 'nofollow' }] }, // 198
  fremovexattr: { effect: 'attr', args: ['fd', 'str'], fds: [0] }, // 199
  tkill: { args: ['pid', 'signal'] }, // 200
  time: { args: ['ptr'] }, // 201
  futex: { args: ['ptr', 'int', 'int', 'ptr', 'ptr', 'int'] }, // 202
  sched_setaffinity: { args: ['pid', 'size', 'ptr'] }, // 203
  sched_getaffinity: { args: ['pid', 'size', 'ptr'] }, // 204
  set_thread_area: { args: ['ptr'] }, // 205 (i386 only: ENOSYS in the 64-bit ABI)
  io_setup: { args: ['uint', 'ptr'] }, // 206
  io_destroy: { args: ['hex'] }, // 207
  io_getevents: { args: ['hex', 'int', 'int', 'ptr', 'ptr'] }, // 208
  io_submit: { args: ['hex', 'int', 'ptr'] }, // 209 (the fds are inside the iocbs)
  io_cancel: { args: ['hex', 'ptr', 'ptr'] }, // 210
  get_thread_area: { args: ['ptr'] }, // 211 (i386 only: ENOSYS in the 64-bit ABI)
  lookup_dcookie: { args: ['hex', 'ptr', 'size'] }, // 212 (removed in 6.8: ENOSYS)
  epoll_create: { args: ['int'] }, // 213
  epoll_ctl_old: { args: [] }, // 214 (never implemented)
  epoll_wait_old: { args: [] }, // 215 (never implemented)
  remap_file_pages: { args: ['ptr', 'size', 'hex', 'hex', 'hex'] }, // 216
  getdents64: { args: ['fd', 'ptr', 'size'], fds: [0] }, // 217
  set_tid_address: { args: ['ptr'] }, // 218
  restart_syscall: { args: [] }, // 219
  semtimedop: { args: ['int', 'ptr', 'size', 'ptr'] }, // 220
  fadvise64: { args: ['fd', 'int', 'size', 'int'], fds: [0] }, // 221
  timer_create: { args: ['int', 'ptr', 'ptr'] }, // 222
  timer_settime: { args: ['int', 'hex', 'ptr', 'ptr'] }, // 223
  timer_gettime: { args: ['int', 'ptr'] }, // 224
  timer_getoverrun: { args: ['int'] }, // 225
  timer_delete: { args: ['int'] }, // 226
  clock_settime: { args: ['int', 'ptr'] }, // 227
  clock_gettime: { args: ['int', 'ptr'] }, // 228
  clock_getres: { args: ['int', 'ptr'] }, // 229
  clock_nanosleep: { args: ['int', 'hex', 'ptr', 'ptr'] }, // 230
  exit_group: { args: ['int'] }, // 231
  epoll_wait: { args: ['fd', 'ptr', 'int', 'int'], fds: [0] }, // 232
  epoll_ctl: { args: ['fd', 'int', 'fd', 'ptr'], fds: [0, 2] }, // 233
  tgkill: { args: ['pid', 'pid', 'signal'] }, // 234
  utimes: { effect: 'attr', args: ['path', 'ptr'], paths: [{ arg: 0, last: 'follow' }] }, // 235
  vserver: { args: [] }, // 236 (never implemented)
  mbind: { args: ['ptr', 'size', 'int', 'ptr', 'uint', 'hex'] }, // 237
  set_mempolicy: { args: ['int', 'ptr', 'uint'] }, // 238
  get_mempolicy: { args: ['ptr', 'ptr', 'uint', 'ptr', 'hex'] }, // 239
  // POSIX message queue names live in the mqueue filesystem, not the caller's tree.
  mq_open: { args: ['str', 'oflags', 'mode', 'ptr'] }, // 240
  mq_unlink: { args: ['str'] }, // 241
  mq_timedsend: { args: ['fd', 'ptr', 'size', 'uint', 'ptr'], fds: [0] }, // 242
  mq_timedreceive: { args: ['fd', 'ptr', 'size', 'ptr', 'ptr'], fds: [0] }, // 243
  mq_notify: { args: ['fd', 'ptr'], fds: [0] }, // 244
  mq_getsetattr: { args: ['fd', 'ptr', 'ptr'], fds: [0] }, // 245
  kexec_load: { args: ['hex', 'uint', 'ptr', 'hex'] }, // 246
  waitid: { args: ['int', 'pid', 'ptr', 'hex', 'ptr'] }, // 247
  add_key: { args: ['str', 'str', 'ptr', 'size', 'int'] }, // 248
  request_key: { args: ['str', 'str', 'str', 'int'] }, // 249
  keyctl: { args: ['int', 'hex', 'hex', 'hex', 'hex'] }, // 250
  ioprio_set: { args: ['int', 'int', 'int'] }, // 251
  ioprio_get: { args: ['int', 'int'] }, // 252
  inotify_init: { args: [] }, // 253
  inotify_add_watch: {
    effect: 'watch',
    args: ['fd', 'path', 'hex'],
    paths: [{ arg: 1, last: 'follow', nofollowFlag: { arg: 2, bit: IN_DONT_FOLLOW } }],
    fds: [0],
  }, // 254
  inotify_rm_watch: { args: ['fd', 'int'], fds: [0] }, // 255
  migrate_pages: { args: ['pid', 'uint', 'ptr', 'ptr'] }, // 256
  openat: {
    effect: 'open',
    args: ['dirfd', 'path', 'oflags', 'mode'],
    paths: [{ arg: 1, dirfd: 0, last: 'open', flags: 2 }],
  }, // 257
  mkdirat: {
    effect: 'create',
    args: ['dirfd', 'path', 'mode'],
    paths: [{ arg: 1, dirfd: 0, last: 'nofollow' }],
  }, // 258
  mknodat: {
    effect: 'create',
    args: ['dirfd', 'path', 'mode', 'hex'],
    paths: [{ arg: 1, dirfd: 0, last: 'nofollow' }],
  }, // 259
  fchownat: {
    effect: 'attr',
    args: ['dirfd', 'path', 'int', 'int', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 4, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 4, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 260
  futimesat: {
    effect: 'attr',
    args: ['dirfd', 'path', 'ptr'],
    paths: [{ arg: 1, dirfd: 0, last: 'follow', nullMeansFd: true }],
  }, // 261
  newfstatat: {
    effect: 'query', stat: 'at',
    args: ['dirfd', 'path', 'ptr', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 3, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 3, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 262
  unlinkat: {
    effect: 'remove',
    args: ['dirfd', 'path', 'atflags'],
    paths: [{ arg: 1, dirfd: 0, last: 'nofollow' }],
  }, // 263
  renameat: {
    effect: 'rename',
    args: ['dirfd', 'path', 'dirfd', 'path'],
    paths: [
      { arg: 1, dirfd: 0, last: 'nofollow' },
      { arg: 3, dirfd: 2, last: 'nofollow' },
    ],
  }, // 264
  linkat: {
    effect: 'link',
    args: ['dirfd', 'path', 'dirfd', 'path', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'nofollow',
        followFlag: { arg: 4, bit: AT_SYMLINK_FOLLOW },
        emptyPathFlag: { arg: 4, bit: AT_EMPTY_PATH },
      },
      { arg: 3, dirfd: 2, last: 'nofollow' },
    ],
  }, // 265
  symlinkat: {
    effect: 'create',
    args: ['str', 'dirfd', 'path'],
    paths: [{ arg: 2, dirfd: 1, last: 'nofollow' }],
  }, // 266
  readlinkat: {
    effect: 'query',
    args: ['dirfd', 'path', 'ptr', 'size'],
    paths: [{ arg: 1, dirfd: 0, last: 'nofollow' }],
  }, // 267
  // The syscall has no flags argument (glibc's 4th argument is emulated).
  fchmodat: {
    effect: 'attr',
    args: ['dirfd', 'path', 'mode'],
    paths: [{ arg: 1, dirfd: 0, last: 'follow' }],
  }, // 268
  // The syscall has no flags argument (glibc's 4th argument is emulated or uses faccessat2).
  faccessat: {
    effect: 'query', accessMode: 2,
    args: ['dirfd', 'path', 'hex'],
    paths: [{ arg: 1, dirfd: 0, last: 'follow' }],
  }, // 269
  pselect6: { args: ['int', 'ptr', 'ptr', 'ptr', 'ptr', 'ptr'] }, // 270
  ppoll: { args: ['ptr', 'uint', 'ptr', 'ptr', 'size'] }, // 271
  unshare: { args: ['hex'] }, // 272
  set_robust_list: { args: ['ptr', 'size'] }, // 273
  get_robust_list: { args: ['pid', 'ptr', 'ptr'] }, // 274
  splice: { args: ['fd', 'ptr', 'fd', 'ptr', 'size', 'hex'], fds: [0, 2] }, // 275
  tee: { args: ['fd', 'fd', 'size', 'hex'], fds: [0, 1] }, // 276
  sync_file_range: { args: ['fd', 'int', 'size', 'hex'], fds: [0] }, // 277
  vmsplice: { args: ['fd', 'ptr', 'uint', 'hex'], fds: [0] }, // 278
  move_pages: { args: ['pid', 'uint', 'ptr', 'ptr', 'ptr', 'hex'] }, // 279
  utimensat: {
    effect: 'attr',
    args: ['dirfd', 'path', 'ptr', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 3, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 3, bit: AT_EMPTY_PATH },
        nullMeansFd: true,
      },
    ],
  }, // 280
  epoll_pwait: { args: ['fd', 'ptr', 'int', 'int', 'ptr', 'size'], fds: [0] }, // 281
  signalfd: { args: ['fd', 'ptr', 'size'], fds: [0] }, // 282 (fd may be -1: new signalfd)
  timerfd_create: { args: ['int', 'hex'] }, // 283
  eventfd: { args: ['uint'] }, // 284
  fallocate: { effect: 'write', args: ['fd', 'hex', 'int', 'size'], fds: [0] }, // 285
  timerfd_settime: { args: ['fd', 'hex', 'ptr', 'ptr'], fds: [0] }, // 286
  timerfd_gettime: { args: ['fd', 'ptr'], fds: [0] }, // 287
  accept4: { args: ['fd', 'ptr', 'ptr', 'hex'], fds: [0] }, // 288
  signalfd4: { args: ['fd', 'ptr', 'size', 'hex'], fds: [0] }, // 289 (fd may be -1)
  eventfd2: { args: ['uint', 'hex'] }, // 290
  epoll_create1: { args: ['hex'] }, // 291
  dup3: { args: ['fd', 'int', 'oflags'], fds: [0] }, // 292
  pipe2: { args: ['ptr', 'oflags'] }, // 293
  inotify_init1: { args: ['hex'] }, // 294
  preadv: { args: ['fd', 'ptr', 'uint', 'int', 'int'], fds: [0] }, // 295: pos_l, pos_h
  pwritev: { effect: 'write', args: ['fd', 'ptr', 'uint', 'int', 'int'], fds: [0] }, // 296: pos_l, pos_h
  rt_tgsigqueueinfo: { args: ['pid', 'pid', 'signal', 'ptr'] }, // 297
  perf_event_open: { args: ['ptr', 'pid', 'int', 'fd', 'hex'], fds: [3] }, // 298 (group_fd may be -1)
  recvmmsg: { args: ['fd', 'ptr', 'uint', 'hex', 'ptr'], fds: [0] }, // 299
  fanotify_init: { args: ['hex', 'oflags'] }, // 300
  // A NULL pathname marks the object dirfd refers to.
  fanotify_mark: {
    effect: 'watch',
    args: ['fd', 'hex', 'hex', 'dirfd', 'path'],
    paths: [
      {
        arg: 4,
        dirfd: 3,
        last: 'follow',
        nofollowFlag: { arg: 1, bit: FAN_MARK_DONTFOLLOW },
        nullMeansFd: true,
      },
    ],
    fds: [0],
  }, // 301
  prlimit64: { args: ['pid', 'int', 'ptr', 'ptr'] }, // 302
  name_to_handle_at: {
    effect: 'query',
    args: ['dirfd', 'path', 'ptr', 'ptr', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'nofollow',
        followFlag: { arg: 4, bit: AT_SYMLINK_FOLLOW },
        emptyPathFlag: { arg: 4, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 303
  open_by_handle_at: {
    args: ['fd', 'ptr', 'oflags'],
    fds: [0],
    refuse: 'open_by_handle',
  }, // 304
  clock_adjtime: { args: ['int', 'ptr'] }, // 305
  syncfs: { args: ['fd'], fds: [0] }, // 306
  sendmmsg: { args: ['fd', 'ptr', 'uint', 'hex'], fds: [0] }, // 307
  setns: { args: ['fd', 'hex'], fds: [0] }, // 308
  getcpu: { args: ['ptr', 'ptr', 'ptr'] }, // 309
  process_vm_readv: { args: ['pid', 'ptr', 'uint', 'ptr', 'uint', 'hex'] }, // 310
  process_vm_writev: { args: ['pid', 'ptr', 'uint', 'ptr', 'uint', 'hex'] }, // 311
  kcmp: { args: ['pid', 'pid', 'int', 'hex', 'hex'] }, // 312
  finit_module: { args: ['fd', 'str', 'hex'], fds: [0] }, // 313
  sched_setattr: { args: ['pid', 'ptr', 'hex'] }, // 314
  sched_getattr: { args: ['pid', 'ptr', 'size', 'hex'] }, // 315
  renameat2: {
    effect: 'rename',
    args: ['dirfd', 'path', 'dirfd', 'path', 'hex'],
    paths: [
      { arg: 1, dirfd: 0, last: 'nofollow' },
      { arg: 3, dirfd: 2, last: 'nofollow' },
    ],
  }, // 316
  seccomp: { args: ['int', 'hex', 'ptr'] }, // 317
  getrandom: { args: ['ptr', 'size', 'hex'] }, // 318
  memfd_create: { args: ['str', 'hex'] }, // 319
  kexec_file_load: { args: ['fd', 'fd', 'size', 'str', 'hex'], fds: [0, 1] }, // 320
  bpf: { args: ['int', 'ptr', 'size'] }, // 321
  execveat: {
    effect: 'exec',
    args: ['dirfd', 'path', 'strv', 'strv', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 4, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 4, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 322
  userfaultfd: { args: ['hex'] }, // 323
  membarrier: { args: ['int', 'hex', 'int'] }, // 324
  mlock2: { args: ['ptr', 'size', 'hex'] }, // 325
  copy_file_range: { args: ['fd', 'ptr', 'fd', 'ptr', 'size', 'hex'], fds: [0, 2] }, // 326
  preadv2: { args: ['fd', 'ptr', 'uint', 'int', 'int', 'hex'], fds: [0] }, // 327
  pwritev2: { effect: 'write', args: ['fd', 'ptr', 'uint', 'int', 'int', 'hex'], fds: [0] }, // 328
  pkey_mprotect: { args: ['ptr', 'size', 'hex', 'int'] }, // 329
  pkey_alloc: { args: ['hex', 'hex'] }, // 330
  pkey_free: { args: ['int'] }, // 331
  statx: {
    effect: 'query', stat: 'statx',
    args: ['dirfd', 'path', 'atflags', 'hex', 'ptr'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 332
  io_pgetevents: { args: ['hex', 'int', 'int', 'ptr', 'ptr', 'ptr'] }, // 333
  rseq: { args: ['ptr', 'size', 'hex', 'hex'] }, // 334
  uretprobe: { args: [] }, // 335 (only valid from the uretprobe trampoline)
  uprobe: { args: [] }, // 336 (only valid from the uprobe trampoline)
  pidfd_send_signal: { args: ['fd', 'signal', 'ptr', 'hex'], fds: [0] }, // 424
  io_uring_setup: {
    args: ['uint', 'ptr'],
    refuse: 'io_uring',
  }, // 425
  io_uring_enter: {
    args: ['fd', 'uint', 'uint', 'hex', 'ptr', 'size'],
    fds: [0],
    refuse: 'io_uring',
  }, // 426
  io_uring_register: {
    args: ['fd', 'uint', 'ptr', 'uint'],
    fds: [0],
    refuse: 'io_uring',
  }, // 427
  open_tree: {
    effect: 'mount', refuse: 'mount',
    args: ['dirfd', 'path', 'hex'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 428
  move_mount: {
    effect: 'mount', refuse: 'mount',
    args: ['dirfd', 'path', 'dirfd', 'path', 'hex'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'nofollow',
        followFlag: { arg: 4, bit: MOVE_MOUNT_F_SYMLINKS },
        emptyPathFlag: { arg: 4, bit: MOVE_MOUNT_F_EMPTY_PATH },
      },
      {
        arg: 3,
        dirfd: 2,
        last: 'nofollow',
        followFlag: { arg: 4, bit: MOVE_MOUNT_T_SYMLINKS },
        emptyPathFlag: { arg: 4, bit: MOVE_MOUNT_T_EMPTY_PATH },
      },
    ],
  }, // 429
  fsopen: { refuse: 'mount', args: ['str', 'hex'] }, // 430
  fsconfig: { refuse: 'mount', args: ['fd', 'uint', 'str', 'ptr', 'int'], fds: [0] }, // 431
  fsmount: { refuse: 'mount', args: ['fd', 'hex', 'hex'], fds: [0] }, // 432
  fspick: {
    effect: 'mount', refuse: 'mount',
    args: ['dirfd', 'path', 'hex'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: FSPICK_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: FSPICK_EMPTY_PATH },
      },
    ],
  }, // 433
  pidfd_open: { args: ['pid', 'hex'] }, // 434
  clone3: { args: ['ptr', 'size'] }, // 435
  close_range: { args: ['uint', 'uint', 'hex'] }, // 436
  openat2: {
    effect: 'open',
    args: ['dirfd', 'path', 'ptr', 'size'],
    paths: [{ arg: 1, dirfd: 0, last: 'openhow', flags: 2 }],
  }, // 437
  pidfd_getfd: { args: ['fd', 'int', 'hex'], fds: [0] }, // 438 (arg 1 is an fd number in the target)
  faccessat2: {
    effect: 'query', accessMode: 2,
    args: ['dirfd', 'path', 'hex', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 3, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 3, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 439
  process_madvise: { args: ['fd', 'ptr', 'uint', 'int', 'hex'], fds: [0] }, // 440
  epoll_pwait2: { args: ['fd', 'ptr', 'int', 'ptr', 'ptr', 'size'], fds: [0] }, // 441
  mount_setattr: {
    effect: 'mount', refuse: 'mount',
    args: ['dirfd', 'path', 'atflags', 'ptr', 'size'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 442
  quotactl_fd: { args: ['fd', 'hex', 'int', 'ptr'], fds: [0] }, // 443
  landlock_create_ruleset: { args: ['ptr', 'size', 'hex'] }, // 444
  landlock_add_rule: { args: ['fd', 'int', 'ptr', 'hex'], fds: [0] }, // 445
  landlock_restrict_self: { args: ['fd', 'hex'], fds: [0] }, // 446
  memfd_secret: { args: ['hex'] }, // 447
  process_mrelease: { args: ['fd', 'hex'], fds: [0] }, // 448
  futex_waitv: { args: ['ptr', 'uint', 'hex', 'ptr', 'int'] }, // 449
  set_mempolicy_home_node: { args: ['ptr', 'size', 'int', 'hex'] }, // 450
  cachestat: { args: ['fd', 'ptr', 'ptr', 'hex'], fds: [0] }, // 451
  fchmodat2: {
    effect: 'attr',
    args: ['dirfd', 'path', 'mode', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 3, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 3, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 452
  map_shadow_stack: { args: ['ptr', 'size', 'hex'] }, // 453
  futex_wake: { args: ['ptr', 'hex', 'int', 'hex'] }, // 454
  futex_wait: { args: ['ptr', 'hex', 'hex', 'hex', 'ptr', 'int'] }, // 455
  futex_requeue: { args: ['ptr', 'hex', 'int', 'int'] }, // 456
  statmount: { args: ['ptr', 'ptr', 'size', 'hex'] }, // 457
  listmount: { args: ['ptr', 'ptr', 'size', 'hex'] }, // 458
  lsm_get_self_attr: { args: ['uint', 'ptr', 'ptr', 'hex'] }, // 459
  lsm_set_self_attr: { args: ['uint', 'ptr', 'size', 'hex'] }, // 460
  lsm_list_modules: { args: ['ptr', 'ptr', 'hex'] }, // 461
  mseal: { args: ['ptr', 'size', 'hex'] }, // 462
  setxattrat: {
    effect: 'attr',
    args: ['dirfd', 'path', 'atflags', 'str', 'ptr', 'size'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
        emptyPathNeedsOpenFd: true,
      },
    ],
  }, // 463
  getxattrat: {
    effect: 'query',
    args: ['dirfd', 'path', 'atflags', 'str', 'ptr', 'size'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
        emptyPathNeedsOpenFd: true,
      },
    ],
  }, // 464
  listxattrat: {
    effect: 'query',
    args: ['dirfd', 'path', 'atflags', 'ptr', 'size'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
        emptyPathNeedsOpenFd: true,
      },
    ],
  }, // 465
  removexattrat: {
    effect: 'attr',
    args: ['dirfd', 'path', 'atflags', 'str'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
        emptyPathNeedsOpenFd: true,
      },
    ],
  }, // 466
  open_tree_attr: {
    effect: 'mount', refuse: 'mount',
    args: ['dirfd', 'path', 'hex', 'ptr', 'size'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 2, bit: AT_EMPTY_PATH },
      },
    ],
  }, // 467
  file_getattr: {
    effect: 'query',
    args: ['dirfd', 'path', 'ptr', 'size', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 4, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 4, bit: AT_EMPTY_PATH },
        emptyPathNeedsOpenFd: true,
      },
    ],
  }, // 468
  file_setattr: {
    effect: 'attr',
    args: ['dirfd', 'path', 'ptr', 'size', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 4, bit: AT_SYMLINK_NOFOLLOW },
        emptyPathFlag: { arg: 4, bit: AT_EMPTY_PATH },
        emptyPathNeedsOpenFd: true,
      },
    ],
  }, // 469
};
