/**
 * The vfs module's tree: a FileSystem (see ../../vm/fs/types.ts) held in
 * memory, in a memfs Volume.
 *
 * memfs gives the directory tree, the content of files, hard links (two names
 * of one memfs node share its content) and inode numbers. The rest is kept in a
 * side table keyed by the memfs inode number, because memfs lacks it or does
 * what a file system under the kernel's rules must not:
 *
 * - The type. memfs has no fifos, sockets or device nodes, and it follows
 *   symlinks where it must not (its rename moves the target of a symlink, and
 *   cannot move a dangling one). So every object but a directory is a plain
 *   memfs file: a symlink holds its target as content, a fifo, socket or
 *   device node is empty, and the real type (and rdev) is in the table.
 * - perm, uid and gid. memfs checks permissions against the ids of this Node
 *   process, with no exception for root. The runtime applies the kernel's
 *   rules itself; memfs keeps its default modes (0666 for files, 0777 for
 *   directories), which never refuse anything, and the real bits are here.
 * - Times. memfs keeps millisecond Dates and updates them by its own rules;
 *   here they are nanoseconds, exactly as utimens set them, updated as Linux
 *   does, except that reads never update atime (as on a noatime mount: the
 *   runtime reads a file only to copy it into its scratch tree).
 * - Content kept elsewhere. A file's content may be held outside memory
 *   (`Meta.ext`): a range of an open file (a loaded archive, see archive.ts),
 *   a host file (a `from` directory), or, once the view's kernel copy holds it
 *   (`adoptContent`), that copy itself. Only files created from `files:` or a
 *   JSON snapshot keep their content in memfs until then. So the memory a
 *   store needs grows with the number of names, not with the data.
 */
import { constants as bufferConstants } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Volume } from 'memfs';
import { copySparse, fsError, OptionError, type FileSystem, type FileType, type FsAttr, type FsStatfs } from '../../index.js';

export type SpecialType = 'fifo' | 'socket' | 'chr' | 'blk';

/** What getattr answers here: ctime, rdev (0 unless chr / blk) and ino (the memfs inode number) are always known. */
export type StoreAttr = FsAttr & { ctimeNs: bigint; rdev: number; ino: number };

/** One name in the tree, as `entries()` lists them. */
export interface StoreEntry {
  path: string;
  attr: StoreAttr;
}

export interface StoreOptions {
  /** Owner of the root and of every object created (default: this process's ids). */
  uid?: number;
  gid?: number;
}

/** Where the content of a file is when not in memfs. */
type Ext =
  | { fd: number; offset: number } // a range of an open file (an archive), read-only
  | { file: string; root?: string } // a host file, as it is when read (below root: a tree the store owns, see openLive)
  | { live: true }; // the view's kernel copy: liveRoot + the file's path

interface Meta {
  type: FileType;
  /** Content outside memfs, and its size. */
  ext?: Ext;
  extSize?: number;
  perm: number;
  uid: number;
  gid: number;
  /** 0 unless chr / blk. */
  rdev: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** An existing object found by path. */
interface Found {
  ino: number;
  nlink: number;
  size: number;
  meta: Meta;
}

const S_ISGID = 0o2000;
export const NAME_MAX = 255;
/** What stat shows as the size of a directory (as ext4). */
const DIR_SIZE = 4096;
const BLOCK_SIZE = 4096;
/** The largest file: what a Buffer can hold. */
const MAX_FILE_SIZE = bufferConstants.MAX_LENGTH;
const TYPE_NAMES: Record<FileType, string> = {
  file: 'file', dir: 'directory', symlink: 'symlink', fifo: 'fifo', socket: 'socket', chr: 'character device', blk: 'block device',
};
/** chown's "leave this id unchanged", as a signed or an unsigned 32-bit value. */
const KEEP_IDS = new Set([-1, 0xffffffff]);

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** A path as the operations take it: absolute, normalized, without a trailing slash or a NUL. */
export function isStorePath(p: string): boolean {
  return p.startsWith('/') && path.posix.normalize(p) === p && (p === '/' || !p.endsWith('/')) && !p.includes('\0');
}

function checkPath(p: string): void {
  if (!isStorePath(p)) throw fsError('EINVAL', `not a normalized absolute path: ${JSON.stringify(p)}`);
  // (A name of at most NAME_MAX / 4 characters cannot exceed NAME_MAX bytes: most paths need no split.)
  if (p.length > NAME_MAX / 4 && p.split('/').some((name) => Buffer.byteLength(name) > NAME_MAX)) throw fsError('ENAMETOOLONG', p);
}

/** The names of a store path (checked), as memfs walks them: [] for the root. */
function stepsOf(p: string): string[] {
  return p === '/' ? [] : p.slice(1).split('/');
}

/**
 * The part of memfs's core that finds a name without building a Stats object
 * or throwing for a free name (Volume.lstatSync does both, and a throw costs
 * tens of microseconds on every creation). The store never keeps a memfs
 * symlink (see the header), so a walk never follows one.
 */
interface MemLink {
  getNode(): { ino: number; nlink: number; getSize(): number };
}
interface MemCore {
  walk(steps: string[], resolveSymlinks: boolean, checkExistence: boolean, checkAccess: boolean): { ok: boolean; value?: MemLink | null };
  createLink(parent: MemLink, name: string, isDirectory: boolean, mode: number): MemLink;
}

/** An offset, length or size. */
function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw fsError('EINVAL', `invalid offset or size ${n}`);
}

