/**
 * The vfs module's in-memory store and its snapshots, without tracing: every
 * FileSystem operation and its errors, special nodes, hard links, the initial
 * content, and the persistence (round trip, atomic saves, refusals).
 */
import test, { type ExecutionContext } from 'ava';
import { constants as bufferConstants } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OptionError } from '../src/vm/module.js';
import { MemStore } from '../src/modules/vfs/store.js';
import {
  SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SnapshotError, createStore, loadSnapshot, openPersistent, saveSnapshot,
} from '../src/modules/vfs/snapshot.js';

const noWarning = (message: string) => {
  throw new Error(`unexpected warning: ${message}`);
};

/** A temp directory removed after the test. */
function tempDir(t: ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-vfs-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Asserts that fn throws an fs error with this errno code. */
function fails(t: ExecutionContext, fn: () => unknown, code: string): void {
  t.throws(fn, { code });
}

const store = () => new MemStore({ uid: 1000, gid: 100 });
const text = (s: MemStore, p: string) => s.read(p, 0, 1 << 20).toString();

// ---- attributes and reading --------------------------------------------------

test('a new store is an empty root owned by the given ids', (t) => {
  const s = store();
  const a = s.getattr('/');
  t.like(a, { type: 'dir', perm: 0o755, uid: 1000, gid: 100, size: 4096, rdev: 0 });
  t.is(typeof a.mtimeNs, 'bigint');
  t.deepEqual(s.readdir('/'), []);
  t.is(new MemStore().uid, process.getuid!());
});

test('paths must be normalized and absolute; long names are ENAMETOOLONG', (t) => {
  const s = store();
  for (const p of ['a', '/a/', '//a', '/a/../b', '/./a', '/a\0b', '']) fails(t, () => s.getattr(p), 'EINVAL');
  fails(t, () => s.create('/' + 'x'.repeat(256), 0o644), 'ENAMETOOLONG');
  s.create('/' + 'x'.repeat(255), 0o644);
  t.is(s.getattr('/' + 'x'.repeat(255)).type, 'file');
});

test('lookups fail with ENOENT, or ENOTDIR below a non-directory (symlinks are never followed)', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.mkdir('/d', 0o755);
  s.symlink('/d', '/l');
  fails(t, () => s.getattr('/nope'), 'ENOENT');
  fails(t, () => s.getattr('/nope/x'), 'ENOENT');
  fails(t, () => s.getattr('/f/x'), 'ENOTDIR');
  fails(t, () => s.getattr('/l/x'), 'ENOTDIR');
  fails(t, () => s.readdir('/f'), 'ENOTDIR');
  fails(t, () => s.readdir('/l'), 'ENOTDIR');
});

test('write, read and truncate a file; holes read as zeros', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.write('/f', 0, Buffer.from('hello'));
  s.write('/f', 8, Buffer.from('XY'));
  t.deepEqual(s.read('/f', 0, 100), Buffer.from('hello\0\0\0XY'));
  t.deepEqual(s.read('/f', 3, 4), Buffer.from('lo\0\0'));
  t.is(s.read('/f', 10, 5).length, 0);
  t.is(s.read('/f', 50, 5).length, 0);
  t.is(s.getattr('/f').size, 10);
  s.truncate('/f', 3);
  t.is(text(s, '/f'), 'hel');
  s.truncate('/f', 5);
  t.deepEqual(s.read('/f', 0, 10), Buffer.from('hel\0\0'));
  s.truncate('/f', 0);
  t.is(s.getattr('/f').size, 0);
});

test('read, write and truncate: errors', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.mkdir('/d', 0o755);
  s.symlink('f', '/l');
  s.mknod('/p', 'fifo', 0o644, 0);
  for (const op of [(p: string) => s.read(p, 0, 1), (p: string) => s.write(p, 0, Buffer.from('x')), (p: string) => s.truncate(p, 0)]) {
    fails(t, () => op('/nope'), 'ENOENT');
    fails(t, () => op('/d'), 'EISDIR');
    fails(t, () => op('/l'), 'EINVAL');
    fails(t, () => op('/p'), 'EINVAL');
  }
  fails(t, () => s.read('/f', -1, 1), 'EINVAL');
  fails(t, () => s.read('/f', 0, -1), 'EINVAL');
  fails(t, () => s.write('/f', -1, Buffer.from('x')), 'EINVAL');
  fails(t, () => s.write('/f', 1.5, Buffer.from('x')), 'EINVAL');
  fails(t, () => s.truncate('/f', -1), 'EINVAL');
  fails(t, () => s.write('/f', bufferConstants.MAX_LENGTH - 1, Buffer.from('xy')), 'EFBIG');
  // Past what a Buffer holds: EFBIG, or EINVAL where that is past 2^53 (Node >= 22).
  const code = (t.throws(() => s.truncate('/f', bufferConstants.MAX_LENGTH + 1)) as NodeJS.ErrnoException).code;
  t.true(code === 'EFBIG' || code === 'EINVAL', code);
  t.is(s.getattr('/f').size, 0);
});

test('writing and truncating set mtime and ctime; an empty write changes nothing; reads keep atime', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.utimens('/f', 5n, 7n);
  const before = s.getattr('/f');
  s.write('/f', 0, Buffer.alloc(0));
  t.deepEqual(s.getattr('/f'), before);
  s.read('/f', 0, 10);
  t.deepEqual(s.getattr('/f'), before);
  s.write('/f', 0, Buffer.from('x'));
  let a = s.getattr('/f');
  t.is(a.atimeNs, 5n);
  t.true(a.mtimeNs > 7n);
  t.is(a.ctimeNs, a.mtimeNs);
  s.utimens('/f', 5n, 7n);
  s.truncate('/f', 1); // same size: Linux still sets the times
  a = s.getattr('/f');
  t.true(a.mtimeNs > 7n);
});

