/**
 * The module API (syscall level). A module declares, as data, what it serves:
 * syscalls by name, path prefixes (mount points), and the syscalls it serves on
 * file descriptors whose inode it claims. The runtime compiles that into the
 * seccomp filter and the native fast path; only matching calls reach a handler.
 *
 * A handler receives a decoded call and answers:
 *   ret(value) | errno('ENOENT')    emulate: the kernel never runs the call
 *   forward(onExit?)                let the kernel run it, optionally see/change the result
 *   rewrite({1: '/new/path'}, onExit?)   run it with other arguments
 *   undefined                        not mine: the next module, else the kernel
 * Handlers may be async; other tracees keep running meanwhile.
 */
import type { SyscallName } from './arch/index.js';
import { errnoNumber, type ErrnoName } from './errno.js';
import type { Effect } from './syscalls/spec.js';

export type { SyscallName } from './arch/index.js';
export type { ErrnoName } from './errno.js';
export type Awaitable<T> = T | Promise<T>;

/** What a handler answers. */
export type Action =
  | { kind: 'return'; value: bigint }
  | { kind: 'forward'; onExit?: ExitHook }
  | {
      kind: 'rewrite';
      args: Record<number, bigint | number | string | Buffer>;
      /**
       * Indices into call.paths whose argument is given to the kernel in its
       * host form (CallPath.host), written by native code from what it resolved.
       */
      hostPaths?: number[];
      onExit?: ExitHook;
    };

/** Called at syscall exit: return a new result, RESTART to run the call again, or nothing to keep it. */
export type ExitHook = (exit: SyscallExit) => Awaitable<number | bigint | typeof RESTART | void>;
export const RESTART = Symbol('vview.restart');

export const ret = (value: number | bigint): Action => ({ kind: 'return', value: BigInt(value) });
export const errno = (e: ErrnoName | number): Action => ({ kind: 'return', value: -BigInt(errnoNumber(e)) });
export const forward = (onExit?: ExitHook): Action => ({ kind: 'forward', onExit });
export const rewrite = (args: Record<number, bigint | number | string | Buffer>, onExit?: ExitHook): Action => ({
  kind: 'rewrite',
  args,
  onExit,
});

/** Thrown by memory helpers (and usable by handlers): answers the call with this errno. */
export class SyscallError extends Error {
  constructor(readonly errno: ErrnoName | number, message?: string) {
    super(message ?? `syscall error ${String(errno)}`);
  }
}

/** Access to the memory of the calling thread. Errors throw SyscallError('EFAULT'). */
export interface TraceeMemory {
  read(addr: number | bigint, len: number): Buffer;
  write(addr: number | bigint, data: Buffer): void;
  /** A NUL-terminated string (max bytes without the NUL). */
  readString(addr: number | bigint, max?: number): string;
  /** Scratch space below the caller's stack, valid until the call is resumed. */
  alloc(len: number): number;
}

export interface CallPath {
  /** The path as the process passed it. */
  raw: string;
  /** The absolute path the kernel would resolve it to (symlinks, .., cwd, dirfd). */
  canonical?: string;
  /** True when this path is under one of the current module's prefixes. */
  mine: boolean;
  /**
   * Set when the path goes through a mount (a host directory shown at a view
   * path, ctx.showPath): the path to give the kernel instead of `raw`, i.e.
   * the host path of what resolved, then the rest that did not, as given.
   */
  host?: string;
  /** A component before the last does not exist (canonical is lexical from there: the call fails). */
  lexical: boolean;
}

export interface CallFd {
  fd: number;
  dev: bigint;
  ino: bigint;
  mine: boolean;
}

