/**
 * The file-system level module API: a FUSE-like set of operations on paths.
 *
 * A module that mounts a file system gives the runtime an object of this shape
 * (see `mountFileSystem` in ./mount.ts). The operations are not called per
 * syscall: processes work on kernel files, and the runtime uses the
 * operations to fill those files and to write the processes' changes back.
 *
 * - Paths: native code resolves every path of the view (cwd, dirfd, symlinks,
 *   "..", the mount point's parent); the operations receive mount-relative
 *   paths, absolute ("/" is the mount root), normalized, every component but
 *   the last a directory.
 * - A file system whose root has a `hostPath` is a host directory (a bind):
 *   the kernel works on it directly, and the operations are not used.
 * - Any other is copied, whole, when the view starts (getattr, readdir,
 *   readlink, read) into a private scratch directory (mode 0700 under
 *   $TMPDIR, removed at exit; see mirror.ts), and processes open, read,
 *   write, mmap and exec the copy natively. What they change is written back
 *   through the write operations: new names, removals, renames, links and
 *   attributes right after the call that made them succeeds; the content of
 *   files opened for writing when the writing process exits or calls fsync;
 *   and, when the view ends (also on SIGINT/SIGTERM), everything that still
 *   differs, compared entry by entry (which catches fchmod, ftruncate,
 *   futimens on an fd). The file system is therefore read once: content that
 *   changes by itself later is not seen during the run. A mount made with
 *   `lazyWriteBack` (the vfs store, which reads contents from the copy) is
 *   told nothing per call: native code makes the changes on the copy, and
 *   the file system catches up at fsync (that file's path) and at the end.
 * - A read-only file system (`readonly: true`) implements only the reads:
 *   every change in the view answers EROFS, and nothing is written back.
 *
 * Errors: throw an Error whose `code` is an errno name ('ENOENT', 'EEXIST',
 * ...), as Node's fs does (fsError() makes one). An error while the tree is
 * copied stops vview before the command starts; a write-back that fails is
 * reported once per kind on vview's stderr (the process's call has already
 * succeeded on the copy). Every operation may return a Promise.
 */
export type Awaitable<T> = T | Promise<T>;

export type FileType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chr' | 'blk';

export interface FsAttr {
  type: FileType;
  /** Permission bits, with set-user-ID, set-group-ID and sticky (0o7777). */
  perm: number;
  uid: number;
  gid: number;
  size: number;
  /** Times in nanoseconds since the epoch. */
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs?: bigint;
  /** For 'chr' / 'blk'. */
  rdev?: number;
  /** An identity shared by the names of one file (hard links), if the file system has them. */
  ino?: number | bigint;
}

export interface FsStatfs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
}

/**
 * What every file system implements: the read operations. A read-only file
 * system (`readonly: true`) implements only these.
 */
export interface FileSystemReads {
  /** Attributes of the object itself (lstat: a final symlink is not followed). */
  getattr(path: string): Awaitable<FsAttr>;
  /** Entry names of a directory, without "." and "..". */
  readdir(path: string): Awaitable<string[]>;
  readlink(path: string): Awaitable<string>;
  /** Up to `length` bytes at `offset` (fewer at the end of the file). */
  read(path: string, offset: number, length: number): Awaitable<Buffer>;
  statfs?(): Awaitable<FsStatfs>;
  /**
   * The object is this host file or directory: the runtime lets the kernel do
   * every call on it directly (bind). When present for the root, the whole tree
   * is served from the host and no scratch copy is made.
   */
  hostPath?(path: string): string;
  /** Called after write-backs at a sync point (fsync, writer exit, end of the view). */
  flush?(): Awaitable<void>;
  /**
   * Optional: writes the content of the regular file `path` into the open host
   * file `fd` (empty; the runtime sets its size afterwards), keeping holes.
   * Without it the runtime copies through read(), and holes become zeros.
   */
  copyContent?(path: string, fd: number): Awaitable<void>;
}

