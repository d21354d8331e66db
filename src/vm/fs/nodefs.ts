/**
 * An adapter from anything with the shape of Node's synchronous fs API (Node's
 * own `fs`, a memfs `Volume`, ...) rooted at a directory, to the FileSystem
 * operations of a mount.
 *
 *   mountFileSystem(nodeFsAdapter(new Volume()), { mount: '/m' }, ctx)   // in memory
 *   mountFileSystem(nodeFsAdapter(fs, '/srv/data', { host: true }), ...)  // a real directory
 *
 * `host: true` says the paths are real host paths: the runtime then lets the
 * kernel work on them directly (a bind), instead of on a scratch copy.
 */
import path from 'node:path';
import type { FileSystem, FsAttr, FileType } from './types.js';

interface StatsLike {
  mode: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  size: number | bigint;
  ino: number | bigint;
  rdev: number | bigint;
  atimeMs: number | bigint;
  mtimeMs: number | bigint;
  ctimeMs: number | bigint;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
}

/** The part of Node's fs API the adapter uses. */
export interface NodeFsLike {
  lstatSync(p: string, opts?: { bigint: true }): StatsLike;
  readdirSync(p: string): unknown[];
  readlinkSync(p: string): string | Buffer;
  openSync(p: string, flags: string | number, mode?: number): number;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  closeSync(fd: number): void;
  truncateSync(p: string, len: number): void;
  mkdirSync(p: string, opts: { mode: number }): unknown;
  symlinkSync(target: string, p: string): void;
  linkSync?(existing: string, p: string): void;
  unlinkSync(p: string): void;
  rmdirSync(p: string): void;
  renameSync(from: string, to: string): void;
  chmodSync(p: string, mode: number): void;
  lchownSync?(p: string, uid: number, gid: number): void;
  utimesSync(p: string, atime: number, mtime: number): void;
  lutimesSync?(p: string, atime: number, mtime: number): void;
}

const S_IFMT = 0o170000;
const TYPES: Record<number, FileType> = {
  0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o010000: 'fifo',
  0o140000: 'socket', 0o020000: 'chr', 0o060000: 'blk',
};

const msToNs = (ms: number | bigint) => (typeof ms === 'bigint' ? ms * 1_000_000n : BigInt(Math.round(Number(ms) * 1e6)));

export function nodeFsAdapter(nfs: NodeFsLike, root = '/', opts: { host?: boolean; readonly?: boolean } = {}): FileSystem {
  const at = (p: string) => (p === '/' ? root : path.posix.join(root, p));
  const fsys: FileSystem = {
    readonly: opts.readonly,
    getattr(p): FsAttr {
      const st = nfs.lstatSync(at(p), { bigint: true });
      const mode = Number(st.mode);
      return {
        type: TYPES[mode & S_IFMT] ?? 'file',
        perm: mode & 0o7777,
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: Number(st.size),
        atimeNs: st.atimeNs ?? msToNs(st.atimeMs),
        mtimeNs: st.mtimeNs ?? msToNs(st.mtimeMs),
        ctimeNs: st.ctimeNs ?? msToNs(st.ctimeMs),
        rdev: Number(st.rdev),
        ino: st.ino,
      };
    },
    readdir: (p) => nfs.readdirSync(at(p)).map(String),
    readlink: (p) => String(nfs.readlinkSync(at(p))),
    read(p, offset, length) {
      const fd = nfs.openSync(at(p), 'r');
      try {
        const buf = Buffer.alloc(length);
        const n = nfs.readSync(fd, buf, 0, length, offset);
        return buf.subarray(0, n);
      } finally {
        nfs.closeSync(fd);
      }
    },
    write(p, offset, data) {
      const fd = nfs.openSync(at(p), 'r+');
      try {
        for (let done = 0; done < data.length; ) done += nfs.writeSync(fd, data, done, data.length - done, offset + done);
      } finally {
        nfs.closeSync(fd);
      }
    },
    truncate: (p, size) => nfs.truncateSync(at(p), size),
    create(p, perm) {
      nfs.closeSync(nfs.openSync(at(p), 'wx', perm));
      nfs.chmodSync(at(p), perm);
    },
    mkdir(p, perm) {
      nfs.mkdirSync(at(p), { mode: perm });
      nfs.chmodSync(at(p), perm);
    },
    symlink: (target, p) => nfs.symlinkSync(target, at(p)),
    unlink: (p) => nfs.unlinkSync(at(p)),
    rmdir: (p) => nfs.rmdirSync(at(p)),
    rename: (from, to) => nfs.renameSync(at(from), at(to)),
    chmod: (p, perm) => nfs.chmodSync(at(p), perm),
    utimens(p, atimeNs, mtimeNs) {
      const [a, m] = [Number(atimeNs) / 1e9, Number(mtimeNs) / 1e9];
      if (nfs.lutimesSync) nfs.lutimesSync(at(p), a, m);
      else nfs.utimesSync(at(p), a, m);
    },
  };
  if (nfs.linkSync) fsys.link = (existing, p) => nfs.linkSync!(at(existing), at(p));
  if (nfs.lchownSync) fsys.chown = (p, uid, gid) => nfs.lchownSync!(at(p), uid, gid);
  if (opts.host) fsys.hostPath = (p) => at(p);
  return fsys;
}