export interface SyscallCall {
  readonly pid: number;
  readonly tid: number;
  readonly name: SyscallName;
  readonly nr: number;
  /** Raw 64-bit argument registers. */
  readonly args: readonly bigint[];
  /** How the call reached this module. */
  readonly route: 'name' | 'path' | 'fd';
  /** Argument i as a signed 32-bit int (fds, flags, AT_FDCWD). */
  int(i: number): number;
  /** Argument i as an unsigned 64-bit value. */
  ulong(i: number): bigint;
  /** Argument i as a pointer (a JS number; user addresses fit). */
  ptr(i: number): number;
  /** Path arguments, in order, for path-taking syscalls. */
  readonly paths: readonly CallPath[];
  /** The first path argument under this module's prefixes (canonical). */
  readonly path: string | undefined;
  /**
   * What the call does to the objects it names, from the syscall table
   * ('query', 'open', 'create', 'remove', 'rename', 'link', 'attr', ...; see
   * Effect). Undefined for calls that name no file (getpid, socket, ...).
   */
  readonly effect: Effect | undefined;
  /**
   * The call's flags, decoded: for the open family (effect 'open') the open
   * flags (openFlags: open, openat, creat's implied O_CREAT|O_WRONLY|O_TRUNC,
   * openat2's open_how.flags, read on first use: a bad pointer throws
   * SyscallError('EFAULT'), which answers the call so, as the kernel would);
   * for a path call with a flags argument the table knows (the *at calls'
   * AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH / AT_REMOVEDIR argument, umount2's,
   * inotify_add_watch's mask) that argument; otherwise undefined.
   */
  readonly flags: number | undefined;
  /**
   * Runs the call with the path of this module (the first path argument under
   * its prefixes) replaced by `newPath`: rewrite({ [its argument]: newPath }, onExit).
   * Throws when the call has no path of this module (routed by name or fd).
   */
  rewritePath(newPath: string | Buffer, onExit?: ExitHook): Action;
  readonly fds: readonly CallFd[];
  readonly mem: TraceeMemory;
  /** Decodes the call like --trace prints it. */
  format(): string;
}

export interface SyscallExit {
  readonly pid: number;
  readonly tid: number;
  readonly name: SyscallName;
  readonly args: readonly bigint[];
  /** The kernel's result: >= 0, or -errno. */
  readonly result: number;
  readonly mem: TraceeMemory;
}

export type Handler = (call: SyscallCall) => Awaitable<Action | undefined | void>;
export type Handlers = Partial<Record<SyscallName, Handler>>;

/**
 * State a module keeps per process (ctx.perProcess). Its lifecycle:
 * - created by `init(pid)` on the first get() for a live process of the view;
 * - at fork, the child gets `hooks.fork(parentState, childPid)` (default: a
 *   structuredClone of the parent's), if the parent has state;
 * - kept across exec;
 * - at exit (the process's last thread), `hooks.exit(state, pid)` runs, then
 *   ctx.onProcessExit callbacks (peek() still sees the state), then the state
 *   is dropped.
 */
export interface PerProcess<T> {
  /**
   * The state of a live process of the view, created on first use. Throws for
   * a pid that is not one (it has exited, or was never in the view): state is
   * never re-created for a process that is gone.
   */
  get(pid: number): T;
  /** The state if the process has some (also during its exit callbacks); never creates it. */
  peek(pid: number): T | undefined;
  has(pid: number): boolean;
}

/** What happens to per-process state at fork and exit (ctx.perProcess). */
export interface ProcessHooks<T> {
  /** The child's state, made from the parent's at fork (default: structuredClone, or the same value if it cannot be cloned). */
  fork?(parent: T, child: number): T;
  /**
   * The process has exited: its last use of the state, before it is dropped.
   * Synchronous; for work the view must wait for, use ctx.onProcessExit with peek().
   */
  exit?(state: T, pid: number): void;
}

export interface ModuleContext {
  /** This instance's name, for messages. */
  readonly name: string;
  /** Route fd calls on this inode (a kernel object the module handed out or watches) to this module. */
  claimInode(dev: bigint | number, ino: bigint | number): void;
  /** Per-process state: see PerProcess for its lifecycle. */
  perProcess<T>(init: (pid: number) => T, hooks?: ProcessHooks<T>): PerProcess<T>;
  /**
   * Fake ownership for the whole view, applied in native code to every
   * stat-family result (stat, lstat, fstat, newfstatat, statx) without a stop
   * into JavaScript: files of the real uid/gid appear owned by the fake ones,
   * and inodes given an owner show it. One module per view may call it.
   */
  showOwnership(ids: { realUid: number; realGid: number; fakeUid: number; fakeGid: number }): OwnershipView;
  /** The process (thread-group id) a thread of the view belongs to; undefined outside the view. */
  processOf(tid: number): number | undefined;
  /**
   * Called when a process of the view has exited (its last thread), before
   * its per-process state is dropped (peek() sees it); the view waits for a
   * returned Promise.
   */
  onProcessExit(cb: (pid: number) => Awaitable<void>): void;
  /**
   * A directory private to this module (mode 0700, on os.tmpdir()), created on
   * first use and removed with everything in it when the view ends.
   */
  scratchDir(): string;
  /**
   * The view shows the host directory `host` at `view` (a mount's content):
   * getcwd, /proc/PID/{cwd,exe,fd/N} and relative paths from a cwd or dirfd
   * below `host` use the view path. Call it in setup().
   */
  showPath(host: string, view: string): void;
  /** A line on vview's stderr, prefixed with the module name. */
  warn(message: string): void;
}

