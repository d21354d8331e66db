/**
 * The runtime of a mounted file system: turns every path syscall under the
 * mount point into work on the mount's host directory, with the view's path
 * semantics, and (for a file system without host files) into write-backs to
 * the file system's operations.
 *
 *   process ──path call──▶ native walk stops at the mount point
 *                              ▼
 *                    MountPaths.resolve (symlinks, "..", view semantics)
 *                              ▼
 *     rewrite: the path argument becomes the host path; the kernel does the call
 *                              ▼ (at exit, if it succeeded and changed the tree)
 *                    Mirror: the same change through the FileSystem operations
 *
 * The host directory is the bind source itself, or a scratch copy of the file
 * system (see mirror.ts). Open files are therefore real kernel files: read,
 * write, mmap, locks, dup, fork and SCM_RIGHTS never stop.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SYSCALL_SPECS } from '../syscalls/table.js';
import type { PathArg } from '../syscalls/spec.js';
import {
  errno, forward, rewrite,
  type Action, type Handler, type ModuleContext, type ModuleInstance, type SyscallCall, type SyscallName,
} from '../module.js';
import { MountPaths, type Resolved } from './resolve.js';
import { Mirror } from './mirror.js';
import type { FileSystem } from './types.js';

export interface MountOptions {
  /** The mount point: absolute, canonical. */
  mount: string;
  /** Every change is refused with EROFS. */
  readonly?: boolean;
}

const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOFOLLOW = 0o400000;
const O_TRUNC = 0o1000;
const O_TMPFILE = 0o20000000 | 0o200000;
const AT_REMOVEDIR = 0x200;
const RENAME_EXCHANGE = 2;

/** What a path syscall does to the tree, for EROFS and the write-back. */
type Kind = 'query' | 'open' | 'create' | 'remove' | 'rename' | 'link' | 'attr' | 'exec';

const KINDS: Partial<Record<SyscallName, Kind>> = {
  open: 'open', openat: 'open', openat2: 'open', creat: 'open',
  mkdir: 'create', mkdirat: 'create', mknod: 'create', mknodat: 'create', symlink: 'create', symlinkat: 'create',
  unlink: 'remove', unlinkat: 'remove', rmdir: 'remove',
  rename: 'rename', renameat: 'rename', renameat2: 'rename',
  link: 'link', linkat: 'link',
  chmod: 'attr', fchmodat: 'attr', fchmodat2: 'attr', chown: 'attr', lchown: 'attr', fchownat: 'attr',
  utime: 'attr', utimes: 'attr', futimesat: 'attr', utimensat: 'attr', truncate: 'attr',
  setxattr: 'attr', lsetxattr: 'attr', removexattr: 'attr', lremovexattr: 'attr',
  execve: 'exec', execveat: 'exec',
};

/** Calls on an fd that change a file: a read-only bind refuses them when the fd is its own. */
const FD_CHANGES: SyscallName[] = ['fchmod', 'fchown', 'fsetxattr', 'fremovexattr', 'ftruncate', 'fallocate'];

/** The open flags of an open-family call (creat: O_CREAT|O_WRONLY|O_TRUNC). */
function openFlagsOf(call: SyscallCall): number {
  switch (call.name) {
    case 'open':
      return call.int(1);
    case 'openat':
      return call.int(2);
    case 'openat2':
      return Number(call.mem.read(call.ptr(2), 8).readBigUInt64LE(0) & 0xffffffffn);
    case 'creat':
      return O_CREAT | 1 | O_TRUNC;
    default:
      return 0;
  }
}

function flagSet(call: SyscallCall, f: { arg: number; bit: number } | undefined): boolean {
  return !!f && (call.ulong(f.arg) & BigInt(f.bit)) !== 0n;
}

/** Whether the kernel follows a final symlink of this path argument. */
function follows(call: SyscallCall, spec: PathArg): boolean {
  switch (spec.last) {
    case 'follow':
      return !flagSet(call, spec.nofollowFlag);
    case 'nofollow':
      return flagSet(call, spec.followFlag);
    case 'open':
    case 'openhow': {
      const f = openFlagsOf(call);
      return !(f & O_NOFOLLOW) && !((f & O_CREAT) && (f & O_EXCL));
    }
  }
}