/**
 * A file system that cannot change: every change in the view answers EROFS
 * (EEXIST for a name that exists, as the kernel does), so it needs no write
 * operation. Declare it with `readonly: true`, e.g.
 *   const envfs: ReadOnlyFileSystem = { readonly: true, getattr, readdir, readlink, read };
 */
export interface ReadOnlyFileSystem extends FileSystemReads {
  readonly readonly: true;
}

/** A writable file system: the reads, and the operations that write changes back. */
export interface FileSystem extends FileSystemReads {
  write(path: string, offset: number, data: Buffer): Awaitable<void>;
  truncate(path: string, size: number): Awaitable<void>;
  /** A new empty regular file; EEXIST when the name exists. */
  create(path: string, perm: number): Awaitable<void>;
  mkdir(path: string, perm: number): Awaitable<void>;
  /** A fifo, socket or device node. Optional: without it mknod is EPERM. */
  mknod?(path: string, type: 'fifo' | 'socket' | 'chr' | 'blk', perm: number, rdev: number): Awaitable<void>;
  symlink(target: string, path: string): Awaitable<void>;
  /** A second name for a file. Optional: without it link is EPERM. */
  link?(existing: string, path: string): Awaitable<void>;
  unlink(path: string): Awaitable<void>;
  rmdir(path: string): Awaitable<void>;
  /** rename(2): `to` may exist and is replaced (the runtime has checked the kernel's rules). */
  rename(from: string, to: string): Awaitable<void>;
  chmod(path: string, perm: number): Awaitable<void>;
  /** Optional: without it chown keeps the ids (the runtime still applies the kernel's rules). */
  chown?(path: string, uid: number, gid: number): Awaitable<void>;
  /** Times in nanoseconds since the epoch. */
  utimens(path: string, atimeNs: bigint, mtimeNs: bigint): Awaitable<void>;
  /**
   * Optional: the content of `path` is now that of `hostFile`, its file in the
   * kernel copy, which the runtime keeps up to date (and renames along with
   * `path`) until the view has ended and `close` has run. With it, writing
   * content back costs nothing per byte: a file system that keeps it reads the
   * content there when it needs it (to save it), instead of getting it
   * through truncate() and write(). Called once the copy is made, and at each
   * write-back of content (writer exit, fsync, end of the view).
   */
  adoptContent?(path: string, hostFile: string): Awaitable<void>;
  /** Refuse every change with EROFS (the operations above are then never called). */
  readonly readonly?: boolean;
}

/** What mountFileSystem accepts. */
export type AnyFileSystem = FileSystem | ReadOnlyFileSystem;

/**
 * The file system as the runtime drives it. A read-only one is given write
 * operations that answer EROFS: the view never reaches them (a read-only
 * mount refuses every change first), and the comparison at the end of the
 * view reports a difference through them instead of writing it.
 */
export function withWrites(fsys: AnyFileSystem): FileSystem {
  if (!fsys.readonly) return fsys;
  const refuse = (): never => {
    throw fsError('EROFS');
  };
  return {
    readonly: true,
    getattr: (p) => fsys.getattr(p),
    readdir: (p) => fsys.readdir(p),
    readlink: (p) => fsys.readlink(p),
    read: (p, offset, length) => fsys.read(p, offset, length),
    ...(fsys.statfs && { statfs: () => fsys.statfs!() }),
    ...(fsys.hostPath && { hostPath: (p: string) => fsys.hostPath!(p) }),
    ...(fsys.flush && { flush: () => fsys.flush!() }),
    ...(fsys.copyContent && { copyContent: (p: string, fd: number) => fsys.copyContent!(p, fd) }),
    write: refuse, truncate: refuse, create: refuse, mkdir: refuse, symlink: refuse,
    unlink: refuse, rmdir: refuse, rename: refuse, chmod: refuse, utimens: refuse,
  };
}

/** An Error with an errno code, as file-system operations throw. */
export function fsError(code: string, message?: string): Error & { code: string } {
  const e = new Error(message ?? code) as Error & { code: string };
  e.code = code;
  return e;
}
