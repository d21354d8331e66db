/**
 * Issue 3, acceptance: exact syscall behaviour under a mount, memfs and bind.
 * The C fixture test/fixtures/vfs_ops.c runs one group of calls (open, stat,
 * dirops, attr, cwd, share, xdev) in PARENT/m: in the view, where m is the
 * mount (it does not exist on the host), and natively, where m is a real
 * directory. Its cwd is PARENT, a real directory holding a file "sibling", so
 * `..` at the mount point and paths leaving the mount are exercised. The two
 * outputs must be the same once PARENT is replaced by $P.
 *
 * xdev (rename/link across the mount boundary) cannot be compared with a
 * plain directory: it is compared with what the kernel answers for a real
 * mount (tmpfs or a bind mount, made with unshare when the suite runs as
 * root), and asserted against that answer (EXDEV, EBUSY) everywhere.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { IS_ROOT, NOBODY, canRunUnprivileged, compileFixture, describe, makeTempDir, native, replaceAll, vview } from './helpers.js';

type Kind = 'memfs' | 'bind';

let asUser = false;
test.before(async () => {
  asUser = await canRunUnprivileged();
});

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC', HOME: '/' };

function giveToUser(p: string, user: boolean): void {
  if (IS_ROOT && user) execFileSync('chown', ['-R', '-h', `${NOBODY}:${NOBODY}`, p]);
}

/** A real parent directory holding "sibling". */
function parentDir(prefix: string, user: boolean): string {
  const p = makeTempDir(prefix, { shared: true });
  fs.writeFileSync(path.join(p, 'sibling'), 'sibling\n', { mode: 0o644 });
  giveToUser(p, user);
  return p;
}

interface Side {
  stdout: string;
  status: number;
}

/** vfs_ops GROUP m, in the view: PARENT/m is a memfs mount or a bind of a fresh directory. */
async function inView(t: ExecutionContext, kind: Kind, group: string, user: boolean): Promise<Side & { parent: string; src?: string }> {
  const bin = await compileFixture('vfs_ops');
  const parent = parentDir('sc-view-', user);
  let flags: string[];
  let src: string | undefined;
  if (kind === 'memfs') flags = ['--mount', `${parent}/m=memfs`];
  else {
    src = makeTempDir('sc-src-', { shared: true });
    giveToUser(src, user);
    flags = ['--bind', `${src}:${parent}/m`];
  }
  const r = await vview(['run', ...flags, '--', bin, group, 'm'], { t, cwd: parent, env: ENV, unprivileged: user, timeout: 100_000 });
  t.deepEqual(r.leftovers, []);
  if (r.stderr) t.log(`vview stderr: ${r.stderr.slice(0, 2000)}`);
  return { stdout: replaceAll(r.stdout, { [parent]: '$P' }), status: r.status, parent, src };
}

/** The same natively: PARENT/m a real directory (mode 0777, like a shared mount root). */
async function natively(t: ExecutionContext, group: string, user: boolean): Promise<Side> {
  const bin = await compileFixture('vfs_ops');
  const parent = parentDir('sc-native-', user);
  fs.mkdirSync(path.join(parent, 'm'), { mode: 0o777 });
  fs.chmodSync(path.join(parent, 'm'), 0o777);
  giveToUser(parent, user);
  const r = await native([bin, group, 'm'], { t, cwd: parent, env: ENV, unprivileged: user, timeout: 100_000 });
  return { stdout: replaceAll(r.stdout, { [parent]: '$P' }), status: r.status };
}

/** Splits off the informational "# " lines. */
function split(out: string): { main: string; info: string[] } {
  const lines = out.split('\n');
  return { main: lines.filter((l) => !l.startsWith('# ')).join('\n'), info: lines.filter((l) => l.startsWith('# ')) };
}

