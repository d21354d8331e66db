/**
 * The ownership fields of the x86-64 `struct stat` (stat, fstat, lstat,
 * newfstatat) and of `struct statx`, read and rewritten in place.
 */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFLNK = 0o120000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_IXGRP = 0o0010;

/** What the kernel reported, as the view will show it. */
export interface Shown {
  dev: bigint;
  ino: bigint;
  mode: number;
  uid: number;
  gid: number;
  rdev: bigint;
}

export const STAT_SIZE = 144;
export const STATX_SIZE = 256;
const STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8, STATX_GID = 0x10, STATX_INO = 0x100;

// makedev(3) / major(3) / minor(3) of glibc.
export function makedev(major: bigint, minor: bigint): bigint {
  return ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
}
export function major(dev: bigint): bigint {
  return ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
}
export function minor(dev: bigint): bigint {
  return (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
}

/** struct stat: st_dev 0, st_ino 8, st_mode 24, st_uid 28, st_gid 32, st_rdev 40. */
export const statLayout = {
  size: STAT_SIZE,
  read(b: Buffer): Shown {
    return { dev: b.readBigUInt64LE(0), ino: b.readBigUInt64LE(8), mode: b.readUInt32LE(24), uid: b.readUInt32LE(28), gid: b.readUInt32LE(32), rdev: b.readBigUInt64LE(40) };
  },
  /** Rewrites b; returns the [offset, length] span that changed, or undefined. */
  write(b: Buffer, was: Shown, now: Shown): [number, number] | undefined {
    let lo = Infinity, hi = -1;
    const mark = (off: number, len: number) => { lo = Math.min(lo, off); hi = Math.max(hi, off + len); };
    if (now.mode !== was.mode) { b.writeUInt32LE(now.mode >>> 0, 24); mark(24, 4); }
    if (now.uid !== was.uid) { b.writeUInt32LE(now.uid >>> 0, 28); mark(28, 4); }
    if (now.gid !== was.gid) { b.writeUInt32LE(now.gid >>> 0, 32); mark(32, 4); }
    if (now.rdev !== was.rdev) { b.writeBigUInt64LE(now.rdev, 40); mark(40, 8); }
    return hi < 0 ? undefined : [lo, hi - lo];
  },
};

/**
 * struct statx: stx_mask 0, stx_uid 20, stx_gid 24, stx_mode 28 (u16), stx_ino 32,
 * stx_rdev_major 128, stx_rdev_minor 132, stx_dev_major 136, stx_dev_minor 140.
 * Only fields the kernel filled (stx_mask) are shown differently.
 */
export const statxLayout = {
  size: STATX_SIZE,
  read(b: Buffer): Shown & { mask: number } {
    return {
      mask: b.readUInt32LE(0),
      dev: makedev(BigInt(b.readUInt32LE(136)), BigInt(b.readUInt32LE(140))),
      ino: b.readBigUInt64LE(32),
      mode: b.readUInt16LE(28),
      uid: b.readUInt32LE(20),
      gid: b.readUInt32LE(24),
      rdev: makedev(BigInt(b.readUInt32LE(128)), BigInt(b.readUInt32LE(132))),
    };
  },
  write(b: Buffer, was: Shown & { mask: number }, now: Shown): [number, number] | undefined {
    let lo = Infinity, hi = -1;
    const mark = (off: number, len: number) => { lo = Math.min(lo, off); hi = Math.max(hi, off + len); };
    if (!(was.mask & STATX_INO)) return undefined; // cannot tell which file it is
    if (now.uid !== was.uid && was.mask & STATX_UID) { b.writeUInt32LE(now.uid >>> 0, 20); mark(20, 4); }
    if (now.gid !== was.gid && was.mask & STATX_GID) { b.writeUInt32LE(now.gid >>> 0, 24); mark(24, 4); }
    if (now.mode !== was.mode && was.mask & (STATX_MODE | STATX_TYPE)) {
      let m = was.mode;
      if (was.mask & STATX_TYPE) m = (m & ~S_IFMT) | (now.mode & S_IFMT);
      if (was.mask & STATX_MODE) m = (m & S_IFMT) | (now.mode & ~S_IFMT);
      b.writeUInt16LE(m & 0xffff, 28);
      mark(28, 2);
    }
    if (now.rdev !== was.rdev) {
      b.writeUInt32LE(Number(major(now.rdev)), 128);
      b.writeUInt32LE(Number(minor(now.rdev)), 132);
      mark(128, 8);
    }
    return hi < 0 ? undefined : [lo, hi - lo];
  },
};
