/**
 * Recorded ownership: what chown, chmod and mknod did in the view, by inode,
 * and its persistent form.
 *
 * In memory a record is keyed by (dev, ino). On disk each record also carries
 * a path and the inode's identity when it was saved — ctime, and the birth
 * time where the file system keeps one — so that on load a file that was
 * changed, replaced or deleted outside the view (or whose inode number was
 * reused by another file) is detected and its record dropped with a warning,
 * never applied to the wrong file. For a directory only its identity is
 * compared: its ctime moves whenever an entry is added or removed in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomically } from '../../index.js';

export interface Owned {
  uid?: number;
  gid?: number;
  /** Permission bits (07777) the kernel refused or silently changed. */
  perm?: number;
  /** A device node, stood for by an empty regular file. */
  device?: { type: 'chr' | 'blk'; rdev: bigint };
  /** Known paths of the inode (for saving). */
  paths: Set<string>;
}

export const STATE_FORMAT = 'vview-fakeroot-state';
export const STATE_VERSION = 1;

interface SavedEntry {
  path: string;
  dev: string;
  ino: string;
  ctime: string;
  btime?: string;
  dir?: boolean;
  uid?: number;
  gid?: number;
  perm?: number;
  device?: { type: 'chr' | 'blk'; rdev: string };
}

export class StateError extends Error {}

export class Ownership {
  readonly byInode = new Map<string, Owned>();

  /** onChange: told of every change, to keep what stat shows (native code) in step. */
  constructor(private readonly onChange: (dev: bigint, ino: bigint, o: Owned | undefined) => void = () => {}) {}

  static key(dev: bigint, ino: bigint): string {
    return `${dev}:${ino}`;
  }

  get(dev: bigint, ino: bigint): Owned | undefined {
    return this.byInode.get(Ownership.key(dev, ino));
  }

  /** The record of an inode, created empty when missing; `where` is remembered for saving. */
  touch(dev: bigint, ino: bigint, where?: string): Owned {
    const k = Ownership.key(dev, ino);
    let o = this.byInode.get(k);
    if (!o) this.byInode.set(k, (o = { paths: new Set() }));
    if (where) o.paths.add(where);
    return o;
  }

  /** Changes the record of an inode (created when missing). */
  update(dev: bigint, ino: bigint, where: string | undefined, change: (o: Owned) => void): void {
    const o = this.touch(dev, ino, where);
    change(o);
    this.onChange(dev, ino, o);
  }

  drop(dev: bigint, ino: bigint): void {
    if (this.byInode.delete(Ownership.key(dev, ino))) this.onChange(dev, ino, undefined);
  }

  get size(): number {
    return this.byInode.size;
  }

  /** A rename moved `from` (and everything below it) to `to`. */
  renamed(from: string, to: string): void {
    const below = from.endsWith('/') ? from : from + '/';
    for (const o of this.byInode.values()) {
      for (const p of [...o.paths]) {
        if (p === from) {
          o.paths.delete(p);
          o.paths.add(to);
        } else if (p.startsWith(below)) {
          o.paths.delete(p);
          o.paths.add(path.join(to, p.slice(below.length)));
        }
      }
    }
  }

  // ---- persistence -----------------------------------------------------------

