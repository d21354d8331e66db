/**
 * The kernel copy of a virtual tree. A file system without host files (the
 * memfs store of `vfs`, a user's own) is copied once, when the view starts,
 * into a private scratch directory; processes then work on that copy through
 * the kernel (open, read, write, mmap, exec, getdents, locks: no stop), and the
 * runtime writes their changes back into the file system:
 *
 * - the structure (create, mkdir, unlink, rename, link, symlink, chmod, chown,
 *   utimens) right after each call that changed it succeeds;
 * - the content of files opened for writing when the writing process exits,
 *   on fsync, and
 * - everything, compared entry by entry, when the view ends (after SIGINT /
 *   SIGTERM too), which also catches what a call on an fd changed (fchmod,
 *   ftruncate, futimens).
 */
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../native.js';
import type { FileSystem, FsAttr, FileType } from './types.js';

const CHUNK = 1 << 20;

type Warn = (msg: string) => void;

function typeOf(st: fs.BigIntStats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'chr';
  return 'blk';
}

const nsToSec = (ns: bigint) => Number(ns) / 1e9;

export class Mirror {
  /** Host inode -> its ctime when the file system last agreed with it. */
  private readonly known = new Map<bigint, bigint>();
  /** Host inode -> mount-relative path of files written since the last sync. */
  private readonly dirty = new Map<bigint, string>();
  /** Process -> the inodes it opened for writing. */
  private readonly writers = new Map<number, Set<bigint>>();
  private readonly failed = new Set<string>();

  constructor(
    private readonly fsys: FileSystem,
    readonly hostRoot: string,
    private readonly warn: Warn,
  ) {}

  host(rel: string): string {
    return rel === '/' ? this.hostRoot : this.hostRoot + rel;
  }

  // ---- start: the file system into the scratch tree -----------------------------

  async materialize(): Promise<void> {
    const root = await this.fsys.getattr('/');
    if (root.type !== 'dir') throw new Error('the root of the file system is not a directory');
    fs.mkdirSync(this.hostRoot, { recursive: true, mode: 0o700 });
    const links = new Map<number | bigint, string>(); // the file system's ino -> first host path (hard links)
    await this.copyDir('/', links);
    this.setAttrs(this.hostRoot, root);
  }

  private async copyDir(rel: string, links: Map<number | bigint, string>): Promise<void> {
    for (const name of await this.fsys.readdir(rel)) {
      const child = rel === '/' ? `/${name}` : `${rel}/${name}`;
      const a = await this.fsys.getattr(child);
      const host = this.host(child);
      switch (a.type) {
        case 'dir':
          fs.mkdirSync(host, { mode: 0o700 });
          await this.copyDir(child, links);
          break;
        case 'symlink':
          fs.symlinkSync(await this.fsys.readlink(child), host);
          break;
        case 'file': {
          const first = a.ino === undefined ? undefined : links.get(a.ino);
          if (first !== undefined) {
            fs.linkSync(first, host); // a second name of one file
            continue;
          }
          if (a.ino !== undefined) links.set(a.ino, host);
          await this.copyIn(child, host, a.size);
          break;
        }
        case 'fifo':
          mkfifo(host);
          break;
        default:
          // Sockets and devices cannot be made without privileges: an empty file.
          fs.writeFileSync(host, '', { mode: 0o600 });
          this.warn(`${child}: a ${a.type} is shown as an empty regular file`);
      }
      // After a directory's content, so that a read-only directory can be filled.
      this.setAttrs(host, a);
    }
  }