// ---- creating ----------------------------------------------------------------

test('create: a new empty file with its perm; errors', (t) => {
  const s = store();
  s.create('/f', 0o4755);
  t.like(s.getattr('/f'), { type: 'file', perm: 0o4755, uid: 1000, gid: 100, size: 0 });
  s.create('/g', 0o170644); // type bits are not permission bits
  t.is(s.getattr('/g').perm, 0o644);
  s.mkdir('/d', 0o755);
  s.symlink('nowhere', '/dangling');
  fails(t, () => s.create('/f', 0o644), 'EEXIST');
  fails(t, () => s.create('/d', 0o644), 'EEXIST');
  fails(t, () => s.create('/dangling', 0o644), 'EEXIST');
  fails(t, () => s.create('/', 0o644), 'EEXIST');
  fails(t, () => s.create('/nope/f', 0o644), 'ENOENT');
  fails(t, () => s.create('/f/x', 0o644), 'ENOTDIR');
});

test('creating and removing entries sets the directory mtime and ctime', (t) => {
  const s = store();
  s.mkdir('/d', 0o755);
  const steps: [string, () => void][] = [
    ['create', () => s.create('/d/f', 0o644)],
    ['mkdir', () => s.mkdir('/d/sub', 0o755)],
    ['mknod', () => s.mknod('/d/p', 'fifo', 0o644, 0)],
    ['symlink', () => s.symlink('f', '/d/l')],
    ['link', () => s.link('/d/f', '/d/h')],
    ['unlink', () => s.unlink('/d/h')],
    ['rmdir', () => s.rmdir('/d/sub')],
    ['rename', () => s.rename('/d/l', '/d/l2')],
  ];
  for (const [name, step] of steps) {
    s.utimens('/d', 1n, 1n);
    step();
    const d = s.getattr('/d');
    t.true(d.mtimeNs > 1n && d.ctimeNs === d.mtimeNs, name);
    t.is(d.atimeNs, 1n, name);
  }
});

test('mkdir: perm without set-user-ID/set-group-ID; errors', (t) => {
  const s = store();
  s.mkdir('/d', 0o7777);
  t.like(s.getattr('/d'), { type: 'dir', perm: 0o1777 });
  fails(t, () => s.mkdir('/d', 0o755), 'EEXIST');
  fails(t, () => s.mkdir('/', 0o755), 'EEXIST');
  fails(t, () => s.mkdir('/nope/d', 0o755), 'ENOENT');
  s.create('/f', 0o644);
  fails(t, () => s.mkdir('/f/d', 0o755), 'ENOTDIR');
});

test('a set-group-ID directory gives its group to new entries and its bit to new directories', (t) => {
  const s = store();
  s.mkdir('/g', 0o755);
  s.chown('/g', 0, 55);
  s.chmod('/g', 0o2775);
  s.create('/g/f', 0o644);
  s.mkdir('/g/d', 0o755);
  s.symlink('f', '/g/l');
  t.like(s.getattr('/g/f'), { uid: 1000, gid: 55, perm: 0o644 });
  t.like(s.getattr('/g/d'), { uid: 1000, gid: 55, perm: 0o2755 });
  t.like(s.getattr('/g/l'), { gid: 55 });
  s.create('/f', 0o644);
  t.is(s.getattr('/f').gid, 100);
});

test('mknod: fifo, socket and device nodes keep their type and device number', (t) => {
  const s = store();
  s.mknod('/fifo', 'fifo', 0o640, 99);
  s.mknod('/sock', 'socket', 0o755, 0);
  s.mknod('/null', 'chr', 0o666, 0x103);
  s.mknod('/sda', 'blk', 0o660, 0x800);
  t.like(s.getattr('/fifo'), { type: 'fifo', perm: 0o640, size: 0, rdev: 0 });
  t.like(s.getattr('/sock'), { type: 'socket', perm: 0o755, rdev: 0 });
  t.like(s.getattr('/null'), { type: 'chr', perm: 0o666, rdev: 0x103 });
  t.like(s.getattr('/sda'), { type: 'blk', rdev: 0x800 });
  fails(t, () => s.mknod('/fifo', 'fifo', 0o644, 0), 'EEXIST');
  fails(t, () => s.mknod('/nope/x', 'fifo', 0o644, 0), 'ENOENT');
  fails(t, () => s.mknod('/x', 'chr', 0o644, -1), 'EINVAL');
  fails(t, () => s.readlink('/null'), 'EINVAL');
  fails(t, () => s.readdir('/null'), 'ENOTDIR');
});

test('symlink: the link itself is what getattr shows; its target is kept as given', (t) => {
  const s = store();
  s.symlink('/etc/passwd', '/abs');
  s.symlink('../x/ y', '/rel');
  s.symlink('é', '/utf8');
  t.like(s.getattr('/abs'), { type: 'symlink', perm: 0o777, size: 11, uid: 1000, gid: 100 });
  t.is(s.readlink('/abs'), '/etc/passwd');
  t.is(s.readlink('/rel'), '../x/ y');
  t.is(s.getattr('/utf8').size, 2); // bytes, as lstat
  t.is(s.readlink('/utf8'), 'é');
  fails(t, () => s.symlink('', '/empty'), 'ENOENT');
  fails(t, () => s.symlink('a\0b', '/nul'), 'EINVAL');
  fails(t, () => s.symlink('x', '/abs'), 'EEXIST');
  fails(t, () => s.symlink('x', '/nope/l'), 'ENOENT');
  s.create('/f', 0o644);
  fails(t, () => s.readlink('/f'), 'EINVAL');
  fails(t, () => s.readlink('/'), 'EINVAL');
  fails(t, () => s.readlink('/nope'), 'ENOENT');
});

