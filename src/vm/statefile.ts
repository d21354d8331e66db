/**
 * State files that outlive a run (a vfs `persist` file, fakeroot's `state`):
 * one writer at a time, and a save that either replaces the file whole or
 * leaves it exactly as it was, with a message that names it and says why.
 *
 * - The lock is an advisory flock(2) on a companion file next to the state,
 *   `.NAME.lock` (mode 0600), removed by its holder when it is done. The
 *   state file itself cannot carry it, as each save replaces its inode. The
 *   kernel drops the lock when the holder dies, even by kill -9, so a lock is
 *   never stale (a file left by a killed run is simply locked again). A
 *   locker checks that the name still leads to the file it locked: the
 *   holder may have removed it in between.
 * - A save writes a new private file next to the state (O_EXCL, 0600), fsyncs
 *   it, gives it the mode of the file it replaces (a 0444 state stays 0444),
 *   renames it over the state and fsyncs the directory.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { native } from './native.js';

/** vview's exit status when a state file could not be saved (the command's own status is in the message). */
export const EXIT_SAVE_FAILED = 74;
/** vview's exit status when a state file is in use by another run (nothing ran). */
export const EXIT_STATE_BUSY = 75;

/** A state file problem; `exitCode` is what vview exits with. */
export class StateFileError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
};

/** A short reason for an fs error: "no space left on the device (ENOSPC)". */
export function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && REASONS[code]) return `${REASONS[code]} (${code})`;
  return (e as Error).message ?? String(e);
}

export interface StateLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the lock of `file` for this process, or throws a StateFileError
 * (EXIT_STATE_BUSY) naming the run that holds it. `what` names the file's
 * role in messages ("the vfs state", "the fakeroot state").
 */
export function lockStateFile(file: string, what: string): StateLock {
  const lockPath = path.join(path.dirname(file), `.${path.basename(file)}.lock`);
  let fd = -1;
  let r = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      throw new StateFileError(`${file}: cannot lock ${what}: ${lockPath}: ${reasonOf(e)}`, EXIT_STATE_BUSY);
    }
    r = native().flock(fd, LOCK_EX | LOCK_NB);
    if (r < 0) break;
    const held = fs.fstatSync(fd);
    const named = fs.statSync(lockPath, { throwIfNoEntry: false });
    if (named && named.ino === held.ino && named.dev === held.dev) break;
    fs.closeSync(fd); // removed by the run that held it: lock the new one
    if (attempt > 100) throw new StateFileError(`${file}: cannot lock ${what}: ${lockPath} keeps changing`, EXIT_STATE_BUSY);
  }
  if (r < 0) {
    let holder = '';
    try {
      const pid = fs.readFileSync(fd, 'utf8').trim();
      if (/^\d+$/.test(pid)) holder = ` (pid ${pid})`;
    } catch {
      /* unreadable: no pid to name */
    }
    fs.closeSync(fd);
    const busy = r === -11; // EWOULDBLOCK
    throw new StateFileError(
      busy
        ? `${file}: ${what} is in use by another vview run${holder}; runs sharing a state file would lose each other's changes, so this one stops (try again when it has ended)`
        : `${file}: cannot lock ${what}: ${lockPath}: errno ${-r}`,
      EXIT_STATE_BUSY,
    );
  }
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${process.pid}\n`, 0);
  } catch {
    /* the pid is only for messages */
  }
  let held = true;
  return {
    file: lockPath,
    release() {
      if (!held) return;
      held = false;
      fs.rmSync(lockPath, { force: true }); // while still holding it (see the header)
      native().flock(fd, LOCK_UN);
      fs.closeSync(fd);
    },
  };
}

/**
 * Replaces `file` with what `write(fd)` writes, atomically (see the header).
 * On any failure `file` is as it was, no temporary file is left, and a
 * StateFileError (EXIT_SAVE_FAILED) names the file and the reason.
 */
export function writeFileAtomically(file: string, write: (fd: number) => void, what = 'the state'): void {
  const dir = path.dirname(file);
  const fail = (e: unknown, step: string): never => {
    if (e instanceof StateFileError) throw e;
    throw new StateFileError(`${file}: ${what} was not saved (${step}: ${reasonOf(e)}); the file is unchanged`, EXIT_SAVE_FAILED);
  };
  let mode = 0o600;
  try {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st) mode = st.mode & 0o7777;
  } catch (e) {
    fail(e, 'stat');
  }
  // O_EXCL: never write through a file (or a symlink) someone else put there.
  // (node:crypto is loaded here, not imported: the monitor imports this file,
  // and loading it costs every run 8 ms of start-up.)
  const { randomBytes } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  } catch (e) {
    return fail(e, `creating a file in ${dir}`);
  }
  let step = 'writing';
  try {
    try {
      write(fd);
      step = 'fsync';
      fs.fsyncSync(fd);
      step = 'setting its mode';
      if (mode !== 0o600) fs.fchmodSync(fd, mode);
    } finally {
      fs.closeSync(fd);
    }
    step = 'renaming';
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    fail(e, step);
  }
  // The rename itself is durable only once the directory is.
  try {
    const dirFd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (e) {
    fail(e, `fsync of ${dir}`);
  }
}

/**
 * Copies `len` bytes at `srcOff` of `srcFd` to `dstOff` of `dstFd`, keeping
 * holes (SEEK_DATA / SEEK_HOLE; the data by copy_file_range, in the kernel).
 * Answers the bytes of data copied; throws an Error with an errno `code`.
 * The caller sets the destination's size (a hole at the end is not written).
 */
export function copySparse(srcFd: number, srcOff: number, dstFd: number, dstOff: number, len: number): number {
  const r = native().copySparse(srcFd, srcOff, dstFd, dstOff, len);
  if (r < 0) {
    const code = Object.entries(os.constants.errno).find(([, v]) => v === -r)?.[0] ?? `E${-r}`;
    throw Object.assign(new Error(`copy: ${code}`), { code });
  }
  return r;
}

/** writeSync of all of buf at pos (writeSync may write less). */
export function writeAll(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length; ) {
    const n = fs.writeSync(fd, buf, off, buf.length - off, pos + off);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += n;
  }
}
