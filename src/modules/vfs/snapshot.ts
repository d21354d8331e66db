/**
 * Persistence of a MemStore, and the store's initial content.
 *
 * What `persist` writes is an archive (version 2, archive.ts). This file
 * reads both that and version 1, below, a JSON document that older vview
 * wrote (content in base64): such a file loads, and the next save replaces
 * it with an archive. saveSnapshot still writes version 1, for tests and
 * small exports.
 *
 * A snapshot is the whole tree as JSON, one entry per name, "/" first and
 * every directory before its entries (one entry per line):
 *
 *   { "format": "vview-vfs", "version": 1, "entries": [
 *     { "path": "/", "type": "dir", "perm": 493, "uid": 1000, "gid": 1000,
 *       "atimeNs": "1700000000123456789", "mtimeNs": "...", "ctimeNs": "..." },
 *     { "path": "/a", "type": "file", ..., "content": "<base64>" },
 *     { "path": "/b", "link": "/a" },
 *     { "path": "/l", "type": "symlink", ..., "target": "a" },
 *     { "path": "/null", "type": "chr", ..., "rdev": 259 }
 *   ]}
 *
 * type is file, dir, symlink, fifo, socket, chr or blk. Times are nanoseconds
 * since the epoch as decimal strings (a JSON number loses them past 2^53).
 * A second name of a file (a hard link) is only its path and the path of the
 * file's first name, which comes earlier.
 *
 * A file that is not exactly this (bad JSON, another format or version, a
 * malformed entry, an unknown key — its content would be lost by the next
 * save) is refused with a SnapshotError naming the file and, for an entry,
 * its index and key. The caller must then not save over it: openPersistent
 * makes that the only way, as it hands out `save` only after a good load.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomically, type FileType } from '../../index.js';
import { isArchive, readArchive, writeArchive } from './archive.js';
import { MemStore, NAME_MAX, isStorePath, type StoreOptions } from './store.js';

export const SNAPSHOT_FORMAT = 'vview-vfs';
export const SNAPSHOT_VERSION = 1;

export class SnapshotError extends Error {}

interface SavedAttrs {
  path: string;
  type: FileType;
  perm: number;
  uid: number;
  gid: number;
  atimeNs: string;
  mtimeNs: string;
  ctimeNs: string;
}
type SavedNode = SavedAttrs & { content?: string; target?: string; rdev?: number };
interface SavedLink {
  path: string;
  link: string;
}

/** Where a file's content is in an archive (archive.ts). */
export interface ContentRange {
  offset: number;
  size: number;
}

/** An entry checked and decoded; a file's content is inline (version 1) or a range of the archive (version 2). */
export type Entry = { path: string } & (
  | { link: string }
  | ({ perm: number; uid: number; gid: number; atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint } & (
      | { type: 'dir' | 'fifo' | 'socket' }
      | { type: 'file'; content: Buffer | ContentRange }
      | { type: 'symlink'; target: string }
      | { type: 'chr' | 'blk'; rdev: number }
    ))
);

