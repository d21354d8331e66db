/**
 * The vfs state file (version 2): an archive that streams. Contents are
 * stored as themselves, each file at a 4 KiB-aligned offset, with its holes
 * left as holes (so `du` of the archive is about the data), followed by an
 * index of metadata, one JSON entry per line, and a fixed-size trailer that
 * says where the index is:
 *
 *   [0, 4096)      "VVIEW-VFS-ARCHIVE\n" and {"format":"vview-vfs","version":2}, zero-padded
 *   4096...        file contents, each at a multiple of 4096
 *   index          one entry per line, "/" first and every directory before its entries:
 *                    {"path":"/a","type":"file","perm":420,"uid":1000,"gid":1000,
 *                     "atimeNs":"...","mtimeNs":"...","ctimeNs":"...","offset":4096,"size":5}
 *                  (other entries as in version 1: "link", "target", "rdev"; see snapshot.ts)
 *   last 64 bytes  "\nVVIEW-VFS-INDEX <offset, 20 digits> <length, 20 digits>" and spaces, "\n"
 *
 * Saving copies each file's content straight from where the store keeps it
 * (the view's kernel copy, a loaded archive) into the new archive in the
 * kernel (copy_file_range over the data extents); loading reads the index
 * only and leaves contents where they are until the view's copy is made. So
 * the monitor's memory does not grow with the size of the files.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { SNAPSHOT_FORMAT, SnapshotError, checkEntry, restore, type Entry } from './snapshot.js';
import type { MemStore, StoreOptions } from './store.js';
import { writeAll } from '../../index.js';

export const ARCHIVE_VERSION = 2;
export const ARCHIVE_MAGIC = 'VVIEW-VFS-ARCHIVE\n';
const BLOCK = 4096;
const TRAILER = 64;
const INDEX_TAG = 'VVIEW-VFS-INDEX ';
const CHUNK = 1 << 20;

const align = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** Whether the open file starts like an archive. */
export function isArchive(fd: number): boolean {
  const b = Buffer.alloc(ARCHIVE_MAGIC.length);
  const n = fs.readSync(fd, b, 0, b.length, 0);
  return n === b.length && b.toString('latin1') === ARCHIVE_MAGIC;
}

/** Writes the store as an archive into fd (an empty file). */
export function writeArchive(store: MemStore, fd: number): void {
  const head = Buffer.alloc(BLOCK);
  head.write(`${ARCHIVE_MAGIC}${JSON.stringify({ format: SNAPSHOT_FORMAT, version: ARCHIVE_VERSION })}\n`, 'latin1');
  writeAll(fd, head, 0);
  let pos = BLOCK;
  let lines: string[] = [];
  let pending = 0;
  const index: Buffer[] = []; // written after the data, in pieces of about CHUNK
  const flushLines = () => {
    if (lines.length) index.push(Buffer.from(lines.join('')));
    lines = [];
    pending = 0;
  };
  const firstName = new Map<number, string>(); // by inode: its first path, for hard links
  for (const { path: p, attr } of store.entries()) {
    let line: string;
    const first = firstName.get(attr.ino);
    if (first !== undefined) line = JSON.stringify({ path: p, link: first });
    else {
      firstName.set(attr.ino, p);
      const e: Record<string, unknown> = {
        path: p, type: attr.type, perm: attr.perm, uid: attr.uid, gid: attr.gid,
        atimeNs: String(attr.atimeNs), mtimeNs: String(attr.mtimeNs), ctimeNs: String(attr.ctimeNs),
      };
      if (attr.type === 'file') {
        e.offset = pos;
        e.size = attr.size;
        store.copyContent(p, fd, pos);
        pos = align(pos + attr.size);
      } else if (attr.type === 'symlink') e.target = store.readlink(p);
      else if (attr.type === 'chr' || attr.type === 'blk') e.rdev = attr.rdev;
      line = JSON.stringify(e);
    }
    lines.push(line + '\n');
    pending += line.length;
    if (pending >= CHUNK) flushLines();
  }
  flushLines();
  const indexAt = pos;
  for (const b of index) {
    writeAll(fd, b, pos);
    pos += b.length;
  }
  const trailer = `\n${INDEX_TAG}${String(indexAt).padStart(20, '0')} ${String(pos - indexAt).padStart(20, '0')}`;
  writeAll(fd, Buffer.from(trailer.padEnd(TRAILER - 1, ' ') + '\n', 'latin1'), pos);
}