export async function mountFileSystem(fsys: FileSystem, opts: MountOptions, ctx: ModuleContext): Promise<ModuleInstance> {
  const readonly = !!(opts.readonly || fsys.readonly);
  const direct = fsys.hostPath?.('/');
  let mirror: Mirror | undefined;
  let hostRoot: string;
  if (direct !== undefined) {
    hostRoot = fs.realpathSync(direct);
  } else {
    hostRoot = path.join(ctx.scratchDir(), 'tree');
    mirror = new Mirror(fsys, hostRoot, (m) => ctx.warn(m));
    await mirror.materialize();
    const m = mirror;
    ctx.onProcessExit((pid) => void m.exited(pid));
  }
  ctx.showPath(hostRoot, opts.mount);
  const paths = new MountPaths(opts.mount, hostRoot);

  /** The host path of an open fd of the calling thread, if it is in this mount. */
  const fdHost = (tid: number, fd: number): string | undefined => {
    try {
      const p = fs.readlinkSync(`/proc/${tid}/fd/${fd}`);
      return p === hostRoot || p.startsWith(hostRoot + '/') ? p : undefined;
    } catch {
      return undefined;
    }
  };

  const handle: Handler = (call) => {
    const spec = SYSCALL_SPECS[call.name];
    const specs = spec.paths ?? [];
    const kind = KINDS[call.name] ?? 'query';
    // Each path argument: resolved here when it is under the mount, else left alone.
    const res: (Resolved | undefined)[] = call.paths.map((p, i) =>
      p.mine && p.canonical !== undefined && specs[i] ? paths.resolve(p.canonical, follows(call, specs[i])) : undefined,
    );
    for (const r of res) if (r?.where === 'error') return errno(r.errno);
    const inside = res.map((r) => r?.where === 'in');
    // The fd itself (AT_EMPTY_PATH, utimensat's NULL): a kernel object; no path to rewrite.
    const itself = call.paths.map((p) => p.raw === '');

    // One name here and one elsewhere (outside, or in another mount): two file
    // systems in the kernel's eyes.
    if ((kind === 'rename' || kind === 'link') && inside[0] !== inside[1]) return errno('EXDEV');
    let flags = 0;
    if (kind === 'open') {
      flags = openFlagsOf(call);
      if ((flags & O_TMPFILE) === O_TMPFILE && inside[0]) return errno('EOPNOTSUPP');
    }
    if (readonly && inside.some(Boolean)) {
      const refused = refuseReadonly(kind, flags, res);
      if (refused) return refused;
    }

    const args: Record<number, string> = {};
    res.forEach((r, i) => {
      if (!r || itself[i]) return;
      if (r.where === 'in') args[specs[i].arg] = r.host;
      else if (r.where === 'out') args[specs[i].arg] = r.path;
    });
    if (kind === 'exec' && inside[0] && !itself[0]) {
      const script = scriptExec(call, res[0] as Extract<Resolved, { where: 'in' }>, paths);
      if (script) return script;
    }
    const onExit = mirror ? writeBack(mirror, call, kind, flags, res) : undefined;
    if (Object.keys(args).length === 0) return forward(onExit);
    return rewrite(args, onExit);
  };

  const instance: ModuleInstance = {
    paths: { prefixes: [opts.mount], other: handle },
    syscalls: {},
    async close() {
      await mirror?.reconcile();
    },
  };
  if (mirror) {
    const m = mirror;
    const sync: Handler = async (call) => {
      const host = fdHost(call.tid, call.int(0));
      if (host) await m.fsync(host);
      return undefined;
    };
    instance.syscalls!.fsync = sync;
    instance.syscalls!.fdatasync = sync;
  }
  if (readonly) {
    for (const name of FD_CHANGES)
      instance.syscalls![name] = (call) => (fdHost(call.tid, call.int(0)) ? errno('EROFS') : undefined);
  }
  return instance;
}

/** EROFS, or the error the kernel gives first on a read-only file system. */
function refuseReadonly(kind: Kind, flags: number, res: (Resolved | undefined)[]): Action | undefined {
  const r = res.find((x) => x?.where === 'in') as Extract<Resolved, { where: 'in' }> | undefined;
  if (!r) return undefined;
  const exists = () => {
    try {
      fs.lstatSync(r.host);
      return true;
    } catch {
      return false;
    }
  };
  switch (kind) {
    case 'query':
    case 'exec':
      return undefined;
    case 'open':
      if ((flags & O_ACCMODE) === 0 && !(flags & O_TRUNC)) {
        if (!(flags & O_CREAT)) return undefined;
        // O_CREAT of an existing file opens it; only a creation needs a write.
        if (exists()) return flags & O_EXCL ? errno('EEXIST') : undefined;
        return errno('EROFS');
      }
      return exists() ? errno('EROFS') : undefined; // ENOENT & co from the kernel
    case 'create':
      return exists() ? errno('EEXIST') : errno('EROFS');
    case 'attr':
      return exists() ? errno('EROFS') : undefined;
    default:
      return errno('EROFS');
  }
}

/**
 * execve of a "#!" script in the mount: the kernel would hand the interpreter
 * the host path of the script; run the interpreter with the view path instead,
 * as the kernel would for a script at that path.
 */