/** What stat shows for one inode: recorded ids, permission bits, or a device in place of an empty file. */
export interface ShownOwner {
  uid?: number;
  gid?: number;
  perm?: number;
  device?: { type: 'chr' | 'blk'; rdev: bigint };
}

export interface OwnershipView {
  /** Shows this owner for the inode from now on; null: the inode's own again. */
  set(dev: bigint, ino: bigint, owner: ShownOwner | null): void;
  /** What stat shows in the view for a file with these metadata (the same rule native code applies). */
  show(st: ShownStat): ShownStat;
}

/** The metadata the ownership view changes. */
export interface ShownStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  uid: number;
  gid: number;
  rdev: bigint;
}

/** What setup() returns: the routes, as data, and the handlers. */
export interface ModuleInstance {
  /** Routed by syscall number, whatever the arguments (narrowed by `when`). */
  syscalls?: Handlers;
  /**
   * Narrows a `syscalls` route: the call stops only when argument `argNonZero`
   * is non-zero, e.g. `{ sendto: { argNonZero: 4 } }` stops sendto with a
   * destination address and lets send() (sendto with NULL) run without a stop.
   * Checked in the seccomp filter. It takes effect only when every module that
   * routes that syscall by name asks for the same condition and nothing routes
   * it by path or fd; otherwise the call always stops.
   */
  when?: Partial<Record<SyscallName, { argNonZero: number }>>;
  /**
   * Path prefixes (mount points, need not exist on the host). Every path-taking
   * syscall whose canonical path is at or below one reaches `handlers[name]`, or
   * `other` when there is no specific handler: nothing path-based bypasses it.
   *
   * `syscalls` narrows the prefixes to the listed path syscalls (say, only the
   * open family for a few generated files under /proc): the others are not
   * stopped for this module, and the mount family stays allowed. A module that
   * serves a whole subtree (a mount) leaves it out.
   *
   * `direct`: for a mount shown from a host directory (ctx.showPath), the
   * syscalls that need no handler: native code rewrites the path to its host
   * form and lets the kernel run them, without a stop into JavaScript (the
   * open family: only opens that neither write, create nor truncate, unless
   * mkdirat is direct too: a module that lets native code make names lets it
   * make files by open; O_TMPFILE never).
   *
   * `objects`: files and directories (device, inode) routed like the prefixes
   * whatever name reaches them: another bind of their directory, a renamed
   * parent, a hard link, a /proc link. A path that walks through or ends on
   * one reaches this module's handlers with `mine` set.
   */
  paths?: {
    prefixes: string[];
    handlers?: Handlers;
    other?: Handler;
    syscalls?: SyscallName[];
    direct?: SyscallName[];
    objects?: { dev: bigint; ino: bigint }[];
  };
  /** Syscalls served on fds whose inode this module claims (ctx.claimInode). */
  fds?: { handlers: Handlers };
  /** Flush state: called once when the view ends (also on SIGINT/SIGTERM). */
  close?(): Awaitable<void>;
}

/** A problem with a module's options, at a key path below the module's entry. */
export class OptionError extends Error {
  constructor(readonly key: (string | number)[], message: string) {
    super(message);
  }
}

/** Where options come from: relative paths in them are relative to baseDir. */
export interface OptionsEnv {
  /** The config file's directory (the current directory for command-line options). */
  baseDir: string;
}

export interface ModuleDefinition<O = unknown> {
  name: string;
  description?: string;
  /** Validates the options from the config; throw OptionError(key, message). */
  options?(raw: unknown, env?: OptionsEnv): O;
  setup(options: O, ctx: ModuleContext): Awaitable<ModuleInstance>;
}

export function defineModule<O>(def: ModuleDefinition<O>): ModuleDefinition<O> {
  if (!def || typeof def.name !== 'string' || typeof def.setup !== 'function')
    throw new TypeError('defineModule: a module needs a name and a setup function');
  return def;
}