/** A new uid or gid: a 32-bit id other than -1, or the current one when -1. */
function newId(id: number, current: number): number {
  if (KEEP_IDS.has(id)) return current;
  if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) throw fsError('EINVAL', `invalid id ${id}`);
  return id;
}

function attrOf(f: Found): StoreAttr {
  const { type, perm, uid, gid, rdev, atimeNs, mtimeNs, ctimeNs } = f.meta;
  const size = type === 'dir' ? DIR_SIZE : f.meta.ext ? f.meta.extSize! : f.size;
  return { type, perm, uid, gid, size, atimeNs, mtimeNs, ctimeNs, rdev, ino: f.ino };
}

/** A directory's content changed (an entry was added, removed or renamed). */
function changed(meta: Meta, t: bigint): void {
  meta.mtimeNs = t;
  meta.ctimeNs = t;
}

export class MemStore implements FileSystem {
  readonly uid: number;
  readonly gid: number;
  private readonly vol = new Volume();
  /** By memfs inode number; an entry lives as long as the memfs node has a name. */
  private readonly meta = new Map<number, Meta>();
  /** The host directory of the kernel copy whose files hold `live` content. */
  private liveRoot: string | undefined;

  constructor(options: StoreOptions = {}) {
    this.uid = options.uid ?? process.getuid?.() ?? 0;
    this.gid = options.gid ?? process.getgid?.() ?? 0;
    const t = nowNs();
    this.meta.set(this.vol.lstatSync('/').ino, {
      type: 'dir', perm: 0o755, uid: this.uid, gid: this.gid, rdev: 0, atimeNs: t, mtimeNs: t, ctimeNs: t,
    });
  }

  // ---- FileSystem ------------------------------------------------------------

  getattr(p: string): StoreAttr {
    return attrOf(this.lookup(p));
  }

  readdir(p: string): string[] {
    if (this.lookup(p).meta.type !== 'dir') throw fsError('ENOTDIR', p);
    // Without withFileTypes memfs answers the names.
    return this.vol.readdirSync(p) as string[];
  }

  readlink(p: string): string {
    if (this.lookup(p).meta.type !== 'symlink') throw fsError('EINVAL', `not a symlink: ${p}`);
    return this.vol.readFileSync(p).toString();
  }

  read(p: string, offset: number, length: number): Buffer {
    const f = this.regular(p);
    checkCount(offset);
    checkCount(length);
    const size = f.meta.ext ? f.meta.extSize! : f.size;
    const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    if (buf.length === 0) return buf;
    if (f.meta.ext) this.withExt(p, f.meta.ext, (fd, base) => readFully(fd, buf, base + offset));
    else this.withFd(p, 'r', (fd) => this.vol.readSync(fd, buf, 0, buf.length, offset));
    return buf;
  }

