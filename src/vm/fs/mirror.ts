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
 *
 * A lazy mirror (MountOptions.lazyWriteBack, the vfs store) is told nothing
 * per call: native code makes the changes on the copy without stopping into
 * JavaScript, and the file system catches up at fsync (the path of the file:
 * its directories and itself) and when the view ends (everything). The
 * comparison therefore goes by identity, not only by name: each object of the
 * file system remembers the host inode it was made from, so a name whose host
 * object was replaced (a rename over it, rm + create) is made again, and a
 * new name of a host file that has several (a hard link) is linked to the
 * object the file system already has.
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


export class Mirror {
  /** Host inode -> its ctime when the file system last agreed with it. */
  private readonly known = new Map<bigint, bigint>();
  /** Host inode -> mount-relative path of files written since the last sync. */
  private readonly dirty = new Map<bigint, string>();
  /** Process -> the inodes it opened for writing. */
  private readonly writers = new Map<number, Set<bigint>>();
  private readonly failed = new Set<string>();
  /**
   * The file system's ino (FsAttr.ino) -> the host inode its object was made
   * from or last agreed with: how the comparison tells a replaced object from
   * the same one. (Only for a file system that gives inode numbers.)
   */
  private readonly origin = new Map<number | bigint, bigint>();
  /** Write-backs run one at a time, in the order the calls completed. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fsys: FileSystem,
    readonly hostRoot: string,
    private readonly warn: Warn,
    /** Told nothing per call: catches up at fsync and at the end (see the header). */
    readonly lazy = false,
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
          this.setAttrs(host, a);
          await this.fsys.adoptContent?.(child, host);
          continue;
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
      if (this.fsys.copyContent) {
        await this.fsys.copyContent(rel, fd);
        fs.ftruncateSync(fd, size); // a hole at the end is not written
        return;
      }
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
    const r = native().utimens(host, a.atimeNs, a.mtimeNs);
    if (r < 0) throw new Error(`utimensat ${host}: errno ${-r}`);
    const st = fs.lstatSync(host, { bigint: true });
    this.known.set(st.ino, st.ctimeNs);
    if (a.ino !== undefined) this.origin.set(a.ino, st.ino);
  }

  // ---- during the view: the processes' changes into the file system ---------------

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const p = this.queue.then(op);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Runs a write-back, reporting (once per kind) instead of failing the
   * process's call. The kernel has already allowed the change: a file system
   * that checks permissions itself (memfs does) gets the object and its
   * directory made writable for the time of the operation.
   */
  async apply(what: string, op: () => unknown, rel?: string): Promise<void> {
    try {
      try {
        await op();
      } catch (e) {
        if ((e as { code?: string }).code !== 'EACCES' || rel === undefined) throw e;
        await this.writable(rel, op);
      }
    } catch (e) {
      if (!this.failed.has(what)) {
        this.failed.add(what);
        this.warn(`write-back of ${what} failed (the view goes on; reported once): ${(e as Error).message}`);
      }
    }
  }

  private async writable(rel: string, op: () => unknown): Promise<void> {
    const restore: [string, number][] = [];
    for (const p of [path.posix.dirname(rel), rel]) {
      try {
        const a = await this.fsys.getattr(p);
        if (a.type === 'symlink' || (a.perm & 0o700) === 0o700) continue;
        await this.fsys.chmod(p, a.perm | 0o700);
        restore.push([p, a.perm]);
      } catch {
        /* not there (yet) */
      }
    }
    try {
      await op();
    } finally {
      for (const [p, perm] of restore.reverse()) {
        try {
          await this.fsys.chmod(p, perm);
        } catch {
          /* removed by the operation */
        }
      }
    }
  }

  lstat(rel: string): fs.BigIntStats | undefined {
    try {
      // (No exception for a missing name: an open that creates asks this first.)
      return fs.lstatSync(this.host(rel), { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  }

  /** A new object the kernel made at rel: the same in the file system. */
  created(rel: string): Promise<void> {
    return this.serial(() => this.createdNow(rel));
  }

  private async createdNow(rel: string, known?: fs.BigIntStats): Promise<void> {
    const st = known ?? this.lstat(rel);
    if (!st) return;
    const type = typeOf(st);
    const perm = Number(st.mode & 0o7777n);
    let there = false;
    await this.apply(`${type} creation`, async () => {
      try {
        switch (type) {
          case 'dir':
            await this.fsys.mkdir(rel, perm);
            break;
          case 'file':
            // Writable until its content is in; attrs() sets the mode.
            await this.fsys.create(rel, 0o600);
            if (st.size > 0n) await this.copyOut(rel, st);
            break;
          case 'symlink':
            await this.fsys.symlink(fs.readlinkSync(this.host(rel)), rel);
            break;
          default:
            if (!this.fsys.mknod) throw new Error(`the file system cannot make a ${type}`);
            await this.fsys.mknod(rel, type as 'fifo', perm, Number(st.rdev));
        }
      } catch (e) {
        // Two processes created it at once (both saw it missing): the second is
        // a change. (Asked only then: a lookup of a missing name costs a file
        // system like memfs an exception, on every creation.)
        if ((e as { code?: unknown }).code === 'EEXIST' && (await this.fsys.getattr(rel)).type === type) {
          there = true;
          return;
        }
        throw e;
      }
      await this.attrs(rel, st);
    }, rel);
    if (there) return this.changedNow(rel);
    this.known.set(st.ino, st.ctimeNs);
  }


  removed(rel: string, dir: boolean): Promise<void> {
    return this.serial(() => this.removedNow(rel, dir));
  }

  private async removedNow(rel: string, dir: boolean): Promise<void> {
    await this.apply(dir ? 'rmdir' : 'unlink', () => (dir ? this.fsys.rmdir(rel) : this.fsys.unlink(rel)), rel);
  }

  renamed(from: string, to: string, exchange: boolean): Promise<void> {
    return this.serial(() => this.renamedNow(from, to, exchange));
  }

  private async renamedNow(from: string, to: string, exchange: boolean): Promise<void> {
    await this.apply('rename', async () => {
      if (!exchange) return this.fsys.rename(from, to);
      const tmp = `${path.posix.dirname(to)}/.vview-exchange-${process.pid}-${Date.now()}`;
      await this.fsys.rename(from, tmp);
      await this.fsys.rename(to, from);
      await this.fsys.rename(tmp, to);
    }, from);
  }

  linked(existing: string, rel: string): Promise<void> {
    return this.serial(() => this.linkedNow(existing, rel));
  }

  private async linkedNow(existing: string, rel: string): Promise<void> {
    await this.apply('link', async () => {
      if (!this.fsys.link) throw new Error('the file system has no hard links');
      await this.fsys.link(existing, rel);
    }, rel);
  }

  /** chmod, chown, utimens, truncate at rel: copy what changed. */
  changed(rel: string): Promise<void> {
    return this.serial(() => this.changedNow(rel));
  }

  private async changedNow(rel: string): Promise<void> {
    const st = this.lstat(rel);
    if (!st) return;
    await this.apply('attribute change', async () => {
      if (st.isFile() && (await this.contentChanged(rel, st))) await this.copyOut(rel, st);
      await this.attrs(rel, st);
    }, rel);
    this.known.set(st.ino, st.ctimeNs);
    this.dirty.delete(st.ino);
  }

  /** Opened for writing since the last write-back, or another size or mtime than the store's. */
  private async contentChanged(rel: string, st: fs.BigIntStats): Promise<boolean> {
    if (this.dirty.has(st.ino)) return true;
    try {
      const a = await this.fsys.getattr(rel);
      return a.size !== Number(st.size) || a.mtimeNs !== st.mtimeNs;
    } catch {
      return true;
    }
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
  exited(pid: number): Promise<void> {
    return this.serial(() => this.exitedNow(pid));
  }

  private async exitedNow(pid: number): Promise<void> {
    const s = this.writers.get(pid);
    if (!s) return;
    this.writers.delete(pid);
    for (const ino of s) await this.syncInode(ino);
    await this.apply('flush', () => this.fsys.flush?.());
  }

  /** fsync of a host file of the mirror. */
  fsync(host: string): Promise<void> {
    return this.serial(() => this.fsyncNow(host));
  }

  private async fsyncNow(host: string): Promise<void> {
    const rel = host === this.hostRoot ? '/' : host.slice(this.hostRoot.length);
    if (this.lazy) {
      await this.syncPath(rel);
      await this.apply('flush', () => this.fsys.flush?.());
      return;
    }
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync(host, { bigint: true });
    } catch {
      return;
    }
    if (this.dirty.has(st.ino)) await this.syncInode(st.ino);
    else if (this.known.get(st.ino) !== st.ctimeNs) await this.changedNow(rel);
    await this.apply('flush', () => this.fsys.flush?.());
  }

  private async syncInode(ino: bigint): Promise<void> {
    const rel = this.dirty.get(ino);
    if (rel === undefined) return;
    const st = this.lstat(rel);
    // Renamed or removed since: the end of the view compares everything.
    if (!st || st.ino !== ino) return;
    await this.changedNow(rel);
  }

  private async copyOut(rel: string, st: fs.BigIntStats): Promise<void> {
    if (this.fsys.adoptContent) return this.fsys.adoptContent(rel, this.host(rel)); // nothing to copy: the store reads the copy
    const fd = openNoAtime(this.host(rel));
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
    if (a.ino !== undefined) this.origin.set(a.ino, st.ino);
    const perm = Number(st.mode & 0o7777n);
    if (!st.isSymbolicLink() && a.perm !== perm) await this.fsys.chmod(rel, perm);
    if (this.fsys.chown && (a.uid !== Number(st.uid) || a.gid !== Number(st.gid))) await this.fsys.chown(rel, Number(st.uid), Number(st.gid));
    if (a.mtimeNs !== st.mtimeNs || a.atimeNs !== st.atimeNs) await this.fsys.utimens(rel, st.atimeNs, st.mtimeNs);
  }

  // ---- the end: everything -------------------------------------------------------

  /** Makes the file system equal to the scratch tree, entry by entry. */
  reconcile(): Promise<void> {
    return this.serial(() => this.reconcileNow());
  }

  private async reconcileNow(): Promise<void> {
    const walk: Walk = { linked: new Map(), later: [] };
    await this.reconcileDir('/', walk);
    await this.newLinks(walk);
    this.dirty.clear();
    this.writers.clear();
    await this.apply('flush', () => this.fsys.flush?.());
  }

  private async reconcileDir(rel: string, walk: Walk): Promise<void> {
    const host = this.host(rel);
    // A directory a process made unreadable or unsearchable (chmod 000, 0300)
    // is read through a moment of u+rx: the monitor is its owner.
    const restore = openUp(host);
    try {
      await this.reconcileEntries(rel, host, walk);
    } finally {
      restore?.();
    }
    await this.dirTimes(rel, 'final write-back');
  }

  private async reconcileEntries(rel: string, host: string, walk: Walk): Promise<void> {
    let names: Set<string>;
    try {
      names = new Set(fs.readdirSync(host));
    } catch (e) {
      this.warn(`final write-back: ${rel}: ${(e as Error).message}`);
      return;
    }
    let stored: string[] = [];
    try {
      stored = await this.fsys.readdir(rel);
    } catch {
      /* made by created() */
    }
    const child = (name: string) => (rel === '/' ? `/${name}` : `${rel}/${name}`);
    for (const name of stored)
      if (!names.has(name)) await this.apply('final write-back', () => this.removeTree(child(name)), child(name));
    const had = new Set(stored);
    for (const name of names) {
      const c = child(name);
      let dir = false;
      await this.apply('final write-back', async () => {
        dir = await this.reconcileEntry(c, walk, had.has(name));
      }, c);
      if (dir) await this.reconcileDir(c, walk);
    }
  }

  /**
   * A directory's attributes into the file system when they differ: its
   * ctime moved, or entries made in the file system since changed its mtime.
   */
  private async dirTimes(rel: string, what: string): Promise<void> {
    const st = this.lstat(rel);
    if (!st) return;
    let moved = this.known.get(st.ino) !== st.ctimeNs;
    if (!moved) {
      try {
        moved = (await this.fsys.getattr(rel)).mtimeNs !== st.mtimeNs;
      } catch {
        return;
      }
    }
    if (moved) await this.apply(what, () => this.attrs(rel, st), rel);
  }

  /**
   * One entry of the scratch tree into the file system; true for a directory
   * to descend into. A new name of a host file with several names is left in
   * walk.later when none of them is known yet (see newLinks).
   */
  private async reconcileEntry(rel: string, walk: Walk, had = true, lst?: fs.BigIntStats): Promise<boolean> {
    const st = lst ?? fs.lstatSync(this.host(rel), { bigint: true });
    const type = typeOf(st);
    let a: FsAttr | undefined;
    // (Not asked for a name its directory does not list: a lookup of a free
    // name costs a file system like memfs an exception.)
    if (had) {
      try {
        a = await this.fsys.getattr(rel);
      } catch {
        a = undefined;
      }
    }
    // Another object under this name: another type, or (not for a directory,
    // whose entries are compared one by one) made from another host inode.
    if (a && (a.type !== type || (type !== 'dir' && this.replaced(a, st)))) {
      await this.removeTree(rel);
      a = undefined;
    }
    const several = st.nlink > 1n && type !== 'dir';
    // Another name of this host file was seen first, and the file system
    // has this one as another object (an fsync made it before the link was
    // known): it becomes a link to that one.
    const first = several ? walk.linked.get(st.ino) : undefined;
    if (a && first !== undefined && a.ino !== undefined && (await this.fsys.getattr(first)).ino !== a.ino) {
      await this.removeTree(rel);
      a = undefined;
    }
    if (!a && several) {
      if (first !== undefined) await this.linkedNow(first, rel);
      else walk.later.push({ rel, ino: st.ino });
      return false;
    }
    if (several && !walk.linked.has(st.ino)) walk.linked.set(st.ino, rel);
    if (!a) {
      await this.createdNow(rel, st);
    } else if (type === 'symlink') {
      const target = fs.readlinkSync(this.host(rel));
      if ((await this.fsys.readlink(rel)) !== target) {
        await this.fsys.unlink(rel);
        await this.fsys.symlink(target, rel);
      }
    } else if (this.known.get(st.ino) !== st.ctimeNs || (type === 'file' && (await this.contentChanged(rel, st)))) {
      if (type === 'file' && (await this.contentChanged(rel, st))) await this.copyOut(rel, st);
      await this.attrs(rel, st);
      this.known.set(st.ino, st.ctimeNs);
      this.dirty.delete(st.ino);
    }
    return type === 'dir';
  }

  /** The file system's object a was made from another host object than st. */
  private replaced(a: FsAttr, st: fs.BigIntStats): boolean {
    if (a.ino === undefined) return false;
    const o = this.origin.get(a.ino);
    return o !== undefined && o !== st.ino;
  }

  /**
   * The new names of host files with several names, after the walk has seen
   * every name the file system already had: each is linked to one of those,
   * or the first is created and the others linked to it. Their directories
   * get their times back (a new entry changed them in the file system).
   */
  private async newLinks(walk: Walk): Promise<void> {
    const dirs = new Set<string>();
    for (const { rel, ino } of walk.later) {
      await this.apply('final write-back', async () => {
        const first = walk.linked.get(ino);
        if (first !== undefined) await this.linkedNow(first, rel);
        else {
          await this.createdNow(rel);
          walk.linked.set(ino, rel);
        }
      }, rel);
      dirs.add(path.posix.dirname(rel));
    }
    for (const d of dirs) await this.dirTimes(d, 'final write-back');
  }

  /**
   * A lazy mirror's sync point for one path (fsync): its directories and the
   * object itself into the file system, as the end of the view would.
   */
  private async syncPath(rel: string): Promise<void> {
    const steps = rel === '/' ? [] : rel.slice(1).split('/');
    const walk: Walk = { linked: new Map(), later: [] };
    let p = '';
    for (const name of steps) {
      p += `/${name}`;
      const c = p;
      // Removed or renamed since (the process went on): the end compares everything.
      const st = this.lstat(c);
      if (!st) return;
      await this.apply('fsync write-back', async () => {
        await this.reconcileEntry(c, walk, true, st);
      }, c);
    }
    await this.newLinks(walk);
    // What the new entries changed in their directories, deepest first.
    for (let d = path.posix.dirname(rel); d !== '/'; d = path.posix.dirname(d)) await this.dirTimes(d, 'fsync write-back');
  }

  private async removeTree(rel: string): Promise<void> {
    const a = await this.fsys.getattr(rel);
    if (a.type === 'dir') {
      for (const name of await this.fsys.readdir(rel)) await this.removeTree(`${rel}/${name}`);
      await this.fsys.rmdir(rel);
    } else await this.fsys.unlink(rel);
  }
}

/**
 * Makes a directory of the scratch tree readable and searchable for its
 * owner (the monitor) when it is not; answers how to put its mode back.
 */
function openUp(dir: string): (() => void) | undefined {
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
    return undefined;
  } catch {
    /* made unreadable or unsearchable by a process of the view */
  }
  let mode: number;
  try {
    mode = fs.lstatSync(dir).mode & 0o7777;
    fs.chmodSync(dir, mode | 0o500);
  } catch {
    return undefined; // the walk reports what is wrong
  }
  return () => fs.chmodSync(dir, mode);
}

/** The state of one comparison of the scratch tree with the file system. */
interface Walk {
  /** Host inode of a file with several names -> the first of them the file system has. */
  linked: Map<bigint, string>;
  /** New names of such files, before any name of theirs was seen. */
  later: { rel: string; ino: bigint }[];
}

/**
 * Opens for reading without touching the file's atime (a process of the view
 * sees it). A file its owner made unreadable (chmod 000) is opened through a
 * moment of u+r: the monitor is that owner.
 */
function openNoAtime(p: string): number {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;
  const open = () => {
    try {
      return fs.openSync(p, flags | fs.constants.O_NOATIME);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EPERM') throw e;
      return fs.openSync(p, flags); // not the owner: the kernel refuses O_NOATIME
    }
  };
  try {
    return open();
  } catch (e) {
    if ((e as { code?: string }).code !== 'EACCES') throw e;
    const mode = fs.lstatSync(p).mode & 0o7777;
    fs.chmodSync(p, mode | 0o400);
    try {
      return open();
    } finally {
      fs.chmodSync(p, mode);
    }
  }
}

function mkfifo(p: string): void {
  const r = native().mknod(p, 0o010600, 0);
  if (r < 0) throw new Error(`mkfifo ${p}: errno ${-r}`);
}
