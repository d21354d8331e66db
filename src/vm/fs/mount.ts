/**
 * The runtime of a mounted file system: serves every path syscall under the
 * mount point from the mount's host directory, with the view's path
 * semantics, and (for a file system without host files) writes the changes
 * back through the file system's operations.
 *
 *   process ──path call──▶ native code resolves the path in the view (cwd,
 *                          dirfd, symlinks, "..", the mount point's parent);
 *                          through the mount, it also has the host form
 *                          (CallPath.host: the host path of what resolved,
 *                          then the rest as given)
 *                              ▼
 *     a `direct` call (one that changes nothing, or for a writable bind one
 *     name, an open that creates or writes included): native code puts the
 *     host form in place and resumes the call; no JavaScript
 *                              ▼ any other: the handler below
 *     refused (EROFS on a read-only mount, EXDEV across the mount's edge,
 *     EBUSY/EISDIR for the mount point itself), or rewritten: each path
 *     argument becomes its host form and the kernel does the call
 *                              ▼ (at exit, if it succeeded and changed the tree)
 *                    Mirror: the same change through the FileSystem operations
 *
 * The host directory is the bind source itself, or a scratch copy of the file
 * system (see mirror.ts). Open files are therefore real kernel files: read,
 * write, mmap, locks, dup, fork and SCM_RIGHTS never stop. getcwd and /proc
 * links show the view's paths (ctx.showPath, src/vm/viewpaths.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SYSCALL_SPECS } from '../syscalls/table.js';
import { effectOf, specOf, syscallsWith, type Effect } from '../syscalls/classes.js';
import { openFlags, O_ACCMODE, O_CREAT, O_EXCL, O_TMPFILE, O_TRUNC } from '../syscalls/open.js';
import {
  errno, forward, rewrite,
  type Action, type Handler, type ModuleContext, type ModuleInstance, type SyscallCall, type SyscallName,
} from '../module.js';
import { Mirror } from './mirror.js';
import { mountPoint } from './mountpoint.js';
import { withWrites, type AnyFileSystem } from './types.js';

export interface MountOptions {
  /** The mount point: an absolute path (need not exist on the host). */
  mount: string;
  /** Every change is refused with EROFS. */
  readonly?: boolean;
  /**
   * Where the kernel copy of a file system without host files is made: a path
   * that does not exist yet, in a private (0700) directory the caller owns and
   * removes. Default: under ctx.scratchDir(), removed when the view ends.
   */
  scratch?: string;
  /**
   * For a file system with a scratch copy whose content it reads from that
   * copy (adoptContent; the vfs store): nothing is written back per call.
   * Native code makes every change in the copy as for a writable bind (one
   * stop, no JavaScript: a new file costs what it costs in a bind), and the
   * file system catches up with the copy at fsync (that file's path) and when
   * the view ends (everything, compared by identity; see mirror.ts). What a
   * crash keeps is the copy itself, so durability is the copy's. Without it,
   * each change is written back right after the call (types.ts).
   */
  lazyWriteBack?: boolean;
}

const AT_REMOVEDIR = 0x200;
const RENAME_EXCHANGE = 2;

/** A path argument: under this mount (rel: exact mount-relative path, when it all exists) or not; host: its host form. */
type Where = { in: boolean; host?: string; rel?: string } | undefined;

/** What a path syscall does to the tree (the description's effect), for EROFS and the write-back. */
type Kind = Effect;

const W_OK = 2;

/**
 * Calls on an fd that change a file's attributes: a read-only bind refuses
 * them when the fd is its own. (Content needs a writable fd, which it never
 * hands out: ftruncate and fallocate are 'write', and stay the kernel's errors.)
 */
const FD_CHANGES: SyscallName[] = syscallsWith('attr').filter((n) => !specOf(n).paths?.length);

const O_PATH = 0o10000000;