  /**
   * Loads a state file. A file that is not a state file (or is unreadable) is
   * refused with StateError, and never overwritten. Returns the records dropped
   * as stale, one "path (why)" each.
   */
  load(file: string): string[] {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StateError(`${file}: cannot read the state file: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new StateError(`${file}: not a vview fakeroot state file (invalid JSON: ${(e as Error).message}); refusing to use or overwrite it`);
    }
    const d = doc as { format?: unknown; version?: unknown; entries?: unknown };
    if (!d || typeof d !== 'object' || d.format !== STATE_FORMAT)
      throw new StateError(`${file}: not a vview fakeroot state file (expected "format": "${STATE_FORMAT}"); refusing to use or overwrite it`);
    if (d.version !== STATE_VERSION)
      throw new StateError(`${file}: state file version ${JSON.stringify(d.version)} is not supported (this vview writes version ${STATE_VERSION})`);
    if (!Array.isArray(d.entries)) throw new StateError(`${file}: "entries" must be a list`);
    const dropped: string[] = [];
    d.entries.forEach((raw, i) => {
      const e = checkEntry(raw, (msg) => new StateError(`${file}: entries[${i}]: ${msg}`));
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(e.path, { bigint: true });
      } catch {
        dropped.push(`${e.path} (deleted)`);
        return;
      }
      const btime = st.birthtimeNs;
      if (st.dev !== BigInt(e.dev) || st.ino !== BigInt(e.ino) || (e.btime !== undefined && btime !== 0n && btime !== BigInt(e.btime))) {
        dropped.push(`${e.path} (replaced)`);
        return;
      }
      if (!e.dir && st.ctimeNs !== BigInt(e.ctime)) {
        dropped.push(`${e.path} (changed)`);
        return;
      }
      this.update(st.dev, st.ino, e.path, (o) => {
        if (e.uid !== undefined) o.uid = e.uid;
        if (e.gid !== undefined) o.gid = e.gid;
        if (e.perm !== undefined) o.perm = e.perm;
        if (e.device) o.device = { type: e.device.type, rdev: BigInt(e.device.rdev) };
      });
    });
    return dropped;
  }

  /** Writes the state atomically (a private temp file, fsync, rename; see writeFileAtomically). */
  save(file: string): { saved: number; lost: number } {
    const entries: SavedEntry[] = [];
    let lost = 0;
    for (const [key, o] of this.byInode) {
      const [dev, ino] = key.split(':');
      let found: { p: string; st: fs.BigIntStats } | undefined;
      for (const p of o.paths) {
        try {
          const st = fs.lstatSync(p, { bigint: true });
          if (String(st.dev) === dev && String(st.ino) === ino) {
            found = { p, st };
            break;
          }
        } catch {
          /* moved or deleted */
        }
      }
      if (!found) {
        lost++; // deleted, or moved where the view could not follow: nothing to record
        continue;
      }
      const e: SavedEntry = { path: found.p, dev, ino, ctime: String(found.st.ctimeNs) };
      if (found.st.birthtimeNs !== 0n) e.btime = String(found.st.birthtimeNs);
      if (found.st.isDirectory()) e.dir = true;
      if (o.uid !== undefined) e.uid = o.uid;
      if (o.gid !== undefined) e.gid = o.gid;
      if (o.perm !== undefined) e.perm = o.perm;
      if (o.device) e.device = { type: o.device.type, rdev: String(o.device.rdev) };
      entries.push(e);
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const text = JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, entries }, null, 1) + '\n';
    // Atomic, keeping the file's mode; a failure names the file and the reason (exit status 74).
    writeFileAtomically(file, (fd) => fs.writeFileSync(fd, text), 'the fakeroot state');
    return { saved: entries.length, lost };
  }
}

function checkEntry(raw: unknown, err: (m: string) => StateError): SavedEntry {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw err('expected an object');
  const e = raw as Record<string, unknown>;
  const str = (k: string, re: RegExp) => {
    if (typeof e[k] !== 'string' || !re.test(e[k] as string)) throw err(`"${k}" is missing or malformed`);
  };
  const id = (k: string) => {
    if (e[k] !== undefined && !(Number.isInteger(e[k]) && (e[k] as number) >= 0 && (e[k] as number) < 0xffffffff))
      throw err(`"${k}" must be an id between 0 and 4294967294`);
  };
  if (typeof e.path !== 'string' || !path.isAbsolute(e.path)) throw err('"path" must be an absolute path');
  str('dev', /^\d+$/);
  str('ino', /^\d+$/);
  str('ctime', /^\d+$/);
  if (e.btime !== undefined) str('btime', /^\d+$/);
  if (e.dir !== undefined && typeof e.dir !== 'boolean') throw err('"dir" must be true or false');
  id('uid');
  id('gid');
  if (e.perm !== undefined && !(Number.isInteger(e.perm) && (e.perm as number) >= 0 && (e.perm as number) <= 0o7777))
    throw err('"perm" must be a mode between 0 and 07777');
  if (e.device !== undefined) {
    const dv = e.device as Record<string, unknown>;
    if (!dv || typeof dv !== 'object' || (dv.type !== 'chr' && dv.type !== 'blk') || typeof dv.rdev !== 'string' || !/^\d+$/.test(dv.rdev))
      throw err('"device" must be { "type": "chr" | "blk", "rdev": "<number>" }');
  }
  return e as unknown as SavedEntry;
}