// ---- hard links, unlink, rmdir -----------------------------------------------

test('link: two names of one file share content and attributes', (t) => {
  const s = store();
  s.mkdir('/d', 0o755);
  s.create('/a', 0o600);
  s.write('/a', 0, Buffer.from('one'));
  s.utimens('/a', 1n, 2n);
  s.link('/a', '/d/b');
  const a = s.getattr('/a');
  t.true(a.ctimeNs > 2n); // link changes the file's ctime
  t.deepEqual(s.getattr('/d/b'), a);
  s.write('/d/b', 3, Buffer.from('+two'));
  s.chmod('/a', 0o640);
  s.chown('/d/b', 7, 8);
  t.is(text(s, '/a'), 'one+two');
  t.deepEqual(s.getattr('/a'), s.getattr('/d/b'));
  t.like(s.getattr('/a'), { perm: 0o640, uid: 7, gid: 8 });
  s.unlink('/a');
  t.is(text(s, '/d/b'), 'one+two');
  t.like(s.getattr('/d/b'), { perm: 0o640, uid: 7, gid: 8 });
});

test('link: errors; a symlink or a device can be linked', (t) => {
  const s = store();
  s.mkdir('/d', 0o755);
  s.create('/f', 0o644);
  s.symlink('nowhere', '/l');
  s.mknod('/c', 'chr', 0o600, 5);
  fails(t, () => s.link('/d', '/d2'), 'EPERM');
  fails(t, () => s.link('/nope', '/x'), 'ENOENT');
  fails(t, () => s.link('/f', '/d'), 'EEXIST');
  fails(t, () => s.link('/d', '/f'), 'EEXIST'); // the name is checked before the type, as linkat(2)
  fails(t, () => s.link('/f', '/nope/x'), 'ENOENT');
  s.link('/l', '/l2');
  t.like(s.getattr('/l2'), { type: 'symlink' });
  t.is(s.readlink('/l2'), 'nowhere');
  s.link('/c', '/c2');
  t.like(s.getattr('/c2'), { type: 'chr', rdev: 5 });
});

test('unlink removes a name; the last one frees the object, and a new one reusing its inode starts fresh', (t) => {
  const s = store();
  s.create('/a', 0o4711);
  s.chown('/a', 5, 5);
  s.unlink('/a');
  fails(t, () => s.getattr('/a'), 'ENOENT');
  s.mknod('/b', 'fifo', 0o600, 0); // memfs reuses the freed inode number
  t.like(s.getattr('/b'), { type: 'fifo', perm: 0o600, uid: 1000, gid: 100 });
  s.mkdir('/d', 0o755);
  fails(t, () => s.unlink('/d'), 'EISDIR');
  fails(t, () => s.unlink('/'), 'EISDIR');
  fails(t, () => s.unlink('/nope'), 'ENOENT');
  s.symlink('/b', '/l');
  s.unlink('/l');
  t.is(s.getattr('/b').type, 'fifo'); // the link itself, not its target
});

test('rmdir: errors', (t) => {
  const s = store();
  s.mkdir('/d', 0o755);
  s.create('/d/f', 0o644);
  fails(t, () => s.rmdir('/d'), 'ENOTEMPTY');
  fails(t, () => s.rmdir('/d/f'), 'ENOTDIR');
  fails(t, () => s.rmdir('/nope'), 'ENOENT');
  fails(t, () => s.rmdir('/'), 'EBUSY');
  s.unlink('/d/f');
  s.rmdir('/d');
  t.deepEqual(s.readdir('/'), []);
});

// ---- rename ------------------------------------------------------------------

test('rename moves a name, with a directory its whole subtree', (t) => {
  const s = store();
  s.mkdir('/a', 0o755);
  s.mkdir('/a/sub', 0o700);
  s.create('/a/sub/f', 0o644);
  s.write('/a/sub/f', 0, Buffer.from('deep'));
  s.mkdir('/b', 0o755);
  s.utimens('/a/sub', 1n, 2n);
  s.rename('/a/sub', '/b/moved');
  t.deepEqual(s.readdir('/a'), []);
  t.deepEqual(s.readdir('/b'), ['moved']);
  t.is(text(s, '/b/moved/f'), 'deep');
  const m = s.getattr('/b/moved');
  t.like(m, { perm: 0o700, atimeNs: 1n, mtimeNs: 2n });
  t.true(m.ctimeNs > 2n);
  fails(t, () => s.getattr('/a/sub/f'), 'ENOENT');
  s.create('/b/moved/g', 0o644); // the moved directory still works
  t.deepEqual(s.readdir('/b/moved').sort(), ['f', 'g']);
});

test('rename of a symlink moves the link, dangling or not', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.symlink('/f', '/l');
  s.symlink('gone', '/dangling');
  s.rename('/l', '/l2');
  s.rename('/dangling', '/d2');
  t.like(s.getattr('/l2'), { type: 'symlink' });
  t.is(s.readlink('/l2'), '/f');
  t.is(s.readlink('/d2'), 'gone');
  t.is(s.getattr('/f').type, 'file');
  t.deepEqual(s.readdir('/').sort(), ['d2', 'f', 'l2']);
});