  /**
   * Writes the content of p into dstFd at dstOff, keeping its holes; the
   * caller sets the destination's size. Content outside memory never passes
   * through JavaScript (native copySparse).
   */
  copyContent(p: string, dstFd: number, dstOff = 0): void {
    const f = this.regular(p);
    const ext = f.meta.ext;
    if (!ext) {
      if (f.size > 0) writeFully(dstFd, this.read(p, 0, f.size), dstOff);
      return;
    }
    const size = f.meta.extSize!;
    if (size === 0) return;
    this.withExt(p, ext, (fd, base) => copySparse(fd, base, dstFd, dstOff, size));
  }

  /**
   * The content of p is now that of hostFile, a file of the view's kernel copy
   * that the runtime keeps (following renames) until the view has ended: the
   * store reads it there from now on and drops its own copy.
   */
  adoptContent(p: string, hostFile: string): void {
    const f = this.regular(p);
    if (!hostFile.endsWith(p)) throw new Error(`adoptContent: ${hostFile} is not the copy of ${p}`);
    const root = hostFile.slice(0, hostFile.length - p.length);
    if (this.liveRoot !== undefined && this.liveRoot !== root) throw new Error(`adoptContent: ${hostFile} is outside the kernel copy ${this.liveRoot}`);
    this.liveRoot = root;
    const st = fs.lstatSync(hostFile);
    if (!f.meta.ext && f.size > 0) this.vol.truncateSync(p, 0);
    f.meta.ext = { live: true };
    f.meta.extSize = st.size;
  }

  /**
   * The content of p is the host file `file` (read when needed: at the start
   * of the view, or a save). root: file is below it in a tree the store owns,
   * whose directories may have been made unsearchable (a recovered copy).
   */
  setContentFile(p: string, file: string, size: number, root?: string): void {
    const f = this.regular(p);
    if (!f.meta.ext && f.size > 0) this.vol.truncateSync(p, 0);
    f.meta.ext = root === undefined ? { file } : { file, root };
    f.meta.extSize = size;
  }

  /** The content of p is `size` bytes at `offset` of the open file `fd` (which must stay open). */
  setContentRange(p: string, fd: number, offset: number, size: number): void {
    const f = this.regular(p);
    if (!f.meta.ext && f.size > 0) this.vol.truncateSync(p, 0);
    f.meta.ext = { fd, offset };
    f.meta.extSize = size;
  }

  write(p: string, offset: number, data: Buffer): void {
    const f = this.regular(p);
    this.internalize(p, f);
    checkCount(offset);
    if (offset + data.length > MAX_FILE_SIZE) throw fsError('EFBIG', p);
    if (data.length === 0) return; // as write(2): no change, no new times
    this.withFd(p, 'r+', (fd) => this.vol.writeSync(fd, data, 0, data.length, offset));
    changed(f.meta, nowNs());
  }

  truncate(p: string, size: number): void {
    const f = this.regular(p);
    checkCount(size);
    if (size > MAX_FILE_SIZE) throw fsError('EFBIG', p);
    if (size === 0 && f.meta.ext) f.meta.ext = f.meta.extSize = undefined;
    else this.internalize(p, f);
    this.vol.truncateSync(p, size);
    changed(f.meta, nowNs()); // Linux updates the times even when the size stays the same
  }

  create(p: string, perm: number): void {
    const dir = this.freeName(p);
    // What writeFileSync(p, '') makes (a 0666 memfs file), without its open, write and close.
    const parent = this.linkOf(path.posix.dirname(p));
    if (parent) {
      const link = this.core.createLink(parent, path.posix.basename(p), false, 0o666);
      this.born(p, dir, 'file', perm & 0o7777, 0, link.getNode().ino);
    } else {
      this.vol.writeFileSync(p, '');
      this.born(p, dir, 'file', perm & 0o7777);
    }
  }

  mkdir(p: string, perm: number): void {
    const dir = this.freeName(p);
    this.vol.mkdirSync(p);
    // mkdir(2) drops set-user-ID and set-group-ID from the mode (set-group-ID comes from the parent only).
    this.born(p, dir, 'dir', perm & 0o1777);
  }