const GROUPS: { group: string; what: string }[] = [
  { group: 'open', what: 'open/openat/openat2/creat: O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_*, O_TMPFILE' },
  { group: 'stat', what: 'stat/lstat/fstat/newfstatat(AT_EMPTY_PATH)/statx on paths and fds agree' },
  { group: 'dirops', what: 'mkdir(at), mknod(at) fifo, unlink(at), rmdir, rename(at/at2: NOREPLACE, EXCHANGE), link(at), symlink(at), readlink(at), getdents64' },
  { group: 'attr', what: 'chmod/fchmod(at)/fchmodat2, chown family, truncate/ftruncate, utimensat/futimens/utimes, access/faccessat/faccessat2, statfs' },
  { group: 'xattr', what: 'user.* extended attributes: set/get/list/remove through paths, fds and symlinks' },
  { group: 'cwd', what: 'chdir/fchdir + getcwd and /proc/self/cwd, /proc/self/fd/N, .. at the mount point' },
  { group: 'share', what: 'fork, SCM_RIGHTS, mmap shared, fcntl/OFD/flock locks, sendfile, copy_file_range, unlink while open' },
];

for (const kind of ['memfs', 'bind'] as Kind[]) {
  for (const { group, what } of GROUPS) {
    for (const root of [false, true]) {
      // As the unprivileged user always (when possible); as root too for the groups where permissions matter.
      if (root && !(IS_ROOT && ['open', 'attr', 'dirops'].includes(group))) continue;
      test(`${kind} syscalls${root ? ' as root' : ''}: ${what}`, async (t) => {
        const user = root ? false : asUser;
        const [v, n] = await Promise.all([inView(t, kind, group, user), natively(t, group, user)]);
        t.is(n.status, 0, `the native run failed (the test is wrong): ${n.stdout.slice(-500)}`);
        t.regex(n.stdout, /\ndone\n$/);
        const vs = split(v.stdout);
        const ns = split(n.stdout);
        t.is(vs.main, ns.main);
        t.is(v.status, 0, v.stdout.slice(-500));
        if (group === 'open') {
          // O_TMPFILE: supported (then it works like the kernel's) or EOPNOTSUPP.
          t.log(`O_TMPFILE in the view: ${vs.info.join('; ')}`);
          const first = vs.info[0] ?? '';
          t.regex(first, /^# tmpfile: (ok|EOPNOTSUPP)$/, vs.info.join('\n'));
          if (first === '# tmpfile: ok') t.deepEqual(vs.info, ns.info);
          else t.deepEqual(vs.info, ['# tmpfile: EOPNOTSUPP', '# tmpfile O_EXCL: EOPNOTSUPP']);
        }
        if (kind === 'bind' && v.src) {
          // The bind's host directory holds the group's leftovers; no stray names of the view's own.
          const names = fs.readdirSync(v.src);
          t.deepEqual(names, [group], `bind source: ${names.join(' ')}`);
        }
      });
    }
  }
}

// ---- across the mount boundary ----

/** What the kernel answers for the xdev group (checked against a real mount when possible). */
const XDEV_EXPECTED = [
  'rename mount file -> real dir: EXDEV',
  'rename real file -> mount: EXDEV',
  'rename mount dir -> real dir: EXDEV',
  'rename real dir -> mount: EXDEV',
  'renameat2 NOREPLACE mount -> real: EXDEV',
  'renameat2 EXCHANGE mount <-> real: EXDEV',
  'link mount file -> real dir: EXDEV',
  'link real file -> mount: EXDEV',
  'linkat AT_SYMLINK_FOLLOW mount -> real: EXDEV',
  'renameat(mountfd, xdev/file, realfd, x): EXDEV',
  'renameat(realfd, outside-file, mountfd, xdev/x): EXDEV',
  'linkat(mountfd, xdev/file, realfd, x): EXDEV',
  'linkat(fd, "", AT_EMPTY_PATH) mount -> real: EXDEV',
  'rename via a symlink into the mount -> real: EXDEV',
  'rename inside the mount (absolute-ish spelling): ok',
  'rename inside back: ok',
  'link inside the mount: ok',
  'unlink inside: ok',
  'rmdir the mount point: EBUSY',
  'rename the mount point: EBUSY',
  'unlink the mount point: EISDIR',
  'mkdir the mount point: EEXIST',
  'content m/xdev/file: inside',
  'content outside-file: outside',
  'stat moved-out: ENOENT',
  'stat linked-out: ENOENT',
  'done',
  '',
].join('\n');

/** The xdev group in a real mount (tmpfs for memfs, a bind mount for bind), or undefined. */
async function kernelXdev(t: ExecutionContext, kind: Kind, user: boolean): Promise<string | undefined> {
  if (!IS_ROOT) return undefined;
  const bin = await compileFixture('vfs_ops');
  const parent = parentDir('sc-kernel-', user);
  fs.mkdirSync(path.join(parent, 'm'));
  const src = makeTempDir('sc-kernel-src-', { shared: true });
  giveToUser(src, user);
  const mount = kind === 'memfs' ? `mount -t tmpfs -o mode=0777 vview-test m` : `mount --bind "${src}" m`;
  const priv = user ? `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups -- ` : '';
  const r = await native(['unshare', '-m', '--propagation', 'private', 'sh', '-c', `${mount} && ${priv}"${bin}" xdev m`], { t, cwd: parent, env: ENV });
  if (r.status !== 0 || !r.stdout.endsWith('done\n')) {
    t.log(`no real mount here (${r.stderr.trim()}): compared with the expected answers only`);
    return undefined;
  }
  return replaceAll(r.stdout, { [parent]: '$P' });
}

for (const kind of ['memfs', 'bind'] as Kind[]) {
  test(`${kind} syscalls: rename and link across the mount boundary are EXDEV; the mount point is busy`, async (t) => {
    const user = asUser;
    const [v, k] = await Promise.all([inView(t, kind, 'xdev', user), kernelXdev(t, kind, user)]);
    if (k !== undefined) t.is(k, XDEV_EXPECTED, 'the kernel answers otherwise: update XDEV_EXPECTED');
    t.is(v.stdout, k ?? XDEV_EXPECTED);
    t.is(v.status, 0);
  });
}

test('memfs syscalls: two memfs mounts: rename and link between them are EXDEV, mv copies', async (t) => {
  const parent = parentDir('sc-two-', asUser);
  const py = [
    'import os',
    'def tryit(name, f, *a):',
    '    try:',
    '        f(*a); print(name, *a, "ok")',
    '    except OSError as e:',
    '        print(name, *a, os.strerror(e.errno))',
    'tryit("rename", os.rename, "m1/a", "m2/a")',
    'tryit("link", os.link, "m1/a", "m2/l")',
    'tryit("rename", os.rename, "m1/a", "m1/b")',
  ].join('\n');
  const script = ['cd "$0" && echo a > m1/a && mkdir m2/d', `python3 -c '${py}'`, 'mv m1/b m2/ && echo "mv ok"', 'ls m1 m2', 'cat m2/b'].join('\n');
  const r = await vview(['run', '--mount', `${parent}/m1=memfs`, '--mount', `${parent}/m2=memfs`, '--', 'sh', '-c', script, parent], {
    t, env: ENV, unprivileged: asUser,
  });
  // What the kernel answers with two tmpfs mounts.
  t.is(
    r.stdout,
    'rename m1/a m2/a Invalid cross-device link\nlink m1/a m2/l Invalid cross-device link\nrename m1/a m1/b ok\nmv ok\nm1:\n\nm2:\nb\nd\na\n',
    describe(r),
  );
});

// Not implemented (README, vfs limitations): a memfs mount shows the st_dev of the file system holding vview's scratch copy.
test.failing('memfs syscalls: each memfs mount has an st_dev of its own, shared by its files (find -xdev, du -x)', async (t) => {
  const parent = parentDir('sc-dev-', asUser);
  const script = [
    'cd "$0" && echo a > m1/a && echo b > m2/b',
    'test "$(stat -c %d m1)" != "$(stat -c %d .)" && echo "m1 has its own st_dev"',
    'test "$(stat -c %d m1)" != "$(stat -c %d m2)" && echo "m1 and m2 differ"',
    'test "$(stat -c %d m2/b)" = "$(stat -c %d m2)" && echo "files have their mount\'s st_dev"',
    'find . -xdev | LC_ALL=C sort',
  ].join('\n');
  const r = await vview(['run', '--mount', `${parent}/m1=memfs`, '--mount', `${parent}/m2=memfs`, '--', 'sh', '-c', script, parent], {
    t, env: ENV, unprivileged: asUser,
  });
  // As with two tmpfs mounts: find -xdev lists the mount points but does not descend.
  t.is(r.stdout, "m1 has its own st_dev\nm1 and m2 differ\nfiles have their mount's st_dev\n.\n./m1\n./m2\n./sibling\n", describe(r));
});