test('rename replaces a file (another name of it survives) and an empty directory', (t) => {
  const s = store();
  s.create('/old', 0o600);
  s.write('/old', 0, Buffer.from('old'));
  s.link('/old', '/keep');
  s.create('/new', 0o644);
  s.write('/new', 0, Buffer.from('new'));
  s.rename('/new', '/old');
  t.is(text(s, '/old'), 'new');
  t.is(text(s, '/keep'), 'old');
  t.is(s.getattr('/keep').perm, 0o600);
  fails(t, () => s.getattr('/new'), 'ENOENT');
  s.mkdir('/d1', 0o700);
  s.create('/d1/x', 0o644);
  s.mkdir('/d2', 0o755);
  s.rename('/d1', '/d2');
  t.deepEqual(s.readdir('/d2'), ['x']);
  t.is(s.getattr('/d2').perm, 0o700);
  t.deepEqual(s.readdir('/').sort(), ['d2', 'keep', 'old']);
});

test('rename of two names of one file, or of a name onto itself, does nothing', (t) => {
  const s = store();
  s.create('/a', 0o644);
  s.link('/a', '/b');
  s.utimens('/a', 1n, 1n);
  const before = s.getattr('/a');
  s.rename('/a', '/b');
  s.rename('/a', '/a');
  t.deepEqual(s.readdir('/').sort(), ['a', 'b']);
  t.deepEqual(s.getattr('/a'), before);
});

test('rename: errors, in the order of the kernel', (t) => {
  const s = store();
  s.mkdir('/d', 0o755);
  s.mkdir('/d/sub', 0o755);
  s.mkdir('/full', 0o755);
  s.create('/full/x', 0o644);
  s.mkdir('/empty', 0o755);
  s.create('/f', 0o644);
  fails(t, () => s.rename('/nope', '/x'), 'ENOENT');
  fails(t, () => s.rename('/f', '/nope/x'), 'ENOENT');
  fails(t, () => s.rename('/d', '/f/x'), 'ENOTDIR');
  fails(t, () => s.rename('/d', '/d/sub/x'), 'EINVAL');
  fails(t, () => s.rename('/d', '/d/x'), 'EINVAL');
  fails(t, () => s.rename('/d/sub', '/d'), 'ENOTEMPTY');
  fails(t, () => s.rename('/full/x', '/full'), 'ENOTEMPTY');
  fails(t, () => s.rename('/d', '/f'), 'ENOTDIR');
  fails(t, () => s.rename('/f', '/empty'), 'EISDIR');
  fails(t, () => s.rename('/empty', '/full'), 'ENOTEMPTY');
  fails(t, () => s.rename('/', '/x'), 'EBUSY');
  fails(t, () => s.rename('/d', '/'), 'EBUSY');
  fails(t, () => s.rename('/f', '/' + 'n'.repeat(256)), 'ENAMETOOLONG');
  t.deepEqual(s.readdir('/').sort(), ['d', 'empty', 'f', 'full']);
  t.deepEqual(s.readdir('/d'), ['sub']);
});

// ---- attributes --------------------------------------------------------------

test('chmod keeps set-user-ID, set-group-ID and sticky; not on a symlink', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.utimens('/f', 1n, 1n);
  for (const perm of [0o4755, 0o2711, 0o1777, 0o7000, 0]) {
    s.chmod('/f', perm);
    t.is(s.getattr('/f').perm, perm);
  }
  s.chmod('/f', 0o100644);
  t.is(s.getattr('/f').perm, 0o644);
  t.true(s.getattr('/f').ctimeNs > 1n);
  t.is(s.getattr('/f').mtimeNs, 1n);
  s.mkdir('/d', 0o755);
  s.chmod('/d', 0o1777);
  t.is(s.getattr('/d').perm, 0o1777);
  s.symlink('f', '/l');
  fails(t, () => s.chmod('/l', 0o600), 'EOPNOTSUPP');
  fails(t, () => s.chmod('/nope', 0o600), 'ENOENT');
});

test('permission bits are recorded, never enforced (the runtime applies the kernel rules)', (t) => {
  const s = store();
  s.mkdir('/ro', 0o755);
  s.create('/ro/f', 0o644);
  s.chmod('/ro/f', 0);
  s.chmod('/ro', 0o500);
  s.chown('/ro', 0, 0);
  s.write('/ro/f', 0, Buffer.from('still'));
  t.is(text(s, '/ro/f'), 'still');
  s.create('/ro/g', 0o644);
  s.rename('/ro/g', '/ro/h');
  s.unlink('/ro/h');
  t.deepEqual(s.readdir('/ro'), ['f']);
});

test('chown sets ids, -1 keeps one; a symlink has its own owner', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.symlink('f', '/l');
  s.utimens('/f', 1n, 1n);
  s.chown('/f', 0, 0);
  t.like(s.getattr('/f'), { uid: 0, gid: 0 });
  t.true(s.getattr('/f').ctimeNs > 1n);
  s.chown('/f', 42, -1);
  t.like(s.getattr('/f'), { uid: 42, gid: 0 });
  s.chown('/f', 0xffffffff, 43);
  t.like(s.getattr('/f'), { uid: 42, gid: 43 });
  s.chown('/l', 7, 8);
  t.like(s.getattr('/l'), { uid: 7, gid: 8 });
  t.like(s.getattr('/f'), { uid: 42, gid: 43 });
  fails(t, () => s.chown('/f', -2, 0), 'EINVAL');
  fails(t, () => s.chown('/f', 0, 1.5), 'EINVAL');
  fails(t, () => s.chown('/nope', 0, 0), 'ENOENT');
});

