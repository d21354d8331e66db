/**
 * The shape of the syscall classification table (src/vm/syscalls/table.ts).
 *
 * Every system call of every supported architecture is described once, by name,
 * in one table. The table is data: the runtime derives from it which syscalls a
 * path or fd module makes candidates for routing, how native code finds and
 * canonicalizes their path arguments, and how `--trace` prints their arguments.
 * The table is typed as a total Record over the architecture's syscall names, so a
 * syscall that is added to an architecture but not classified fails the build.
 */

/** How one argument is decoded for display (and for handler helpers). */
export type ArgKind =
  | 'int' // signed integer, printed in decimal
  | 'uint' // unsigned integer, decimal
  | 'hex' // flags or masks without a dedicated decoder, printed 0x..
  | 'size' // byte count
  | 'ptr' // an opaque pointer (buffer, struct), printed 0x..
  | 'fd' // a file descriptor that refers to an open file
  | 'dirfd' // a directory fd used as the base of a path argument, or AT_FDCWD
  | 'path' // NUL-terminated path name that the kernel resolves
  | 'str' // NUL-terminated string that is not a path lookup (symlink target, xattr name)
  | 'strv' // NULL-terminated array of strings (argv, envp)
  | 'oflags' // open(2) flags
  | 'mode' // file mode, printed in octal
  | 'atflags' // AT_* flags
  | 'signal' // signal number
  | 'pid'; // process / thread id

/** A bit in some argument, e.g. AT_SYMLINK_NOFOLLOW in the flags argument. */
export interface FlagBit {
  arg: number; // index of the flags argument
  bit: number; // the flag's value (a mask)
}

/**
 * How the last component of a path argument is resolved.
 * - 'follow': a final symlink is followed (stat, open without O_NOFOLLOW, chdir, execve).
 * - 'nofollow': the final component itself is the object (lstat, unlink, rmdir,
 *   rename, mkdir, mknod, symlink's new name, readlink, lchown, l*xattr).
 * - 'open': open/openat/creat rules: follow unless O_NOFOLLOW, or O_CREAT|O_EXCL,
 *   in the flags argument given by `flags`.
 * - 'openhow': openat2: like 'open', with the flags read from struct open_how.
 */
export type LastComponent = 'follow' | 'nofollow' | 'open' | 'openhow';

export interface PathArg {
  arg: number; // index of the path argument
  dirfd?: number; // index of the dirfd it is relative to; absent: relative to cwd
  last: LastComponent;
  nofollowFlag?: FlagBit; // makes a 'follow' path 'nofollow' (AT_SYMLINK_NOFOLLOW)
  followFlag?: FlagBit; // makes a 'nofollow' path 'follow' (linkat's AT_SYMLINK_FOLLOW)
  emptyPathFlag?: FlagBit; // AT_EMPTY_PATH: "" means the dirfd itself
  emptyPathNeedsOpenFd?: boolean; // with AT_EMPTY_PATH an O_PATH dirfd is EBADF (the kernel's fdget, not fdget_raw)
  flags?: number; // for 'open' / 'openhow': index of the flags / open_how argument
  nullMeansFd?: boolean; // utimensat: a NULL path means the dirfd itself
}

/**
 * What a call does to the file-system objects its path or fd arguments name.
 * Every path syscall has one (a test checks it), and so do the fd calls that
 * read or change an object's metadata. Modules derive their sets from it
 * (src/vm/syscalls/classes.ts) instead of keeping lists of names.
 * - 'query': reads metadata, a link or an attribute; changes nothing.
 * - 'open': the open family; what it does depends on its flags (openFlags()).
 * - 'create': makes one new name (mkdir, mknod, symlink).
 * - 'remove': removes one name (unlink, rmdir).
 * - 'rename', 'link': two names.
 * - 'attr': changes an existing object (mode, owner, times, size, xattrs, fileattr).
 * - 'write': changes content through an fd, which must be open for writing (the
 *   kernel checks the fd's mode first: ftruncate of a read-only fd is EINVAL).
 * - 'exec': runs or maps the file (execve, execveat, uselib).
 * - 'cwd': changes the working directory; 'root': the root directory.
 * - 'watch': puts a watch on the object (inotify, fanotify).
 * - 'mount': changes what paths resolve to (the mount family).
 * - 'admin': a system-wide use of the file (acct, swapon, swapoff, quotactl).
 */
export type Effect =
  | 'query' | 'open' | 'create' | 'remove' | 'rename' | 'link' | 'attr' | 'write'
  | 'exec' | 'cwd' | 'root' | 'watch' | 'mount' | 'admin';

/** How a stat-family call takes its object and buffer (native code's stat view, statview.h). */
export type StatKind = 'path' | 'link' | 'fd' | 'at' | 'statx';

/**
 * A named refusal policy: calls that reach files by a route the monitor cannot
 * see or that change what paths mean. When any path module is loaded they are
 * answered with this errno, and --trace and a warning say why.
 */
export const REFUSALS = {
  mount: { errno: 'EPERM', why: "a mount changes what paths resolve to behind the monitor's back; a view with path modules does not allow it" },
  chroot: { errno: 'EPERM', why: 'the monitor resolves paths against the real root; chroot inside a view with path modules is not supported' },
  io_uring: {
    errno: 'ENOSYS',
    why:
      'io_uring runs openat/statx/unlinkat/read/write... requests from a shared memory ring, so the ' +
      'monitor never sees their paths or fds; ENOSYS makes liburing users fall back to plain syscalls ' +
      '(setup, enter and register are all refused, so an inherited or received ring cannot be used either)',
  },
  open_by_handle: {
    errno: 'EPERM',
    why:
      'open_by_handle_at opens a file from a file handle, bypassing path resolution, so no path module ' +
      'can see or redirect it; it needs CAP_DAC_READ_SEARCH, so EPERM is what an unprivileged caller gets anyway',
  },
} as const satisfies Record<string, { errno: string; why: string }>;
export type Refusal = keyof typeof REFUSALS;

export interface SyscallSpec {
  /** Argument kinds in order, for decoding and display. */
  args: ArgKind[];
  /** Path arguments the kernel resolves (path routing). */
  paths?: PathArg[];
  /** Indices of arguments that hold an fd referring to an open file (fd routing). */
  fds?: number[];
  /** What the call does to the objects it names (required for every path syscall). */
  effect?: Effect;
  /** access, faccessat, faccessat2: the argument holding the R_OK/W_OK/X_OK mask. */
  accessMode?: number;
  /** A stat-family call: how it takes its object and result buffer. */
  stat?: StatKind;
  /**
   * The call cannot be virtualized by a path or fd module (it reaches files by a
   * route the monitor cannot see: io_uring, open_by_handle_at, ...): refused
   * with the named policy whenever a path module is loaded.
   */
  refuse?: Refusal;
}