  private async copyIn(rel: string, host: string, size: number): Promise<void> {
    const fd = fs.openSync(host, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    try {
      for (let off = 0; off < size; ) {
        const data = await this.fsys.read(rel, off, Math.min(CHUNK, size - off));
        if (data.length === 0) break;
        fs.writeSync(fd, data, 0, data.length, off);
        off += data.length;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private setAttrs(host: string, a: FsAttr): void {
    if (a.type !== 'symlink') fs.chmodSync(host, a.perm & 0o7777);
    const at = nsToSec(a.atimeNs);
    const mt = nsToSec(a.mtimeNs);
    if (a.type === 'symlink') fs.lutimesSync(host, at, mt);
    else fs.utimesSync(host, at, mt);
    const st = fs.lstatSync(host, { bigint: true });
    this.known.set(st.ino, st.ctimeNs);
  }

  // ---- during the view: the processes' changes into the file system ---------------

  /** Runs a write-back, reporting (once per kind) instead of failing the process's call. */
  async apply(what: string, op: () => unknown): Promise<void> {
    try {
      await op();
    } catch (e) {
      if (!this.failed.has(what)) {
        this.failed.add(what);
        this.warn(`write-back of ${what} failed (the view goes on; reported once): ${(e as Error).message}`);
      }
    }
  }

  lstat(rel: string): fs.BigIntStats | undefined {
    try {
      return fs.lstatSync(this.host(rel), { bigint: true });
    } catch {
      return undefined;
    }
  }

  /** A new object the kernel made at rel: the same in the file system. */
  async created(rel: string): Promise<void> {
    const st = this.lstat(rel);
    if (!st) return;
    const type = typeOf(st);
    const perm = Number(st.mode & 0o7777n);
    await this.apply(`${type} creation`, async () => {
      switch (type) {
        case 'dir':
          await this.fsys.mkdir(rel, perm);
          break;
        case 'file':
          await this.fsys.create(rel, perm);
          if (st.size > 0n) await this.copyOut(rel, st);
          break;
        case 'symlink':
          await this.fsys.symlink(fs.readlinkSync(this.host(rel)), rel);
          break;
        default:
          if (!this.fsys.mknod) throw new Error(`the file system cannot make a ${type}`);
          await this.fsys.mknod(rel, type as 'fifo', perm, Number(st.rdev));
      }
      await this.attrs(rel, st);
    });
    this.known.set(st.ino, st.ctimeNs);
  }

  async removed(rel: string, dir: boolean): Promise<void> {
    await this.apply(dir ? 'rmdir' : 'unlink', () => (dir ? this.fsys.rmdir(rel) : this.fsys.unlink(rel)));
  }

  async renamed(from: string, to: string, exchange: boolean): Promise<void> {
    await this.apply('rename', async () => {
      if (!exchange) return this.fsys.rename(from, to);
      const tmp = `${path.posix.dirname(to)}/.vview-exchange-${process.pid}-${Date.now()}`;
      await this.fsys.rename(from, tmp);
      await this.fsys.rename(to, from);
      await this.fsys.rename(tmp, to);
    });
  }

  async linked(existing: string, rel: string): Promise<void> {
    await this.apply('link', async () => {
      if (!this.fsys.link) throw new Error('the file system has no hard links');
      await this.fsys.link(existing, rel);
    });
  }

  /** chmod, chown, utimens, truncate at rel: copy what changed. */
  async changed(rel: string): Promise<void> {
    const st = this.lstat(rel);
    if (!st) return;
    await this.apply('attribute change', async () => {
      if (st.isFile() && this.known.get(st.ino) !== st.ctimeNs) await this.copyOut(rel, st);
      await this.attrs(rel, st);
    });
    this.known.set(st.ino, st.ctimeNs);
  }

  /** A process opened rel for writing: its content is written back when it exits. */
  writing(pid: number, rel: string): void {
    const st = this.lstat(rel);
    if (!st || !st.isFile()) return;
    this.dirty.set(st.ino, rel);
    let s = this.writers.get(pid);
    if (!s) this.writers.set(pid, (s = new Set()));
    s.add(st.ino);
  }

  /** A process exited: write back what it wrote. */
  async exited(pid: number): Promise<void> {
    const s = this.writers.get(pid);
    if (!s) return;
    this.writers.delete(pid);
    for (const ino of s) await this.syncInode(ino);
    await this.apply('flush', () => this.fsys.flush?.());
  }

  /** fsync of a host file of the mirror. */
  async fsync(host: string): Promise<void> {
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(host, { bigint: true });
    } catch {
      return;
    }
    if (this.dirty.has(st.ino)) await this.syncInode(st.ino);
    else {
      const rel = host === this.hostRoot ? '/' : host.slice(this.hostRoot.length);
      if (this.known.get(st.ino) !== st.ctimeNs) await this.changed(rel);
    }
    await this.apply('flush', () => this.fsys.flush?.());
  }

  private async syncInode(ino: bigint): Promise<void> {
    const rel = this.dirty.get(ino);
    if (rel === undefined) return;
    const st = this.lstat(rel);
    // Renamed or removed since: the end of the view compares everything.
    if (!st || st.ino !== ino) return;
    this.dirty.delete(ino);
    if (this.known.get(ino) === st.ctimeNs) return;
    await this.changed(rel);
  }

  private async copyOut(rel: string, st: fs.BigIntStats): Promise<void> {
    const fd = fs.openSync(this.host(rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const size = Number(st.size);
      await this.fsys.truncate(rel, 0);
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
      for (let off = 0; ; ) {
        const n = fs.readSync(fd, buf, 0, buf.length, off);
        if (n <= 0) break;
        await this.fsys.write(rel, off, Buffer.from(buf.subarray(0, n)));
        off += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private async attrs(rel: string, st: fs.BigIntStats): Promise<void> {
    const a = await this.fsys.getattr(rel);
    const perm = Number(st.mode & 0o7777n);
    if (!st.isSymbolicLink() && a.perm !== perm) await this.fsys.chmod(rel, perm);
    if (this.fsys.chown && (a.uid !== Number(st.uid) || a.gid !== Number(st.gid))) await this.fsys.chown(rel, Number(st.uid), Number(st.gid));
    if (a.mtimeNs !== st.mtimeNs || a.atimeNs !== st.atimeNs) await this.fsys.utimens(rel, st.atimeNs, st.mtimeNs);
  }

  // ---- the end: everything -------------------------------------------------------

  /** Makes the file system equal to the scratch tree, entry by entry. */
  async reconcile(): Promise<void> {
    await this.apply('final write-back', () => this.reconcileDir('/', new Map()));
    this.dirty.clear();
    this.writers.clear();
    await this.apply('flush', () => this.fsys.flush?.());
  }

  private async reconcileDir(rel: string, linked: Map<bigint, string>): Promise<void> {
    const host = this.host(rel);
    const names = new Set(fs.readdirSync(host));
    let stored: string[] = [];
    try {
      stored = await this.fsys.readdir(rel);
    } catch {
      /* made below */
    }
    for (const name of stored) {
      if (names.has(name)) continue;
      const child = rel === '/' ? `/${name}` : `${rel}/${name}`;
      await this.removeTree(child);
    }
    for (const name of names) {
      const child = rel === '/' ? `/${name}` : `${rel}/${name}`;
      const st = fs.lstatSync(this.host(child), { bigint: true });
      const type = typeOf(st);
      let a: FsAttr | undefined;
      try {
        a = await this.fsys.getattr(child);
      } catch {
        a = undefined;
      }
      if (a && a.type !== type) {
        await this.removeTree(child);
        a = undefined;
      }
      const first = st.nlink > 1n && type !== 'dir' ? linked.get(st.ino) : undefined;
      if (first !== undefined) {
        if (!a) await this.linked(first, child);
        continue;
      }
      if (st.nlink > 1n && type !== 'dir') linked.set(st.ino, child);
      if (!a) {
        await this.created(child);
      } else if (type === 'symlink') {
        const target = fs.readlinkSync(this.host(child));
        if ((await this.fsys.readlink(child)) !== target) {
          await this.fsys.unlink(child);
          await this.fsys.symlink(target, child);
        }
      } else if (this.known.get(st.ino) !== st.ctimeNs || a.size !== Number(st.size)) {
        if (type === 'file') await this.copyOut(child, st);
        await this.attrs(child, st);
        this.known.set(st.ino, st.ctimeNs);
      }
      if (type === 'dir') await this.reconcileDir(child, linked);
    }
    const st = fs.lstatSync(host, { bigint: true });
    if (this.known.get(st.ino) !== st.ctimeNs) await this.attrs(rel, st);
  }

  private async removeTree(rel: string): Promise<void> {
    const a = await this.fsys.getattr(rel);
    if (a.type === 'dir') {
      for (const name of await this.fsys.readdir(rel)) await this.removeTree(`${rel}/${name}`);
      await this.fsys.rmdir(rel);
    } else await this.fsys.unlink(rel);
  }
}

function mkfifo(p: string): void {
  const r = native().mknod(p, 0o010600, 0);
  if (r < 0) throw new Error(`mkfifo ${p}: errno ${-r}`);
}