/**
 * The store kept in the archive open as fd (which stays open: file contents
 * are read from it when the view's copy is made). Throws SnapshotError naming
 * `file` when it is not a valid archive.
 */
export function readArchive(file: string, fd: number, options: StoreOptions): MemStore {
  const bad = (msg: string) => new SnapshotError(`${file}: not a valid vview vfs archive (${msg}); refusing to use or overwrite it`);
  const size = fs.fstatSync(fd).size;
  if (size < BLOCK + TRAILER) throw bad('too short');
  const head = Buffer.alloc(BLOCK);
  fs.readSync(fd, head, 0, BLOCK, 0);
  const headText = head.toString('latin1', ARCHIVE_MAGIC.length, head.indexOf(0) < 0 ? BLOCK : head.indexOf(0)).trim();
  let doc: unknown;
  try {
    doc = JSON.parse(headText);
  } catch {
    throw bad('bad header');
  }
  const version = (doc as { version?: unknown }).version;
  if ((doc as { format?: unknown }).format !== SNAPSHOT_FORMAT) throw bad('bad header');
  if (version !== ARCHIVE_VERSION)
    throw new SnapshotError(`${file}: vfs archive version ${JSON.stringify(version)} is not supported (this vview reads and writes version ${ARCHIVE_VERSION})`);
  const tail = Buffer.alloc(TRAILER);
  fs.readSync(fd, tail, 0, TRAILER, size - TRAILER);
  const m = /^\nVVIEW-VFS-INDEX (\d{20}) (\d{20}) *\n$/.exec(tail.toString('latin1'));
  if (!m) throw bad('no index trailer: the file was cut short?');
  const indexAt = Number(m[1]);
  const indexLen = Number(m[2]);
  if (indexAt < BLOCK || indexAt % BLOCK !== 0 || indexAt + indexLen !== size - TRAILER) throw bad('the trailer does not match the file size');

  const entries: Entry[] = [];
  const err = (i: number) => (msg: string) => new SnapshotError(`${file}: entries[${i}]: ${msg}`);
  const range = (raw: Record<string, unknown>, fail: (m: string) => SnapshotError): { offset: number; size: number } => {
    const { offset, size: n } = raw;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < BLOCK || offset % BLOCK !== 0)
      throw fail(`"offset" must be a multiple of ${BLOCK} from ${BLOCK}`);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || offset + n > indexAt) throw fail('"size" must be an integer that stays before the index');
    return { offset, size: n };
  };
  const buf = Buffer.alloc(CHUNK);
  const utf8 = new StringDecoder('utf8'); // a character may straddle two chunks
  let carry = '';
  let i = 0;
  const take = (line: string) => {
    if (line === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw err(i)(`invalid JSON: ${(e as Error).message}`);
    }
    entries.push(checkEntry(raw, err(i), range));
    i++;
  };
  for (let off = 0; off < indexLen; ) {
    const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, indexLen - off), indexAt + off);
    if (n <= 0) throw bad('the index is cut short');
    off += n;
    const text = carry + utf8.write(buf.subarray(0, n));
    const parts = text.split('\n');
    carry = parts.pop()!;
    for (const line of parts) take(line);
  }
  take(carry + utf8.end());
  return restore(entries, options, err, (store, p, c) => store.setContentRange(p, fd, c.offset, c.size));
}