/** Whether fd of thread tid is an O_PATH fd (from /proc/TID/fdinfo/FD). */
function isOPath(tid: number, fd: number): boolean {
  try {
    const flags = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/${tid}/fdinfo/${fd}`, 'utf8'))?.[1];
    return flags !== undefined && (parseInt(flags, 8) & O_PATH) !== 0;
  } catch {
    return false; // EBADF & co: the kernel answers
  }
}

const RESOLVE_CACHED = 0x20n;

/**
 * openat2 with RESOLVE_* flags, whose path native code walked as the kernel
 * would (scoped to the dirfd, the view's mounts as mounts): the address of a
 * copy of its open_how without them, for the host form of that path. Undefined
 * when it has none.
 */
function unscopedHow(call: SyscallCall): number | undefined {
  const size = Math.min(Number(call.ulong(3)), 24);
  if (size < 24) return undefined; // EINVAL from the kernel
  const how = call.mem.read(call.ptr(2), 24);
  const resolve = how.readBigUInt64LE(16);
  // None, or bits the kernel does not know: it answers EINVAL itself.
  if (resolve === 0n || (resolve & ~0x3fn) !== 0n) return undefined;
  how.writeBigUInt64LE(resolve & RESOLVE_CACHED, 16);
  const at = call.mem.alloc(24);
  call.mem.write(at, how);
  return at;
}

/**
 * Serves `given` at `opts.mount` (see the header). A file system declared
 * `readonly: true` needs only the read operations; every change is EROFS.
 */
export async function mountFileSystem(given: AnyFileSystem, opts: MountOptions, ctx: ModuleContext): Promise<ModuleInstance> {
  const fsys = withWrites(given);
  const readonly = !!(opts.readonly || fsys.readonly);
  const hostDir = fsys.hostPath?.('/');
  let mirror: Mirror | undefined;
  let hostRoot: string;
  if (hostDir !== undefined) {
    hostRoot = fs.realpathSync(hostDir);
  } else {
    hostRoot = opts.scratch ?? path.join(ctx.scratchDir(), 'tree');
    mirror = new Mirror(fsys, hostRoot, (m) => ctx.warn(m), !!opts.lazyWriteBack && !readonly);
    await mirror.materialize();
    const m = mirror;
    if (!m.lazy) ctx.onProcessExit((pid) => m.exited(pid));
  }
  const mount = mountPoint(opts.mount, 'mount');
  // A single file shown at the mount point (a bind of a file over a file).
  const fileMount = fs.statSync(hostRoot).isFile();
  ctx.showPath(hostRoot, mount);
  const under = (p: string) => p === mount || p.startsWith(mount + '/');

  /** The host path of an open fd of the calling thread, if it is in this mount. */
  const fdHost = (tid: number, fd: number): string | undefined => {
    try {
      const p = fs.readlinkSync(`/proc/${tid}/fd/${fd}`);
      return p === hostRoot || p.startsWith(hostRoot + '/') ? p : undefined;
    } catch {
      return undefined;
    }
  };

  // Native code has resolved each path in the view (symlinks, "..", the mount
  // point's parent) and, when it went through the mount, gives its host form.
  const handle: Handler = (call) => {
    const kind = effectOf(call.name) ?? 'query';
    const res: Where[] = call.paths.map((p) => {
      if (!p.mine || p.canonical === undefined) return undefined;
      if (!under(p.canonical)) return { in: false, host: p.host };
      const rel = p.canonical === mount ? '/' : p.canonical.slice(mount.length);
      return { in: true, host: p.host, rel: p.lexical ? undefined : rel };
    });
    const inside = res.map((r) => !!r?.in);
    // The fd itself (AT_EMPTY_PATH, utimensat's NULL): a kernel object; no path to rewrite.
    const itself = call.paths.map((p) => p.raw === '');

    // The mount point itself cannot be removed or renamed, nor replaced.
    if ((kind === 'remove' || kind === 'rename') && res.some((r) => r?.in && r.rel === '/')) {
      const unlink = call.name === 'unlink' || (call.name === 'unlinkat' && (call.int(2) & AT_REMOVEDIR) === 0);
      return errno(unlink && !fileMount ? 'EISDIR' : 'EBUSY');
    }
    // One name here and one elsewhere (outside, or in another mount): two file
    // systems in the kernel's eyes.
    if ((kind === 'rename' || kind === 'link') && inside[0] !== inside[1]) return errno('EXDEV');
    let flags = 0;
    if (kind === 'open') {
      flags = openFlags(call);
      if ((flags & O_TMPFILE) === O_TMPFILE && inside[0]) return errno('EOPNOTSUPP');
    }
    // "" + AT_EMPTY_PATH on an O_PATH fd, for a call that needs an open file:
    // the kernel's EBADF comes before anything the mount would answer.
    const specPaths = specOf(call.name).paths ?? [];
    if (itself.some((it, i) => it && inside[i] && specPaths[i]?.emptyPathNeedsOpenFd && isOPath(call.tid, call.int(specPaths[i].dirfd ?? -1))))
      return errno('EBADF');
    if (readonly && inside.some(Boolean)) {
      const modeArg = specOf(call.name).accessMode;
      const mode = modeArg === undefined ? 0 : call.int(modeArg);
      const refused = refuseReadonly(kind, flags, res, itself, mode);
      if (refused) return refused;
    }
    // The paths through the mount go to the kernel in their host form, which
    // native code resolved and writes itself.
    const hostPaths = res.flatMap((r, i) => (r?.host !== undefined && !itself[i] ? [i] : []));
    const args: Record<number, bigint> = {};
    // openat2 with RESOLVE_*: native code walked the path as the kernel would
    // (scoped to the dirfd, the view's mounts as mounts); its host form is
    // absolute and already resolved, so the kernel gets it without the scope.
    if (call.name === 'openat2' && hostPaths.includes(0)) {
      const how = unscopedHow(call);
      if (how !== undefined) args[2] = BigInt(how);
    }
    if (kind === 'exec' && inside[0] && !itself[0] && res[0]?.host !== undefined) {
      const script = scriptExec(call, res[0].host, mount, hostRoot);
      if (script) return script;
    }
    const onExit = mirror && !mirror.lazy ? writeBack(mirror, call, kind, flags, res) : undefined;
    if (Object.keys(args).length === 0 && hostPaths.length === 0) return forward(onExit);
    return { kind: 'rewrite', args, hostPaths, onExit };
  };

  // What native code may do without this handler: what changes nothing, and
  // (writable, without a copy to write back to or with a lazy one) what
  // changes one name. mkdirat among them also lets it do the opens that
  // create, write or truncate (native/tracer.cc, native_rewrite); O_TMPFILE
  // stays here.
  const perCall = mirror !== undefined && !mirror.lazy;
  const direct: SyscallName[] = [];
  for (const [name, spec] of Object.entries(SYSCALL_SPECS) as [SyscallName, (typeof SYSCALL_SPECS)[SyscallName]][]) {
    if (!spec.paths?.length || spec.refuse) continue;
    // access(W_OK) on a read-only mount is EROFS: the handler answers it.
    if (readonly && spec.accessMode !== undefined) continue;
    const e = spec.effect;
    if (e === 'query' || e === 'cwd' || e === 'watch' || (e === 'open' && name !== 'creat')) direct.push(name);
    else if (!perCall && !readonly && (e === 'create' || e === 'remove' || e === 'attr')) direct.push(name);
  }

  const instance: ModuleInstance = {
    paths: { prefixes: [mount], other: handle, direct },
    syscalls: {},
    async close() {
      await mirror?.reconcile();
    },
  };
  if (mirror) {
    const m = mirror;
    const sync: Handler = (call) => {
      const host = fdHost(call.tid, call.int(0));
      if (!host) return undefined;
      // A lazy mirror's store is read by nothing before the end of the view,
      // which waits for this (write-backs run in order): the process need
      // not. (Its data is durable through its own fsync of the copy.)
      if (m.lazy) {
        void m.fsync(host).catch(() => undefined);
        return undefined;
      }
      return m.fsync(host).then(() => undefined);
    };
    instance.syscalls!.fsync = sync;
    instance.syscalls!.fdatasync = sync;
  }
  const glue = mountPointEntry(mount, hostRoot, fileMount, ctx);
  if (glue) instance.fds = { handlers: { getdents64: glue } };
  if (readonly) {
    for (const name of FD_CHANGES)
      instance.syscalls![name] = (call) => (fdHost(call.tid, call.int(0)) ? errno('EROFS') : undefined);
  }
  return instance;
}

/**
 * A mount point the host does not have is still an entry of its parent
 * directory in the view: getdents64 on the parent (routed by its inode) adds
 * it once the kernel's listing has ended, and again after a rewind.
 */
function mountPointEntry(mount: string, hostRoot: string, fileMount: boolean, ctx: ModuleContext): Handler | undefined {
  const parent = path.posix.dirname(mount);
  const name = path.posix.basename(mount);
  let pst: fs.BigIntStats;
  try {
    fs.lstatSync(mount);
    return undefined; // listed by the kernel
  } catch {
    /* not on the host */
  }
  try {
    pst = fs.statSync(parent, { bigint: true });
  } catch {
    return undefined; // no parent on the host either: nothing lists it
  }
  ctx.claimInode(pst.dev, pst.ino);
  const ino = fs.statSync(hostRoot, { bigint: true }).ino;
  const added = new Set<string>(); // "pid:fd" whose listing got the entry since its last rewind
  ctx.onProcessExit((pid) => {
    for (const k of added) if (k.startsWith(`${pid}:`)) added.delete(k);
  });
  return (call) => {
    const fd = call.int(0);
    const key = `${call.pid}:${fd}`;
    let pos = -1;
    try {
      pos = Number(/^pos:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${call.tid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? -1);
    } catch {
      return undefined; // EBADF from the kernel
    }
    if (pos === 0) added.delete(key);
    const buf = call.ptr(1);
    const size = Number(call.ulong(2));
    return forward((exit) => {
      if (exit.result !== 0 || added.has(key)) return undefined;
      const nameBuf = Buffer.from(name);
      const reclen = (19 + nameBuf.length + 1 + 7) & ~7;
      if (reclen > size) return undefined;
      const d = Buffer.alloc(reclen);
      d.writeBigUInt64LE(ino, 0);
      d.writeBigInt64LE(0x7fffffffffffffffn, 8); // d_off: past every real entry
      d.writeUInt16LE(reclen, 16);
      d.writeUInt8(fileMount ? 8 : 4, 18); // DT_REG or DT_DIR
      nameBuf.copy(d, 19);
      exit.mem.write(buf, d);
      added.add(key);
      return reclen;
    });
  };
}

/** EROFS, or the error the kernel gives first on a read-only file system. */
function refuseReadonly(kind: Kind, flags: number, res: Where[], itself: boolean[], access: number): Action | undefined {
  const i = res.findIndex((x) => x?.in);
  if (i < 0) return undefined;
  const r = res[i]!;
  const exists = () => {
    if (itself[i]) return true; // an open fd: the object is there
    if (r.host === undefined) return false;
    try {
      fs.lstatSync(r.host);
      return true;
    } catch {
      return false;
    }
  };
  switch (kind) {
    case 'exec':
    case 'cwd':
    case 'watch':
      return undefined;
    case 'query':
      return access & W_OK && exists() ? errno('EROFS') : undefined;
    case 'open': {
      const writes = (flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0;
      if (flags & O_CREAT) {
        // A creation needs a write first (EROFS before EACCES); an existing file is opened.
        if (!exists()) return errno('EROFS');
        if (flags & O_EXCL) return errno('EEXIST');
      }
      if (!writes) return undefined;
      return exists() ? errno('EROFS') : undefined; // ENOENT & co from the kernel
    }
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
function scriptExec(call: SyscallCall, host: string, mount: string, hostRoot: string): Action | undefined {
  if (call.name !== 'execve') return undefined; // execveat of a script: left to the kernel
  let head: Buffer;
  try {
    const fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
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
    fs.accessSync(host, fs.constants.X_OK);
  } catch {
    return errno('EACCES');
  }
  const nl = head.indexOf(0x0a);
  const line = head.subarray(2, nl < 0 ? head.length : nl).toString().replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
  if (!line) return errno('ENOEXEC');
  const sp = line.search(/[ \t]/);
  const interp = sp < 0 ? line : line.slice(0, sp);
  const optArg = sp < 0 ? undefined : line.slice(sp).replace(/^[ \t]+/, '');
  // argv: interpreter [optional argument] script-path argv[1...]
  const argvPtr = call.ptr(1);
  const oldArgs: number[] = [];
  for (let i = 0; i < 4096; i++) {
    const p = Number(call.mem.read(argvPtr + i * 8, 8).readBigUInt64LE(0));
    if (p === 0) break;
    oldArgs.push(p);
  }
  // The script's name as the process gave it, as the kernel passes it ($0).
  const strings = [interp, ...(optArg ? [optArg] : []), call.paths[0].raw];
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
  // An interpreter inside this mount is run from its host path (symlinks in
  // its path are the kernel's to follow there).
  const file = interp === mount || interp.startsWith(mount + '/') ? hostRoot + interp.slice(mount.length) : interp;
  const fileBuf = Buffer.from(file + '\0');
  const fileAddr = call.mem.alloc(fileBuf.length);
  call.mem.write(fileAddr, fileBuf);
  return rewrite({ 0: BigInt(fileAddr), 1: BigInt(vecAddr) });
}

/** The exit hook that repeats a successful change in the file system. */
function writeBack(m: Mirror, call: SyscallCall, kind: Kind, flags: number, res: Where[]) {
  const rel = (i: number) => res[i]?.rel;
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