  mknod(p: string, type: SpecialType, perm: number, rdev: number): void {
    if (!Number.isSafeInteger(rdev) || rdev < 0) throw fsError('EINVAL', `invalid device number ${rdev}`);
    const dir = this.freeName(p);
    this.vol.writeFileSync(p, '');
    this.born(p, dir, type, perm & 0o7777, type === 'chr' || type === 'blk' ? rdev : 0);
  }

  symlink(target: string, p: string): void {
    if (target === '') throw fsError('ENOENT', 'empty symlink target'); // as symlink(2)
    if (target.includes('\0')) throw fsError('EINVAL', 'a symlink target cannot hold a NUL');
    const dir = this.freeName(p);
    this.vol.writeFileSync(p, target);
    this.born(p, dir, 'symlink', 0o777);
  }

  link(existing: string, p: string): void {
    const src = this.lookup(existing);
    const dir = this.freeName(p);
    if (src.meta.type === 'dir') throw fsError('EPERM', `a directory cannot be hard linked: ${existing}`);
    this.vol.linkSync(existing, p);
    const t = nowNs();
    src.meta.ctimeNs = t;
    changed(dir, t);
  }

  unlink(p: string): void {
    const f = this.lookup(p);
    if (f.meta.type === 'dir') throw fsError('EISDIR', p);
    const dir = this.parent(p);
    this.vol.unlinkSync(p);
    const t = nowNs();
    this.unlinked(f, t);
    changed(dir, t);
  }

  rmdir(p: string): void {
    const d = this.lookup(p);
    if (p === '/') throw fsError('EBUSY', 'the root cannot be removed');
    if (d.meta.type !== 'dir') throw fsError('ENOTDIR', p);
    if (this.readdir(p).length > 0) throw fsError('ENOTEMPTY', p);
    const dir = this.parent(p);
    this.vol.rmdirSync(p);
    this.meta.delete(d.ino);
    changed(dir, nowNs());
  }

  /** rename(2), checks in the kernel's order. */
  rename(from: string, to: string): void {
    const src = this.lookup(from);
    checkPath(to);
    if (from === '/' || to === '/') throw fsError('EBUSY', 'the root cannot be renamed or replaced');
    const toDir = this.parent(to);
    if (to.startsWith(from + '/')) throw fsError('EINVAL', `cannot move ${from} into itself`);
    if (from.startsWith(to + '/')) throw fsError('ENOTEMPTY', `cannot replace ${to}, an ancestor of ${from}`);
    const dst = this.find(to);
    if (dst?.ino === src.ino) return; // one object (the same name, or two hard links): rename(2) does nothing
    if (dst) {
      if (src.meta.type === 'dir' && dst.meta.type !== 'dir') throw fsError('ENOTDIR', to);
      if (src.meta.type !== 'dir' && dst.meta.type === 'dir') throw fsError('EISDIR', to);
      if (dst.meta.type === 'dir' && this.readdir(to).length > 0) throw fsError('ENOTEMPTY', to);
    }
    const fromDir = this.parent(from);
    const t = nowNs();
    // memfs's rename would put the source over the target without unlinking
    // the target (its link count would stay wrong): remove the target first.
    if (dst?.meta.type === 'dir') {
      this.vol.rmdirSync(to);
      this.meta.delete(dst.ino);
    } else if (dst) {
      this.vol.unlinkSync(to);
      this.unlinked(dst, t);
    }
    this.vol.renameSync(from, to);
    src.meta.ctimeNs = t;
    changed(fromDir, t);
    changed(toDir, t);
  }

  chmod(p: string, perm: number): void {
    const f = this.lookup(p);
    // Linux has no permission bits on a symlink: fchmodat(AT_SYMLINK_NOFOLLOW) fails so.
    if (f.meta.type === 'symlink') throw fsError('EOPNOTSUPP', `a symlink has no mode: ${p}`);
    f.meta.perm = perm & 0o7777;
    f.meta.ctimeNs = nowNs();
  }

  /** uid or gid -1 leaves that id unchanged, as chown(2). */
  chown(p: string, uid: number, gid: number): void {
    const f = this.lookup(p);
    const newUid = newId(uid, f.meta.uid);
    const newGid = newId(gid, f.meta.gid);
    f.meta.uid = newUid;
    f.meta.gid = newGid;
    f.meta.ctimeNs = nowNs();
  }