function scriptExec(call: SyscallCall, r: Extract<Resolved, { where: 'in' }>, paths: MountPaths): Action | undefined {
  let head: Buffer;
  try {
    const fd = fs.openSync(r.host, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      head = Buffer.alloc(256);
      head = head.subarray(0, fs.readSync(fd, head, 0, 256, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined; // the kernel reports what is wrong
  }
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  try {
    fs.accessSync(r.host, fs.constants.X_OK);
  } catch {
    return errno('EACCES');
  }
  const nl = head.indexOf(0x0a);
  const line = head.subarray(2, nl < 0 ? head.length : nl).toString().replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
  if (!line) return errno('ENOEXEC');
  const sp = line.search(/[ \t]/);
  const interp = sp < 0 ? line : line.slice(0, sp);
  const optArg = sp < 0 ? undefined : line.slice(sp).replace(/^[ \t]+/, '');
  if (call.name !== 'execve') return undefined; // execveat of a script: left to the kernel
  // argv: interpreter [optional argument] script-path argv[1...]
  const argvPtr = call.ptr(1);
  const oldArgs: number[] = [];
  for (let i = 0; i < 4096; i++) {
    const p = Number(call.mem.read(argvPtr + i * 8, 8).readBigUInt64LE(0));
    if (p === 0) break;
    oldArgs.push(p);
  }
  const strings = [interp, ...(optArg ? [optArg] : []), paths.view(r.rel)];
  const blobs = strings.map((s) => Buffer.from(s + '\0'));
  const addrs = blobs.map((b) => {
    const a = call.mem.alloc(b.length);
    call.mem.write(a, b);
    return a;
  });
  const all = [...addrs, ...oldArgs.slice(1), 0];
  const vec = Buffer.alloc(all.length * 8);
  all.forEach((a, i) => vec.writeBigUInt64LE(BigInt(a), i * 8));
  const vecAddr = call.mem.alloc(vec.length);
  call.mem.write(vecAddr, vec);
  // The interpreter's own path is resolved by the kernel; one inside this mount
  // goes through the view when the process execs it (it is the new filename).
  let file = interp;
  if (paths.contains(interp)) {
    const ir = paths.resolve(interp, true);
    if (ir.where === 'in') file = ir.host;
    else if (ir.where === 'out') file = ir.path;
  }
  const fileBuf = Buffer.from(file + '\0');
  const fileAddr = call.mem.alloc(fileBuf.length);
  call.mem.write(fileAddr, fileBuf);
  return rewrite({ 0: BigInt(fileAddr), 1: BigInt(vecAddr) });
}

/** The exit hook that repeats a successful change in the file system. */
function writeBack(m: Mirror, call: SyscallCall, kind: Kind, flags: number, res: (Resolved | undefined)[]) {
  const rel = (i: number) => {
    const r = res[i];
    return r?.where === 'in' && r.complete ? r.rel : undefined;
  };
  const pid = call.pid;
  switch (kind) {
    case 'open': {
      const p = rel(0);
      if (p === undefined || !(flags & (O_CREAT | O_TRUNC | O_ACCMODE))) return undefined;
      const existed = m.lstat(p) !== undefined;
      return async (exit: { result: number }) => {
        if (exit.result < 0) return;
        if (!existed) await m.created(p);
        else if (flags & O_TRUNC) await m.changed(p);
        if (flags & O_ACCMODE) m.writing(pid, p);
      };
    }
    case 'create': {
      const p = rel(0);
      if (p === undefined) return undefined;
      return async (exit: { result: number }) => {
        if (exit.result >= 0) await m.created(p);
      };
    }
    case 'remove': {
      const p = rel(0);
      if (p === undefined) return undefined;
      const dir = call.name === 'rmdir' || (call.name === 'unlinkat' && (call.int(2) & AT_REMOVEDIR) !== 0);
      return async (exit: { result: number }) => {
        if (exit.result >= 0) await m.removed(p, dir);
      };
    }
    case 'rename': {
      const from = rel(0);
      const to = rel(1);
      if (from === undefined || to === undefined) return undefined;
      const exchange = call.name === 'renameat2' && (call.int(4) & RENAME_EXCHANGE) !== 0;
      return async (exit: { result: number }) => {
        if (exit.result >= 0 && from !== to) await m.renamed(from, to, exchange);
      };
    }
    case 'link': {
      const from = rel(0);
      const to = rel(1);
      if (from === undefined || to === undefined) return undefined;
      return async (exit: { result: number }) => {
        if (exit.result >= 0) await m.linked(from, to);
      };
    }
    case 'attr': {
      const p = rel(0);
      if (p === undefined) return undefined;
      return async (exit: { result: number }) => {
        if (exit.result >= 0) await m.changed(p);
      };
    }
    default:
      return undefined;
  }
}