test('utimens keeps nanoseconds exactly, before 1970 too, and sets ctime to now', (t) => {
  const s = store();
  s.create('/f', 0o644);
  s.mkdir('/d', 0o755);
  s.symlink('f', '/l');
  const before = BigInt(Date.now() - 1) * 1_000_000n;
  for (const p of ['/f', '/d', '/l']) {
    s.utimens(p, 1_700_000_000_123_456_789n, -86_400_000_000_001n);
    const a = s.getattr(p);
    t.is(a.atimeNs, 1_700_000_000_123_456_789n);
    t.is(a.mtimeNs, -86_400_000_000_001n);
    t.true(a.ctimeNs >= before);
  }
  fails(t, () => s.utimens('/nope', 0n, 0n), 'ENOENT');
});

test('statfs counts the bytes held (a file with two names once)', (t) => {
  const s = store();
  const empty = s.statfs();
  t.like(empty, { bsize: 4096, namelen: 255 });
  t.is(empty.blocks, empty.bfree);
  t.true(empty.bfree > 0 && empty.bavail === empty.bfree);
  s.create('/a', 0o644);
  s.write('/a', 0, Buffer.alloc(10000));
  s.link('/a', '/b');
  const st = s.statfs();
  t.is(st.blocks - st.bfree, 3);
  t.is(st.files - st.ffree, 2); // the root and the file
});

test('entries: every name, parents first, sorted; ino is one per object', (t) => {
  const s = store();
  s.mkdir('/b', 0o755);
  s.create('/b/z', 0o644);
  s.create('/a', 0o644);
  s.link('/a', '/b/y');
  const list = [...s.entries()];
  t.deepEqual(list.map((e) => e.path), ['/', '/a', '/b', '/b/y', '/b/z']);
  t.is(list[1].attr.ino, list[3].attr.ino);
  t.not(list[1].attr.ino, list[4].attr.ino);
  t.deepEqual(list[4].attr, s.getattr('/b/z'));
  t.deepEqual([...s.entries('/b')].map((e) => e.path), ['/b', '/b/y', '/b/z']);
});

// ---- initial content ---------------------------------------------------------

test('addFiles: a string is a file, null a directory, parents are made', (t) => {
  const s = store();
  s.addFiles({ 'etc/hosts': '127.0.0.1 localhost\n', 'etc/motd': 'héllo', 'var/empty': null, 'etc/ssl/certs': null });
  t.deepEqual([...s.entries()].map((e) => `${e.path} ${e.attr.type} ${e.attr.perm.toString(8)}`), [
    '/ dir 755',
    '/etc dir 755',
    '/etc/hosts file 644',
    '/etc/motd file 644',
    '/etc/ssl dir 755',
    '/etc/ssl/certs dir 755',
    '/var dir 755',
    '/var/empty dir 755',
  ]);
  t.is(text(s, '/etc/hosts'), '127.0.0.1 localhost\n');
  t.is(s.getattr('/etc/motd').size, 6);
  s.addFiles({ 'etc/hosts': 'short', etc: null }); // replaces content; an existing directory is fine
  t.is(text(s, '/etc/hosts'), 'short');
});

test('addFiles: malformed entries are OptionError under files.<path>', (t) => {
  const s = store();
  s.addFiles({ f: 'x', d: null });
  const rejects = (files: Record<string, unknown>, key: string, msg: RegExp) => {
    const e = t.throws(() => s.addFiles(files), { instanceOf: OptionError, message: msg });
    t.deepEqual((e as OptionError).key, ['files', key]);
  };
  for (const bad of ['/abs', 'a/../b', './a', 'a//b', 'a/', '', '..'])
    rejects({ [bad]: 'x' }, bad, /relative path/);
  rejects({ n: 3 }, 'n', /expected a string .* or null/);
  rejects({ ['x'.repeat(256)]: 'x' }, 'x'.repeat(256), /longer than 255 bytes/);
  rejects({ d: 'x' }, 'd', /\/d is already a directory/);
  rejects({ f: null }, 'f', /\/f is already a file/);
  rejects({ 'f/x': 'y' }, 'f/x', /\/f is already a file/);
  s.symlink('d', '/l');
  rejects({ 'l/x': 'y' }, 'l/x', /\/l is already a symlink/);
  rejects({ l: 'y' }, 'l', /\/l is already a symlink/);
  t.is(s.readlink('/l'), 'd');
});