  utimens(p: string, atimeNs: bigint, mtimeNs: bigint): void {
    const f = this.lookup(p);
    f.meta.atimeNs = atimeNs;
    f.meta.mtimeNs = mtimeNs;
    f.meta.ctimeNs = nowNs();
  }

  /**
   * A memory file system has no fixed size: like tmpfs, it shows the bytes of
   * content it holds as used, and the host's free memory as free.
   */
  statfs(): FsStatfs {
    const counted = new Set<number>();
    let bytes = 0;
    for (const { attr } of this.entries()) {
      if (attr.type === 'dir' || counted.has(attr.ino)) continue; // a directory's size is not content
      counted.add(attr.ino);
      bytes += attr.size;
    }
    const free = Math.floor(os.freemem() / BLOCK_SIZE);
    return {
      bsize: BLOCK_SIZE,
      blocks: Math.ceil(bytes / BLOCK_SIZE) + free,
      bfree: free,
      bavail: free,
      files: this.meta.size + free,
      ffree: free,
      namelen: NAME_MAX,
    };
  }

  // ---- whole-tree access (snapshots, initial content) ------------------------

  /** Every name from p down (the whole tree by default), each directory before its entries, names sorted. */
  *entries(p = '/'): Generator<StoreEntry> {
    const f = this.lookup(p);
    yield { path: p, attr: attrOf(f) };
    if (f.meta.type !== 'dir') return;
    for (const name of this.readdir(p).sort()) yield* this.entries(path.posix.join(p, name));
  }

  /**
   * Sets the attributes of an object as recorded, ctime included (which no
   * FileSystem operation can set): for restoring a snapshot.
   */
  restoreAttr(p: string, attr: Pick<StoreAttr, 'perm' | 'uid' | 'gid' | 'atimeNs' | 'mtimeNs' | 'ctimeNs'>): void {
    const m = this.lookup(p).meta;
    m.perm = attr.perm & 0o7777;
    m.uid = attr.uid;
    m.gid = attr.gid;
    m.atimeNs = attr.atimeNs;
    m.mtimeNs = attr.mtimeNs;
    m.ctimeNs = attr.ctimeNs;
  }

  /**
   * Adds files and directories given as { relative path: content }: a string
   * is a regular file with that (UTF-8) content, mode 0644; null is a
   * directory, mode 0755. Missing parent directories are created (0755). A
   * file given again replaces its content; a file where a directory is (or
   * the reverse) is an error. Errors are OptionError under ['files', path].
   */
  addFiles(files: Readonly<Record<string, unknown>>): void {
    for (const [rel, content] of Object.entries(files)) {
      const err = (msg: string) => new OptionError(['files', rel], msg);
      if (content !== null && typeof content !== 'string') throw err('expected a string (the content of a file) or null (a directory)');
      const names = rel.split('/');
      if (names.some((n) => n === '' || n === '.' || n === '..' || n.includes('\0')))
        throw err('expected a relative path without empty, "." or ".." components');
      if (names.some((n) => Buffer.byteLength(n) > NAME_MAX)) throw err(`a name is longer than ${NAME_MAX} bytes`);
      let p = '';
      for (const [i, name] of names.entries()) {
        p += '/' + name;
        const isLast = i === names.length - 1;
        const wantDir = !isLast || content === null;
        const f = this.find(p);
        if (!f) {
          if (wantDir) this.mkdir(p, 0o755);
          else this.create(p, 0o644);
        } else if (f.meta.type !== (wantDir ? 'dir' : 'file')) {
          throw err(`${p} is already a ${TYPE_NAMES[f.meta.type]}`);
        }
      }
      if (typeof content === 'string') {
        this.truncate(p, 0);
        this.write(p, 0, Buffer.from(content));
      }
    }
  }

