/**
 * The file a path syscall names, found from the monitor the way the kernel
 * finds it for the tracee: a relative path is walked from the tracee's own cwd
 * or dirfd through /proc/TID/cwd and /proc/TID/fd/N (the kernel jumps through
 * those links, so "..", symlinks and mount points behave as for the tracee),
 * and the kernel's own error (ENOENT, ENOTDIR, ELOOP, EACCES, ...) comes back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoNumber, SyscallError } from '../../index.js';

export const AT_FDCWD = -100;

export interface PathRef {
  pid: number;
  tid: number;
  /** AT_FDCWD or a directory fd of the tracee. */
  dirfd: number;
  raw: string;
  follow: boolean;
  /** AT_EMPTY_PATH given: "" names the dirfd itself. */
  emptyPath?: boolean;
  /** The path's host form when it goes through a mount (CallPath.host). */
  host?: string;
}

/** The path, spelled so that the monitor's own lookups reach what the tracee's would. */
export function monitorPath(r: PathRef): string {
  if (r.host !== undefined) return r.host;
  if (r.raw === '') {
    if (!r.emptyPath) throw new SyscallError('ENOENT');
    return r.dirfd === AT_FDCWD ? `/proc/${r.tid}/cwd` : `/proc/${r.tid}/fd/${r.dirfd}`;
  }
  if (r.raw.startsWith('/')) {
    // The monitor's /proc/self is not the tracee's.
    const m = /^\/proc\/(self|thread-self)(?=\/|$)/.exec(r.raw);
    if (!m) return r.raw;
    return (m[1] === 'self' ? `/proc/${r.pid}` : `/proc/${r.pid}/task/${r.tid}`) + r.raw.slice(m[0].length);
  }
  const base = r.dirfd === AT_FDCWD ? `/proc/${r.tid}/cwd` : `/proc/${r.tid}/fd/${r.dirfd}`;
  return `${base}/${r.raw}`;
}

export function fsError(e: unknown): SyscallError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code) {
    try {
      errnoNumber(code);
      return new SyscallError(code as never);
    } catch {
      /* not an errno name */
    }
  }
  return new SyscallError('EIO', (e as Error).message);
}

/** stat or lstat of what the call names; throws SyscallError with the kernel's errno. */
export function statTarget(r: PathRef): { st: fs.BigIntStats; where: string } {
  const where = monitorPath(r);
  // An empty path with AT_EMPTY_PATH means the fd itself: the /proc link is
  // always followed to it (it is not a symlink the call could refuse to follow).
  const follow = r.follow || r.raw === '';
  try {
    return { st: follow ? fs.statSync(where, { bigint: true }) : fs.lstatSync(where, { bigint: true }), where };
  } catch (e) {
    throw fsError(e);
  }
}

/**
 * An absolute path of the file outside the monitor's /proc detours, for the
 * persistent record; undefined when it has none (a deleted file, a pipe).
 */
export function hostPath(where: string, follow: boolean): string | undefined {
  try {
    if (follow) return fs.realpathSync.native(where);
    const base = path.basename(where);
    if (base === '.' || base === '..' || where.endsWith('/') || /^\/proc\/\d+\/(cwd|fd\/\d+)$/.test(where) ||
        /^\/proc\/\d+\/task\/\d+\/(cwd|fd\/\d+)$/.test(where))
      return fs.realpathSync.native(where);
    const dir = fs.realpathSync.native(path.dirname(where));
    return path.join(dir, base);
  } catch {
    return undefined;
  }
}