/** A host tree with a file of each kind the copy handles, and a fifo. */
function hostTree(t: ExecutionContext): string {
  const dir = path.join(tempDir(t), 'tree');
  fs.mkdirSync(path.join(dir, 'sub/deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  fs.chmodSync(path.join(dir, 'run.sh'), 0o4750);
  fs.writeFileSync(path.join(dir, 'sub/data.bin'), Buffer.from([0, 1, 2, 255]));
  fs.chmodSync(path.join(dir, 'sub/data.bin'), 0o600);
  fs.linkSync(path.join(dir, 'sub/data.bin'), path.join(dir, 'sub/deeper/again.bin'));
  fs.symlinkSync('../run.sh', path.join(dir, 'sub/link'));
  fs.symlinkSync('/does/not/exist', path.join(dir, 'dangling'));
  execFileSync('mkfifo', [path.join(dir, 'sub/fifo')]);
  fs.utimesSync(path.join(dir, 'run.sh'), 1_500_000_000, 1_600_000_000);
  fs.chmodSync(path.join(dir, 'sub'), 0o750);
  fs.utimesSync(path.join(dir, 'sub'), 1_500_000_001, 1_600_000_001);
  fs.chmodSync(dir, 0o711);
  fs.utimesSync(dir, 1_500_000_002, 1_600_000_002);
  return dir;
}

test('copyFromHost: files, directories, symlinks and hard links with modes and times; other types skipped with a warning', (t) => {
  const dir = hostTree(t);
  const s = store();
  const warnings: string[] = [];
  s.copyFromHost(dir, (m) => warnings.push(m));
  t.deepEqual(warnings, [`${path.join(dir, 'sub/fifo')}: skipped (only regular files, directories and symlinks are copied)`]);
  t.deepEqual([...s.entries()].map((e) => `${e.path} ${e.attr.type} ${e.attr.perm.toString(8)}`), [
    '/ dir 711',
    '/dangling symlink 777',
    '/run.sh file 4750',
    '/sub dir 750',
    '/sub/data.bin file 600',
    '/sub/deeper dir 755',
    '/sub/deeper/again.bin file 600',
    '/sub/link symlink 777',
  ]);
  t.is(text(s, '/run.sh'), '#!/bin/sh\necho hi\n');
  t.deepEqual(s.read('/sub/deeper/again.bin', 0, 10), Buffer.from([0, 1, 2, 255]));
  t.is(s.readlink('/sub/link'), '../run.sh');
  t.is(s.readlink('/dangling'), '/does/not/exist');
  t.like(s.getattr('/run.sh'), { atimeNs: 1_500_000_000_000_000_000n, mtimeNs: 1_600_000_000_000_000_000n, uid: 1000, gid: 100 });
  t.like(s.getattr('/sub'), { mtimeNs: 1_600_000_001_000_000_000n });
  t.like(s.getattr('/'), { mtimeNs: 1_600_000_002_000_000_000n });
  const ids = new Map([...s.entries()].map((e) => [e.path, e.attr.ino]));
  t.is(ids.get('/sub/data.bin'), ids.get('/sub/deeper/again.bin'));
  s.write('/sub/data.bin', 0, Buffer.from('X'));
  t.is(text(s, '/sub/deeper/again.bin')[0], 'X');
});

test('copyFromHost refuses a path that is not a directory', (t) => {
  const f = path.join(tempDir(t), 'f');
  fs.writeFileSync(f, '');
  t.throws(() => store().copyFromHost(f, noWarning), { message: `${f}: not a directory` });
});

test('createStore: from a host directory or a snapshot, then files', (t) => {
  const dir = hostTree(t);
  const fromDir = createStore({ from: dir, files: { 'sub/new': 'n', 'run.sh': 'replaced' }, onWarning: () => {} });
  t.is(text(fromDir, '/run.sh'), 'replaced');
  t.is(text(fromDir, '/sub/new'), 'n');
  t.is(fromDir.readlink('/sub/link'), '../run.sh');
  const snap = path.join(tempDir(t), 'snap.json');
  saveSnapshot(fromDir, snap);
  const fromSnap = createStore({ from: snap, files: { extra: null }, uid: 5, gid: 6, onWarning: noWarning });
  t.is(text(fromSnap, '/run.sh'), 'replaced');
  t.like(fromSnap.getattr('/extra'), { type: 'dir', uid: 5, gid: 6 });
  const missing = path.join(tempDir(t), 'missing');
  t.throws(() => createStore({ from: missing, onWarning: noWarning }), { instanceOf: SnapshotError, message: `${missing}: no such file or directory` });
  t.deepEqual(createStore({ onWarning: noWarning }).readdir('/'), []);
});

// ---- snapshots ---------------------------------------------------------------

/** Everything observable about a store: names, attributes, content, which names share an object (not the inode numbers). */
function dump(s: MemStore) {
  const first = new Map<number, string>();
  return [...s.entries()].map(({ path: p, attr: { ino, ...attr } }) => {
    if (!first.has(ino)) first.set(ino, p);
    const content = attr.type === 'file' ? s.read(p, 0, attr.size).toString('hex') : attr.type === 'symlink' ? s.readlink(p) : undefined;
    return { path: p, sameAs: first.get(ino), attr, content };
  });
}

/** A store with one of everything. */
function richStore(): MemStore {
  const s = store();
  s.mkdir('/empty', 0o700);
  s.mkdir('/links', 0o700);
  s.mkdir('/dir', 0o2775);
  s.create('/dir/bin', 0o4755);
  s.write('/dir/bin', 0, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  s.create('/dir/empty-file', 0o600);
  s.link('/dir/bin', '/hard');
  s.link('/dir/bin', '/links/hard2');
  s.symlink('dir/bin', '/sym');
  s.link('/sym', '/sym-hard');
  s.symlink('/nowhere', '/dir/dangling');
  s.mknod('/dir/fifo', 'fifo', 0o644, 0);
  s.mknod('/dir/sock', 'socket', 0o777, 0);
  s.mknod('/dir/null', 'chr', 0o666, 0x103);
  s.mknod('/dir/disk', 'blk', 0o660, 0x801);
  s.chown('/dir/null', 0, 0);
  s.chown('/sym', 3, 4);
  s.chmod('/', 0o1777);
  for (const e of [...s.entries()]) s.utimens(e.path, 1_234_567_890_123_456_789n + BigInt(e.path.length), -5n);
  return s;
}

test('save and load: the same tree, attributes (ctime too) and hard links', (t) => {
  const s = richStore();
  const file = path.join(tempDir(t), 'vfs.json');
  saveSnapshot(s, file);
  const loaded = loadSnapshot(file);
  t.truthy(loaded);
  t.deepEqual(dump(loaded!), dump(s));
  // One object still: a change through one name shows through the others.
  loaded!.write('/hard', 0, Buffer.from('!'));
  t.is(loaded!.read('/links/hard2', 0, 1).toString(), '!');
  t.deepEqual(loaded!.readdir('/empty'), []);
  // And saving what was loaded gives the same file.
  const again = path.join(path.dirname(file), 'again.json');
  saveSnapshot(loaded!, again);
  saveSnapshot(loadSnapshot(file)!, again);
  t.is(fs.readFileSync(again, 'utf8'), fs.readFileSync(file, 'utf8'));
});

test('the snapshot file: JSON with format, version and one entry per line; 0600', (t) => {
  const s = store();
  s.create('/a', 0o644);
  s.write('/a', 0, Buffer.from('hi'));
  s.link('/a', '/b');
  s.mknod('/c', 'chr', 0o600, 7);
  s.symlink('a', '/d');
  s.utimens('/a', 1n, 2n);
  const file = path.join(tempDir(t), 'vfs.json');
  saveSnapshot(s, file);
  t.is(fs.statSync(file).mode & 0o777, 0o600);
  const raw = fs.readFileSync(file, 'utf8');
  t.is(raw.split('\n').length, 1 + 5 + 2);
  const doc = JSON.parse(raw);
  t.is(doc.format, SNAPSHOT_FORMAT);
  t.is(doc.version, SNAPSHOT_VERSION);
  t.deepEqual(Object.keys(doc), ['format', 'version', 'entries']);
  const [root, a, b, c, d] = doc.entries;
  t.like(root, { path: '/', type: 'dir', perm: 0o755, uid: 1000, gid: 100 });
  t.like(a, { path: '/a', type: 'file', perm: 0o644, atimeNs: '1', mtimeNs: '2', content: 'aGk=' });
  t.regex(a.ctimeNs, /^\d+$/);
  t.deepEqual(b, { path: '/b', link: '/a' });
  t.like(c, { path: '/c', type: 'chr', rdev: 7 });
  t.is(c.content, undefined);
  t.like(d, { path: '/d', type: 'symlink', target: 'a' });
});

test('a missing snapshot file loads as undefined', (t) => {
  t.is(loadSnapshot(path.join(tempDir(t), 'none.json')), undefined);
});

test('save is atomic: the target is replaced only by the rename, and no temporary file is left', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'vfs.json');
  fs.writeFileSync(file, 'previous');
  const s = richStore();
  const rename = fs.renameSync;
  let seen: { target: string; tmpMode: number; tmpText: string; tmpName: string } | undefined;
  fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
    seen = {
      target: fs.readFileSync(to, 'utf8'),
      tmpMode: fs.statSync(from).mode & 0o777,
      tmpText: fs.readFileSync(from, 'utf8'),
      tmpName: path.relative(dir, String(from)),
    };
    rename(from, to);
  };
  try {
    saveSnapshot(s, file);
  } finally {
    fs.renameSync = rename;
  }
  t.truthy(seen);
  t.is(seen!.target, 'previous');
  t.is(seen!.tmpMode, 0o600);
  t.regex(seen!.tmpName, /^\.vfs\.json\.\d+\.[0-9a-f]+\.tmp$/);
  t.is(seen!.tmpText, fs.readFileSync(file, 'utf8'));
  t.deepEqual(fs.readdirSync(dir), ['vfs.json']);
});