  /**
   * Copies a host directory's content in, recursively, over the root: regular
   * files (with their content; hard links stay linked), directories and
   * symlinks, with their permission bits and atime/mtime; the root takes the
   * host directory's. Ownership is not copied (everything is the store's
   * owner's, as `cp -r` makes it). Other types are skipped, each told to
   * `onWarning`. A file that cannot be read throws.
   */
  copyFromHost(hostDir: string, onWarning: (message: string) => void): void {
    const first = new Map<string, string>(); // host dev:ino -> store path, for hard links
    const visit = (host: string, p: string, st: fs.BigIntStats): void => {
      if (st.isDirectory()) {
        if (p !== '/') this.mkdir(p, 0o700);
        // A directory a process made unreadable or unsearchable (000, 0300,
        // 0600) is read with u+rwx for the while; its own mode is recorded
        // below from st, and put back on the host.
        const mode = Number(st.mode & 0o7777n);
        const opened = (mode & 0o500) !== 0o500;
        if (opened) fs.chmodSync(host, mode | 0o700);
        try {
          for (const name of fs.readdirSync(host).sort()) {
            const child = path.join(host, name);
            visit(child, path.posix.join(p, name), fs.lstatSync(child, { bigint: true }));
          }
        } finally {
          if (opened) fs.chmodSync(host, mode);
        }
      } else if (st.isSymbolicLink()) {
        this.symlink(fs.readlinkSync(host), p);
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const seen = first.get(key);
        if (seen !== undefined) {
          this.link(seen, p);
          return; // the attributes are the first name's
        }
        if (st.nlink > 1n) first.set(key, p);
        this.create(p, 0o600);
        // Read when the view starts (or at a save), never held in memory.
        if (st.size > 0n) this.setContentFile(p, host, Number(st.size), hostDir);
      } else {
        onWarning(`${host}: skipped (only regular files, directories and symlinks are copied)`);
        return;
      }
      if (!st.isSymbolicLink()) this.chmod(p, Number(st.mode & 0o7777n));
      // After the entries: adding them changed the directory's mtime.
      this.utimens(p, st.atimeNs, st.mtimeNs);
    };
    const root = fs.lstatSync(hostDir, { bigint: true });
    if (!root.isDirectory()) throw new Error(`${hostDir}: not a directory`);
    visit(hostDir, '/', root);
  }

  // ---- internals -------------------------------------------------------------

  private get core(): MemCore {
    return (this.vol as unknown as { _core: MemCore })._core;
  }

  /** The memfs link at a checked path: null when the name is free, undefined when the walk failed (ENOTDIR). */
  private linkOf(p: string): MemLink | null | undefined {
    const r = this.core.walk(stepsOf(p), false, false, false);
    return r.ok ? (r.value ?? null) : undefined;
  }

  private found(p: string, link: MemLink): Found {
    const node = link.getNode();
    const meta = this.meta.get(node.ino);
    if (!meta) throw new Error(`vfs store: no metadata for ${p} (inode ${node.ino})`);
    return { ino: node.ino, nlink: node.nlink, size: node.getSize(), meta };
  }

  private lookup(p: string): Found {
    checkPath(p);
    const link = this.linkOf(p);
    if (link) return this.found(p, link);
    this.vol.lstatSync(p); // throws ENOENT, or ENOTDIR under a non-directory, as the kernel
    throw new Error(`vfs store: ${p} is and is not there`);
  }

  /** The object at p, or undefined when the name is free (its parent existing or not). */
  private find(p: string): Found | undefined {
    checkPath(p);
    const link = this.linkOf(p);
    if (link) return this.found(p, link);
    if (link === null) return undefined;
    this.vol.lstatSync(p); // ENOTDIR & co, as the kernel
    return undefined;
  }

  /** The metadata of p's directory: ENOENT when missing, ENOTDIR when not a directory. */
  private parent(p: string): Meta {
    const dir = this.lookup(path.posix.dirname(p));
    if (dir.meta.type !== 'dir') throw fsError('ENOTDIR', path.posix.dirname(p));
    return dir.meta;
  }

  /** Checks that p can be created; answers its directory's metadata. */
  private freeName(p: string): Meta {
    checkPath(p);
    const dir = this.parent(p);
    if (p === '/' || this.find(p)) throw fsError('EEXIST', p);
    return dir;
  }

