/**
 * The native core (native/*.cc), loaded once. Everything ptrace happens inside
 * it, on this (the main) thread; see native/addon.cc for the contract.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

import { EventType, ResumeKind } from './abi.js';

export { EventType, ResumeKind, RouteBits } from './abi.js';

export interface NativePath {
  raw: string;
  canonical?: string;
  /** Through a mount: the path the kernel must be given (host form). */
  host?: string;
  /** A component before the last did not exist: the canonical path is lexical from there. */
  lexical?: boolean;
  module: number;
  /** -errno: native code's walk refused the path (openat2's RESOLVE_* scope) after it reached this module. */
  error?: number;
}
export interface NativeFd {
  fd: number;
  module: number;
  dev: bigint;
  ino: bigint;
}

/**
 * `layer`: for a syscall event, the view layer whose modules answer it (0:
 * this monitor's own; others are joined views, src/vm/layers.ts); for a
 * process event, the process's innermost layer.
 */
export type NativeEvent =
  | { type: typeof EventType.None | typeof EventType.Done }
  | { type: typeof EventType.Foreign; tid: number }
  | { type: typeof EventType.Syscall; tid: number; pid: number; layer?: number; nr: number; args: bigint[]; route: number; paths: NativePath[]; fds: NativeFd[]; scratchTop?: bigint }
  | { type: typeof EventType.SyscallExit; tid: number; pid: number; layer?: number; nr: number; args: bigint[]; ret: number }
  | { type: typeof EventType.Spawn; tid: number; pid: number; layer?: number; child: number; thread: boolean }
  | { type: typeof EventType.Exec; tid: number; pid: number; layer?: number; oldTid: number }
  | { type: typeof EventType.Exit; tid: number; pid: number; layer?: number; status: number; last: boolean }
  | { type: typeof EventType.Join; tid: number; pid: number; layer: number; parent: number; fd: number };

export interface NativeOwner {
  uid?: number;
  gid?: number;
  perm?: number;
  /** S_IFCHR / S_IFBLK shown for a placeholder regular file. */
  type?: number;
  rdev?: bigint;
}

/** A routed syscall: [number, RouteBits]. Its path and fd arguments come from the generated description. */
export type NativeRoute = [nr: number, bits: number];
/** A syscall the filter stops only for one argument's value: non-zero, or equal to `eq`. */
export type ArgRoute = [nr: number, arg: number, eq?: number];

/** How a parked tracee goes on: one call per stop (Tracer::resume). */
export interface NativeAction {
  kind: ResumeKind;
  /** Return: the result (>= 0) or -errno. */
  value?: number | bigint;
  /** Continue at entry: stop again at the syscall's exit. */
  wantExit?: boolean;
  /** At entry: arguments set to numbers. */
  args?: [number, bigint][];
  /** At entry: arguments set to strings (or bytes) that native code writes below the stack. */
  strings?: [number, string | Buffer][];
  /** At entry: bit i set: path argument i is given to the kernel in the host form native code resolved. */
  hostPaths?: number;
  /** A joined layer's server used scratch memory below the stack down to here. */
  scratchTop?: bigint;
}

/**
 * A module's path prefix. nrs: the syscalls it applies to (absent: all);
 * direct: those native code does itself when the path goes through a mount
 * (rewritten to its host form; the open family: read-only opens only, any
 * open but O_TMPFILE when mkdirat is direct too).
 */
export interface NativePrefix {
  path: string;
  module: number;
  nrs?: number[];
  direct?: number[];
}