test('a failed save leaves the target as it was and no temporary file', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'vfs.json');
  fs.writeFileSync(file, 'previous');
  const fsync = fs.fsyncSync;
  fs.fsyncSync = () => {
    throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
  };
  try {
    t.throws(() => saveSnapshot(richStore(), file), { message: /simulated/ });
  } finally {
    fs.fsyncSync = fsync;
  }
  t.is(fs.readFileSync(file, 'utf8'), 'previous');
  t.deepEqual(fs.readdirSync(dir), ['vfs.json']);
  t.throws(() => saveSnapshot(richStore(), path.join(dir, 'no/such/dir/vfs.json')), { code: 'ENOENT' });
});

/** A valid file entry, to break one key at a time. */
const fileEntry = { path: '/f', type: 'file', perm: 0o644, uid: 0, gid: 0, atimeNs: '1', mtimeNs: '2', ctimeNs: '3', content: '' };
const rootEntry = { path: '/', type: 'dir', perm: 0o755, uid: 0, gid: 0, atimeNs: '1', mtimeNs: '2', ctimeNs: '3' };

/** Writes a snapshot file with this text; asserts that it is refused with a message matching `msg`, and left as it was. */
function refused(t: ExecutionContext, content: string, msg: string | RegExp): void {
  const file = path.join(tempDir(t), 'bad.json');
  fs.writeFileSync(file, content);
  const e = t.throws(() => loadSnapshot(file), { instanceOf: SnapshotError });
  t.true(e!.message.startsWith(`${file}: `), e!.message);
  if (typeof msg === 'string') t.true(e!.message.includes(msg), e!.message);
  else t.regex(e!.message, msg);
  t.throws(() => openPersistent(file, { onWarning: noWarning }), { instanceOf: SnapshotError });
  t.is(fs.readFileSync(file, 'utf8'), content);
}

const withEntries = (...entries: unknown[]) => JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, entries });

test('loading refuses a file that is not a snapshot of this format and version', (t) => {
  refused(t, 'not json {', /not a vview vfs snapshot \(invalid JSON: .*\); refusing to use or overwrite it/);
  refused(t, '', 'invalid JSON');
  refused(t, '[]', 'not a vview vfs snapshot (expected "format": "vview-vfs")');
  refused(t, JSON.stringify({ format: 'vview-fakeroot-state', version: 1, entries: [] }), 'expected "format": "vview-vfs"');
  refused(t, JSON.stringify({ format: SNAPSHOT_FORMAT, version: 2, entries: [] }), 'vfs snapshot version 2 is not supported');
  refused(t, JSON.stringify({ format: SNAPSHOT_FORMAT, entries: [] }), 'version undefined is not supported');
  refused(t, JSON.stringify({ format: SNAPSHOT_FORMAT, version: 1, entries: {} }), '"entries" must be a list');
  refused(t, JSON.stringify({ format: SNAPSHOT_FORMAT, version: 1, entries: [], more: 1 }), 'unknown key "more"');
});

