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
  flags?: number; // for 'open' / 'openhow': index of the flags / open_how argument
  nullMeansFd?: boolean; // utimensat: a NULL path means the dirfd itself
}

export interface SyscallSpec {
  /** Argument kinds in order, for decoding and display. */
  args: ArgKind[];
  /** Path arguments the kernel resolves (path routing). */
  paths?: PathArg[];
  /** Indices of arguments that hold an fd referring to an open file (fd routing). */
  fds?: number[];
  /**
   * The call cannot be virtualized by a path or fd module (it reaches files by a
   * route the monitor cannot see: io_uring, open_by_handle_at, ...). When any path
   * module is loaded it is refused with this errno, and --trace says why.
   */
  refuse?: { errno: string; why: string };
}