  /** Records a new object and the change to its directory. */
  private born(p: string, dir: Meta, type: FileType, perm: number, rdev = 0, ino = this.vol.lstatSync(p).ino): void {
    const t = nowNs();
    // A set-group-ID directory gives its group to new entries, and its
    // set-group-ID bit to new directories (Linux's inode_init_owner).
    const inherit = (dir.perm & S_ISGID) !== 0;
    this.meta.set(ino, {
      type,
      perm: inherit && type === 'dir' ? perm | S_ISGID : perm,
      uid: this.uid,
      gid: inherit ? dir.gid : this.gid,
      rdev,
      atimeNs: t,
      mtimeNs: t,
      ctimeNs: t,
    });
    changed(dir, t);
  }

  /** One name of f is gone: memfs frees (and will reuse) the inode number with the last one. */
  private unlinked(f: Found, t: bigint): void {
    if (f.nlink <= 1) this.meta.delete(f.ino);
    else f.meta.ctimeNs = t;
  }

  /** p as a regular file, for read, write and truncate. */
  private regular(p: string): Found {
    const f = this.lookup(p);
    if (f.meta.type === 'dir') throw fsError('EISDIR', p);
    if (f.meta.type !== 'file') throw fsError('EINVAL', `not a regular file: ${p}`);
    return f;
  }

  /** Content kept elsewhere, brought into memfs (a write through the operations; the runtime adopts instead). */
  private internalize(p: string, f: Found): void {
    if (!f.meta.ext) return;
    const data = this.read(p, 0, f.meta.extSize!);
    f.meta.ext = f.meta.extSize = undefined;
    this.vol.writeFileSync(p, data);
  }

  private withExt<T>(p: string, ext: Ext, use: (fd: number, base: number) => T): T {
    if ('fd' in ext) return use(ext.fd, ext.offset);
    const file = 'file' in ext ? ext.file : this.liveRoot + p;
    const fd =
      'file' in ext
        ? ext.root !== undefined && file.startsWith(ext.root + '/') ? openLive(ext.root, file.slice(ext.root.length)) : openForReading(file)
        : openLive(this.liveRoot!, p);
    try {
      return use(fd, 0);
    } finally {
      fs.closeSync(fd);
    }
  }

  private withFd<T>(p: string, flags: 'r' | 'r+', use: (fd: number) => T): T {
    const fd = this.vol.openSync(p, flags);
    try {
      return use(fd);
    } finally {
      this.vol.closeSync(fd);
    }
  }
}

function readFully(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length; ) {
    const n = fs.readSync(fd, buf, off, buf.length - off, pos + off);
    if (n <= 0) {
      buf.fill(0, off); // the file is shorter than recorded
      return;
    }
    off += n;
  }
}

function writeFully(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off, pos + off);
}

/**
 * A file of the view's kernel copy, for reading: also below directories a
 * process of the view made unsearchable (chmod 000, 0600), through a moment
 * of u+x on each (the store is their owner).
 */
function openLive(root: string, p: string): number {
  try {
    return openForReading(root + p);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EACCES') throw e;
  }
  const restore: [string, number][] = [];
  try {
    for (let i = p.indexOf('/', 1), dir = root; i > 0; i = p.indexOf('/', i + 1)) {
      dir = root + p.slice(0, i);
      const mode = fs.lstatSync(dir).mode & 0o7777;
      if ((mode & 0o100) !== 0) continue;
      fs.chmodSync(dir, mode | 0o100);
      restore.push([dir, mode]);
    }
    // (The root of the copy is the mount point's: searchable, or nothing would be.)
    return openForReading(root + p);
  } finally {
    for (const [dir, mode] of restore.reverse()) fs.chmodSync(dir, mode);
  }
}

/** For reading content: without touching atime where the kernel lets us (we own the file). */
function openForReading(file: string): number {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
  try {
    return fs.openSync(file, flags | fs.constants.O_NOATIME);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EPERM' && code !== 'EACCES') throw e;
  }
  try {
    return fs.openSync(file, flags);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EACCES') throw e;
    // A file its owner made unreadable (chmod 000): the store is that owner.
    const mode = fs.lstatSync(file).mode & 0o7777;
    fs.chmodSync(file, mode | 0o400);
    try {
      return fs.openSync(file, flags);
    } finally {
      fs.chmodSync(file, mode);
    }
  }
}