test('loading refuses a malformed entry, naming its index and key', (t) => {
  const bad = (change: Record<string, unknown>, msg: string) =>
    refused(t, withEntries(rootEntry, { ...fileEntry, ...change }), `entries[1]: ${msg}`);
  refused(t, withEntries(rootEntry, 'x'), 'entries[1]: expected an object');
  refused(t, withEntries(rootEntry, null), 'entries[1]: expected an object');
  bad({ type: 'door' }, '"type" must be one of file, dir, symlink, fifo, socket, chr, blk');
  bad({ type: undefined }, '"type" must be one of');
  bad({ path: undefined }, '"path" must be an absolute, normalized path');
  bad({ path: 'f' }, '"path" must be an absolute, normalized path');
  bad({ path: '/a/../f' }, '"path" must be an absolute');
  bad({ path: '/f/' }, '"path" must be an absolute');
  bad({ path: '/' + 'n'.repeat(256) }, '"path" must be an absolute');
  bad({ content: 'not base64!' }, '"content" must be base64');
  bad({ content: 'aGk' }, '"content" must be base64');
  bad({ content: 5 }, '"content" must be base64');
  bad({ content: undefined }, '"content" is missing');
  bad({ uid: undefined }, '"uid" is missing');
  bad({ perm: 0o10000 }, '"perm" must be an integer from 0 to 4095');
  bad({ perm: '644' }, '"perm" must be an integer');
  bad({ gid: -1 }, '"gid" must be an integer from 0 to 4294967294');
  bad({ uid: 1.5 }, '"uid" must be an integer');
  bad({ mtimeNs: 2 }, '"mtimeNs" must be a decimal string of nanoseconds');
  bad({ atimeNs: '1e9' }, '"atimeNs" must be a decimal string');
  bad({ ctimeNs: '99999999999999999999' }, '"ctimeNs" must be a decimal string of nanoseconds (64-bit)');
  bad({ target: 'x' }, 'unknown key "target" in a file entry');
  bad({ type: 'symlink', content: undefined, target: '' }, '"target" must be a non-empty string');
  bad({ type: 'symlink', content: undefined, target: 'x' }, '"perm" of a symlink must be 511 (0777)');
  bad({ type: 'chr', content: undefined }, '"rdev" is missing');
  bad({ type: 'chr', content: undefined, rdev: -1 }, '"rdev" must be an integer');
  bad({ type: 'fifo', rdev: 1 }, 'unknown key "content" in a fifo entry');
  bad({ link: '/' }, 'unknown key "type" in a link entry');
  refused(t, withEntries(rootEntry, { path: '/f', link: 'x' }), 'entries[1]: "link" must be an absolute');
});

test('loading refuses entries that do not make a tree', (t) => {
  const file2 = { ...fileEntry, path: '/g' };
  refused(t, withEntries(rootEntry, fileEntry, fileEntry), 'entries[2]: "path": /f appears twice');
  refused(t, withEntries(rootEntry, rootEntry), 'entries[1]: "path": / appears twice');
  refused(t, withEntries({ ...rootEntry, type: 'file', content: '' }), 'entries[0]: "type": the root must be a directory');
  refused(t, withEntries({ path: '/', link: '/x' }), 'entries[0]: "type": the root must be a directory');
  refused(t, withEntries(rootEntry, { ...fileEntry, path: '/d/f' }), 'entries[1]: "path": its directory /d is not an earlier entry');
  refused(t, withEntries(rootEntry, fileEntry, { ...file2, path: '/f/g' }), 'entries[2]: "path": /f is not a directory');
  refused(t, withEntries(rootEntry, { path: '/g', link: '/f' }, fileEntry), 'entries[1]: "link": /f is not an earlier entry');
  refused(t, withEntries(rootEntry, { path: '/g', link: '/' }), 'entries[1]: "link": / is a directory');
  // Without a root entry, the root keeps its defaults.
  const file = path.join(tempDir(t), 'ok.json');
  fs.writeFileSync(file, withEntries(fileEntry, { path: '/g', link: '/f' }));
  const s = loadSnapshot(file, { uid: 9, gid: 9 })!;
  t.like(s.getattr('/'), { uid: 9, perm: 0o755 });
  t.like(s.getattr('/g'), { type: 'file', uid: 0, mtimeNs: 2n, ctimeNs: 3n });
});

test('loading refuses an unreadable snapshot (a directory)', (t) => {
  const dir = tempDir(t);
  t.throws(() => loadSnapshot(dir), { instanceOf: SnapshotError, message: new RegExp(`^${dir}: cannot read the vfs snapshot: .*EISDIR`) });
});

test('openPersistent: the initial content when the file is missing, the file afterwards', (t) => {
  const file = path.join(tempDir(t), 'state.json');
  const init = { files: { 'a/b': 'first' }, uid: 1, gid: 2, onWarning: noWarning };
  const first = openPersistent(file, init);
  t.false(first.loaded);
  t.false(fs.existsSync(file));
  t.is(text(first.store, '/a/b'), 'first');
  first.store.unlink('/a/b');
  first.store.create('/a/c', 0o600);
  first.save();
  const second = openPersistent(file, init);
  t.true(second.loaded);
  t.deepEqual(dump(second.store), dump(first.store));
  t.deepEqual(second.store.readdir('/a'), ['c']); // the initial files are not added again
});