export interface Native {
  /** aliases: [host directory, view path]: a cwd or dirfd below host is taken as the view path. */
  /** objects: [dev, ino, module]: path calls that reach that object by any name go to the module. */
  /** layer: a joined view's tables (src/vm/layers.ts); absent: this monitor's own. Likewise for claimInode, statView, statOwner. */
  configure(cfg: { routes: NativeRoute[]; prefixes: NativePrefix[]; objects?: [bigint, bigint, number][]; aliases?: [string, string][] }, layer?: number): void;
  /** utimensat(2) with nanoseconds, not following a final symlink: 0 or -errno. */
  utimens(path: string, atimeNs: bigint, mtimeNs: bigint): number;
  /** mknod(2): 0 or -errno. */
  mknod(path: string, mode: number, dev: number): number;
  claimInode(dev: bigint | number, ino: bigint | number, module: number, layer?: number): void;
  /** Turns on the stat view: files of the real ids appear owned by the fake ones. */
  statView(ids: { realUid: number; realGid: number; fakeUid: number; fakeGid: number }, layer?: number): void;
  /** A recorded owner of an inode for the stat view, or null to forget it. */
  statOwner(dev: bigint | number, ino: bigint | number, owner: NativeOwner | null, layer?: number): void;
  /** What the stat view shows for these metadata (native StatView::apply). */
  statShow(st: { dev: bigint; ino: bigint; mode: number; uid: number; gid: number; rdev: bigint }): { mode: number; uid: number; gid: number; rdev: bigint };
  /** tracedIfArg: [nr, arg] pairs that stop only when that argument is non-zero; [nr, arg, eq]: only when it equals eq. */
  /** joinLayer: not traced by this process; the child enters that layer of the monitor tracing us (src/vm/layers.ts). */
  spawn(req: { candidates: string[]; argv: string[]; inheritFds: number[]; filter: boolean; foreignAllowed?: boolean; traced: number[]; tracedIfArg?: ArgRoute[]; notFound: string; denied: string; joinLayer?: number }): number;
  /** prctl(Join.prctl, Join.open, fd): the layer the monitor tracing this process gave us, or -errno. */
  join(fd: number): number;
  /** The live processes of a joined layer (with those of the layers inside it). */
  layerSize(layer: number): number;
  /** A close-on-exec AF_UNIX stream socket pair, or -errno. */
  socketPair(): [number, number] | number;
  next(block: boolean): NativeEvent;
  resume(tid: number, action: NativeAction): number;
  readMemory(tid: number, addr: number | bigint, len: number): Buffer | number;
  writeMemory(tid: number, addr: number | bigint, data: Buffer): number;
  readString(tid: number, addr: number | bigint, max: number): Buffer | number;
  scratch(tid: number, len: number): number;
  /** The command's wait status, or -1 when its exit was never seen (the view ended first). */
  rootStatus(): number;
  setPeek(on: boolean): void;
  stats(): { stops: number; fastResumes: number; jsEvents: number; lookups: number; cacheHits: number; statsEmulated: number; statsPatched: number; nativeRewrites: number; emuStops: number; emuRequests: number; emuWaits: number; emuWakes: number; seccompStops: Record<number, number> };
  forwardSignals(pid: number): void;
  startWaker(cb: () => void): void;
  armWaker(): void;
  stopWaker(): void;
  /** flock(2) on fd: 0 or -errno (LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8). */
  flock(fd: number, op: number): number;
  /** Copies len bytes at srcOff of srcFd to dstOff of dstFd, keeping holes (SEEK_DATA/SEEK_HOLE): bytes of data copied, or -errno. */
  copySparse(srcFd: number, srcOff: number, dstFd: number, dstOff: number, len: number): number;
  /** The view's path for a host path below a configured alias, or undefined. */
  viewPath(hostPath: string): string | undefined;
  /** The values compiled in from native/generated/ (for test/abi.test.ts). */
  abi(): {
    EventType: Record<string, number>;
    ResumeKind: Record<string, number>;
    RouteBits: Record<string, number>;
    openChanges: number;
    syscalls: {
      nr: number; name: string; effect: number; statKind: number; accessMode: number; fds: number[];
      paths: { arg: number; dirfd: number; last: number; flags: number; nofollow: [number, number]; follow: [number, number]; emptyPath: [number, number]; nullMeansFd: boolean }[];
    }[];
  };
}

function findAddon(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = path.join(dir, 'build', 'Release', 'vview_native.node');
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error('vview: the native addon is not built (run `npm install` or `npm run build`)');
}

let loaded: Native | undefined;
export function native(): Native {
  if (!loaded) loaded = createRequire(import.meta.url)(findAddon()) as Native;
  return loaded;
}