const TYPES: readonly FileType[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chr', 'blk'];
const ATTR_KEYS = ['path', 'type', 'perm', 'uid', 'gid', 'atimeNs', 'mtimeNs', 'ctimeNs'];
/** The keys an entry of each type has: all of them, no other. */
const KEYS: Record<FileType | 'link', readonly string[]> = {
  link: ['path', 'link'],
  dir: ATTR_KEYS,
  fifo: ATTR_KEYS,
  socket: ATTR_KEYS,
  file: [...ATTR_KEYS, 'content'],
  symlink: [...ATTR_KEYS, 'target'],
  chr: [...ATTR_KEYS, 'rdev'],
  blk: [...ATTR_KEYS, 'rdev'],
};

// ---- saving ------------------------------------------------------------------

/**
 * Writes the whole tree to `file` atomically: a new private file (0600) next
 * to it, written and fsync'ed, renamed over `file`, and the directory
 * fsync'ed. On failure `file` is as it was and no temporary file is left.
 */
export function saveSnapshot(store: MemStore, file: string): void {
  const lines: string[] = [];
  const firstName = new Map<number, string>(); // by inode: its first path, for hard links
  for (const { path: p, attr } of store.entries()) {
    const first = firstName.get(attr.ino);
    if (first !== undefined) {
      lines.push(JSON.stringify({ path: p, link: first } satisfies SavedLink));
      continue;
    }
    firstName.set(attr.ino, p);
    const e: SavedNode = {
      path: p,
      type: attr.type,
      perm: attr.perm,
      uid: attr.uid,
      gid: attr.gid,
      atimeNs: String(attr.atimeNs),
      mtimeNs: String(attr.mtimeNs),
      ctimeNs: String(attr.ctimeNs),
    };
    if (attr.type === 'file') e.content = store.read(p, 0, attr.size).toString('base64');
    else if (attr.type === 'symlink') e.target = store.readlink(p);
    else if (attr.type === 'chr' || attr.type === 'blk') e.rdev = attr.rdev;
    lines.push(JSON.stringify(e));
  }
  const head = `{"format":${JSON.stringify(SNAPSHOT_FORMAT)},"version":${SNAPSHOT_VERSION},"entries":[`;
  writeAtomically(file, `${head}\n${lines.join(',\n')}\n]}\n`);
}

function writeAtomically(file: string, text: string): void {
  const dir = path.dirname(file);
  // O_EXCL: never write through a file (or a symlink) someone else put there.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  // The rename itself is durable only once the directory is.
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

// ---- loading -----------------------------------------------------------------

/**
 * The store saved in `file`, or undefined when there is no such file. Throws
 * SnapshotError when the file cannot be read or is not a valid snapshot.
 * `options` are the owner of what is created later (see MemStore).
 */
export function loadSnapshot(file: string, options: StoreOptions = {}): MemStore | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    let keep = false;
    try {
      if (isArchive(fd)) {
        keep = true; // contents are read from it later
        return readArchive(file, fd, options);
      }
      text = fs.readFileSync(fd, 'utf8');
    } catch (e) {
      keep = false;
      throw e;
    } finally {
      if (!keep) fs.closeSync(fd);
    }
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SnapshotError(`${file}: cannot read the vfs snapshot: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SnapshotError(`${file}: not a vview vfs snapshot (invalid JSON: ${(e as Error).message}); refusing to use or overwrite it`);
  }
  if (!isObject(doc) || doc.format !== SNAPSHOT_FORMAT)
    throw new SnapshotError(`${file}: not a vview vfs snapshot (expected "format": "${SNAPSHOT_FORMAT}"); refusing to use or overwrite it`);
  if (doc.version !== SNAPSHOT_VERSION)
    throw new SnapshotError(`${file}: vfs snapshot version ${JSON.stringify(doc.version)} is not supported (this vview reads and writes version ${SNAPSHOT_VERSION})`);
  const unknown = Object.keys(doc).find((k) => !['format', 'version', 'entries'].includes(k));
  if (unknown !== undefined) throw new SnapshotError(`${file}: unknown key "${unknown}"`);
  if (!Array.isArray(doc.entries)) throw new SnapshotError(`${file}: "entries" must be a list`);
  const err = (i: number) => (msg: string) => new SnapshotError(`${file}: entries[${i}]: ${msg}`);
  const entries = doc.entries.map((raw: unknown, i) => checkEntry(raw, err(i)));
  return restore(entries, options, err);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function checkEntry(
  raw: unknown,
  err: (msg: string) => SnapshotError,
  /** For an archive: a file entry has "offset" and "size", checked by this, instead of "content". */
  range?: (raw: Record<string, unknown>, err: (msg: string) => SnapshotError) => ContentRange,
): Entry {
  if (!isObject(raw)) throw err('expected an object');
  const storePath = (k: string): string => {
    const p = raw[k];
    if (typeof p !== 'string' || !isStorePath(p) || p.split('/').some((n) => Buffer.byteLength(n) > NAME_MAX))
      throw err(`"${k}" must be an absolute, normalized path (names of at most ${NAME_MAX} bytes)`);
    return p;
  };
  const p = storePath('path');
  const kind = raw.link !== undefined ? 'link' : TYPES.find((t) => t === raw.type);
  if (kind === undefined) throw err(`"type" must be one of ${TYPES.join(', ')}`);
  const keys = range && kind === 'file' ? [...ATTR_KEYS, 'offset', 'size'] : KEYS[kind];
  for (const k of keys) if (raw[k] === undefined) throw err(`"${k}" is missing`);
  for (const k of Object.keys(raw)) if (!keys.includes(k)) throw err(`unknown key "${k}" in a ${kind} entry`);
  if (kind === 'link') return { path: p, link: storePath('link') };

  const int = (k: string, max: number): number => {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw err(`"${k}" must be an integer from 0 to ${max}`);
    return v;
  };
  const ns = (k: string): bigint => {
    const v = raw[k];
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined;
    if (n === undefined || BigInt.asIntN(64, n) !== n) throw err(`"${k}" must be a decimal string of nanoseconds (64-bit)`);
    return n;
  };
  const attrs = {
    path: p,
    perm: int('perm', 0o7777),
    uid: int('uid', 0xfffffffe),
    gid: int('gid', 0xfffffffe),
    atimeNs: ns('atimeNs'),
    mtimeNs: ns('mtimeNs'),
    ctimeNs: ns('ctimeNs'),
  };
  switch (kind) {
    case 'file': {
      if (range) return { ...attrs, type: kind, content: range(raw, err) };
      const c = raw.content;
      // Node's base64 decoder skips what is not base64: compare with the canonical form instead.
      const content = typeof c === 'string' ? Buffer.from(c, 'base64') : undefined;
      if (content === undefined || content.toString('base64') !== c) throw err('"content" must be base64');
      return { ...attrs, type: kind, content };
    }
    case 'symlink': {
      const t = raw.target;
      if (typeof t !== 'string' || t === '' || t.includes('\0')) throw err('"target" must be a non-empty string without NUL');
      if (attrs.perm !== 0o777) throw err('"perm" of a symlink must be 511 (0777)');
      return { ...attrs, type: kind, target: t };
    }
    case 'chr':
    case 'blk':
      return { ...attrs, type: kind, rdev: int('rdev', Number.MAX_SAFE_INTEGER) };
    default:
      return { ...attrs, type: kind };
  }
}

/** A store with the entries; checks what needs the entries before (parents, links, duplicates). */
export function restore(
  entries: Entry[],
  options: StoreOptions,
  err: (i: number) => (msg: string) => SnapshotError,
  setRange?: (store: MemStore, path: string, content: ContentRange) => void,
): MemStore {
  const store = new MemStore(options);
  const types = new Map<string, FileType>([['/', 'dir']]); // the paths restored so far
  let rootSeen = false;
  entries.forEach((e, i) => {
    const fail = err(i);
    if (e.path === '/') {
      if ('link' in e || e.type !== 'dir') throw fail('"type": the root must be a directory');
      if (rootSeen) throw fail('"path": / appears twice');
      rootSeen = true;
      return;
    }
    if (types.has(e.path)) throw fail(`"path": ${e.path} appears twice`);
    const dir = path.posix.dirname(e.path);
    const dirType = types.get(dir);
    if (dirType === undefined) throw fail(`"path": its directory ${dir} is not an earlier entry`);
    if (dirType !== 'dir') throw fail(`"path": ${dir} is not a directory`);
    if ('link' in e) {
      const linked = types.get(e.link);
      if (linked === undefined) throw fail(`"link": ${e.link} is not an earlier entry`);
      if (linked === 'dir') throw fail(`"link": ${e.link} is a directory`);
      store.link(e.link, e.path);
      types.set(e.path, linked);
      return;
    }
    switch (e.type) {
      case 'dir':
        store.mkdir(e.path, e.perm);
        break;
      case 'file':
        store.create(e.path, e.perm);
        if (Buffer.isBuffer(e.content)) store.write(e.path, 0, e.content);
        else setRange!(store, e.path, e.content);
        break;
      case 'symlink':
        store.symlink(e.target, e.path);
        break;
      case 'chr':
      case 'blk':
        store.mknod(e.path, e.type, e.perm, e.rdev);
        break;
      default:
        store.mknod(e.path, e.type, e.perm, 0);
    }
    types.set(e.path, e.type);
  });
  // Attributes last: creating an entry changed its directory's times, a link its file's ctime.
  for (const e of entries) if (!('link' in e)) store.restoreAttr(e.path, e);
  return store;
}

// ---- initial content and persistence -----------------------------------------

export interface InitOptions extends StoreOptions {
  /** A snapshot file, or a host directory to copy in (see MemStore.copyFromHost). */
  from?: string;
  /** Added after `from` (see MemStore.addFiles). */
  files?: Readonly<Record<string, unknown>>;
  /** Told of what `from` had that the store cannot hold. */
  onWarning: (message: string) => void;
}

/** A new store with the initial content: `from`, then `files`. */
export function createStore(init: InitOptions): MemStore {
  let store: MemStore;
  if (init.from === undefined) store = new MemStore(init);
  else if (fs.statSync(init.from, { throwIfNoEntry: false })?.isDirectory()) {
    store = new MemStore(init);
    store.copyFromHost(init.from, init.onWarning);
  } else {
    const loaded = loadSnapshot(init.from, init);
    if (!loaded) throw new SnapshotError(`${init.from}: no such file or directory`);
    store = loaded;
  }
  if (init.files) store.addFiles(init.files);
  return store;
}

export interface Persistent {
  store: MemStore;
  /** True when the store was loaded from the file, false when made from the initial content. */
  loaded: boolean;
  /** Saves the store to the file (saveSnapshot). */
  save(): void;
}

/**
 * The store kept in `file`: loaded from it when it exists (the initial
 * content is then not applied again: the file continues it), else made from
 * `init`. A file that does not load throws here, before any `save` exists
 * that could overwrite it.
 */
export function openPersistent(file: string, init: InitOptions): Persistent {
  const loaded = loadSnapshot(file, init);
  const store = loaded ?? createStore(init);
  return { store, loaded: loaded !== undefined, save: () => saveArchive(store, file) };
}

/**
 * Writes the store to `file` as an archive (archive.ts), atomically, keeping
 * the file's mode; a StateFileError (EXIT_SAVE_FAILED) names the file and the
 * reason, and the file is then as it was.
 */
export function saveArchive(store: MemStore, file: string): void {
  writeFileAtomically(file, (fd) => writeArchive(store, fd), 'the vfs state');
}
