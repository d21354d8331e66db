/**
 * Containment: a read-only bind (`vview run --bind SRC:DST:ro`) must refuse
 * every call that changes a file, whichever syscall and spelling reaches it,
 * and the host file must stay as it was, byte for byte and in its metadata.
 *
 * The fixture (test/fixtures/xattrat_ops.c) makes each write-like call by raw
 * syscall(2): the *xattrat calls and file_setattr of Linux 6.13/6.17, the
 * classic set/remove xattr calls (path, l*, f* on a read-only fd), the chmod,
 * chown and utimensat families and truncate; each through an absolute path, a
 * path relative to a cwd in the bind, a dirfd of the bind directory, and ""
 * with AT_EMPTY_PATH on an O_PATH fd and on an O_RDONLY fd, as far as the call
 * accepts them. Queries of the same file (get/list xattrs, file_getattr) are in
 * the matrix too: they show that each spelling reaches the file.
 *
 * What the kernel answers in a real read-only bind mount is the expectation
 * (EROFS for every change: the mount is checked before permissions or
 * file-system support; EBADF where the call refuses an O_PATH fd before it
 * looks at the mount). As root it is checked against a real one
 * (unshare -m, mount --bind, mount -o remount,ro,bind).
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  IS_ROOT, NOBODY, canRunUnprivileged, compileFixture, describe, makeTempDir, native, vview,
} from './helpers.js';

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C', TZ: 'UTC', HOME: '/' };

// Decided at load time: the view's user, the fixture, and whether the file
// system under os.tmpdir() takes user.* xattrs at all (else the test is
// declared skipped, saying so).
const asUser = await canRunUnprivileged();
const BIN = await compileFixture('xattrat_ops');
const PROBE = (() => {
  const f = path.join(makeTempDir('xattr-probe-'), 'f');
  fs.writeFileSync(f, 'probe\n');
  return execFileSync(BIN, ['probe', f], { encoding: 'utf8' }).trim();
})();
const XATTRS = PROBE === 'ok';
// The matrix's calls: the *xattrat calls came in Linux 6.13, file_getattr and
// file_setattr in 6.17; an older kernel answers ENOSYS, which this matrix does
// not describe (declared skipped, saying so).
const [major, minor] = os.release().split('.').map(Number);
const KERNEL_OK = major > 6 || (major === 6 && minor >= 17);
const RUNS = XATTRS && KERNEL_OK;
const WHY = !KERNEL_OK
  ? `Linux ${os.release()} lacks file_getattr/file_setattr (6.17) or the *xattrat calls (6.13)`
  : `the file system under ${os.tmpdir()} does not take user.* extended attributes: ${PROBE}`;

/** The calls that change the file; every other call in the matrix is a query. */
const WRITES = new Set([
  'setxattrat', 'removexattrat', 'file_setattr', 'fchmodat2', 'fchownat', 'utimensat', 'fchmodat',
  'setxattr', 'lsetxattr', 'removexattr', 'lremovexattr', 'chmod', 'chown', 'lchown', 'truncate',
  'fsetxattr', 'fremovexattr', 'fchmod', 'fchown', 'futimens',
]);
/** The calls that take their fd with fdget(), which refuses an O_PATH fd (EBADF) before anything else. */
const NO_OPATH = new Set(['getxattrat', 'listxattrat', 'setxattrat', 'removexattrat', 'file_getattr', 'file_setattr']);
const SPELLINGS = ['abs', 'rel', 'dirfd', 'empty-opath', 'empty-rdonly', 'fd'];

/** The fixture's cells, in its order: the at-calls by five spellings (fchmodat has no
 * flags, so no AT_EMPTY_PATH), the path-only calls by two, the f* calls on a read-only fd. */
const AT_CALLS = ['getxattrat', 'listxattrat', 'setxattrat', 'removexattrat', 'file_getattr', 'file_setattr', 'fchmodat2', 'fchownat', 'utimensat', 'fchmodat'];
const PATH_CALLS = ['getxattr', 'listxattr', 'setxattr', 'lsetxattr', 'removexattr', 'lremovexattr', 'chmod', 'chown', 'lchown', 'truncate'];
const FD_CALLS = ['fgetxattr', 'fsetxattr', 'fremovexattr', 'fchmod', 'fchown', 'futimens'];
function matrix(): [string, string][] {
  const at = (s: string) => AT_CALLS.filter((c) => !(c === 'fchmodat' && s.startsWith('empty'))).map((c): [string, string] => [c, s]);
  const p = (s: string) => PATH_CALLS.map((c): [string, string] => [c, s]);
  return [...at('abs'), ...p('abs'), ...at('rel'), ...p('rel'), ...at('dirfd'), ...at('empty-opath'), ...at('empty-rdonly'), ...FD_CALLS.map((c): [string, string] => [c, 'fd'])];
}

/** What the kernel answers for a cell in a read-only mount. */
function expected(call: string, spelling: string): string {
  if (spelling === 'empty-opath' && NO_OPATH.has(call)) return 'EBADF';
  if (WRITES.has(call)) return 'EROFS';
  if (call.startsWith('list')) return 'has:user.keep';
  if (call === 'file_getattr') return 'ok';
  return 'kept'; // getxattr, getxattrat, fgetxattr: the value of user.keep
}

type Cell = { call: string; spelling: string; result: string };

function parse(out: string): Cell[] {
  return out
    .split('\n')
    .filter((l) => l && l !== 'done')
    .map((l) => {
      const [call, spelling, result] = l.split(' ');
      return { call, spelling, result };
    });
}

/** The matrix as a table (calls down, spellings across); a cell that is not the expected answer is marked "!". */
function table(cells: Cell[], bad: (c: Cell) => boolean): string {
  const calls = [...new Set(cells.map((c) => c.call))];
  const w = Math.max(...calls.map((c) => c.length));
  const head = ['call'.padEnd(w), ...SPELLINGS.map((s) => s.padEnd(13))].join(' ');
  const rows = calls.map((call) =>
    [call.padEnd(w), ...SPELLINGS.map((s) => {
      const c = cells.find((x) => x.call === call && x.spelling === s);
      return (c ? `${bad(c) ? '!' : ''}${c.result}` : '-').padEnd(13);
    })].join(' '));
  return [head, ...rows].join('\n');
}

/** A file f ("ro\n", 0644, fixed times) with the fixture's xattrs, owned by the view's user. */
function source(prefix: string): string {
  const dir = makeTempDir(prefix, { shared: true });
  const f = path.join(dir, 'f');
  fs.writeFileSync(f, 'ro\n', { mode: 0o644 });
  fs.chmodSync(f, 0o644);
  fs.chmodSync(dir, 0o755);
  const prep = execFileSync(BIN, ['prepare', f], { encoding: 'utf8' }).trim();
  if (prep !== 'ok') throw new Error(`xattrat_ops prepare ${f}: ${prep}`);
  if (IS_ROOT && asUser) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  fs.utimesSync(f, 1_500_000_000, 1_400_000_000);
  return dir;
}

/** Everything about the host file a change would show (size, content, mode, owner, times, xattrs, inode flags). */
async function dump(t: ExecutionContext, file: string): Promise<string> {
  const r = await native([BIN, 'dump', file], { t, env: ENV });
  t.is(r.status, 0, `xattrat_ops dump: ${describe(r)}`);
  return r.stdout;
}

/** The matrix in a real read-only bind mount (root and unshare only), or undefined. */
async function kernelReadOnly(t: ExecutionContext): Promise<string | undefined> {
  if (!IS_ROOT) return undefined;
  const src = source('xattrat-kernel-src-');
  const parent = makeTempDir('xattrat-kernel-', { shared: true });
  fs.mkdirSync(path.join(parent, 'm'));
  const priv = asUser ? `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups -- ` : '';
  const r = await native(
    ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind "${src}" m && mount -o remount,ro,bind m && ${priv}"${BIN}" ops "${parent}/m"`],
    { t, cwd: parent, env: ENV },
  );
  if (r.status !== 0 || !r.stdout.endsWith('done\n')) {
    t.log(`no real read-only bind mount here (${r.stderr.trim()}): compared with the expected answers only`);
    return undefined;
  }
  return r.stdout;
}

const title = 'read-only bind: the *xattrat calls, file_setattr and every other change are refused (EROFS) by every spelling; the host file is unchanged';
(RUNS ? test : test.skip)(
  RUNS ? title : `${title} (skipped: ${WHY})`,
  async (t) => {
    const src = source('xattrat-src-');
    const file = path.join(src, 'f');
    const before = await dump(t, file);
    const parent = makeTempDir('xattrat-view-', { shared: true });
    const viewDir = path.join(parent, 'm'); // exists only in the view
    const [r, kernel] = await Promise.all([
      vview(['run', '--bind', `${src}:${viewDir}:ro`, '--', BIN, 'ops', viewDir], { t, cwd: parent, env: ENV, unprivileged: asUser }),
      kernelReadOnly(t),
    ]);
    // Looked at first (a failing assertion ends the test): what reached the host file.
    const after = await dump(t, file);
    if (after !== before) {
      const was = new Set(before.split('\n'));
      const now = new Set(after.split('\n'));
      const lines = [...before.split('\n').filter((l) => !now.has(l)).map((l) => `- ${l}`), ...after.split('\n').filter((l) => !was.has(l)).map((l) => `+ ${l}`)];
      t.log(`the host file changed through the read-only bind:\n${lines.join('\n')}`);
    }
    const cells = parse(r.stdout);
    const bad = (c: Cell) => c.result !== expected(c.call, c.spelling);
    t.log(`the matrix in the view ("!": not the kernel's answer in a read-only mount):\n${table(cells, bad)}`);

    t.is(r.status, 0, describe(r));
    // Every call and spelling is there, in order (the fixture did not stop early).
    t.deepEqual(cells.map((c) => `${c.call} ${c.spelling}`), matrix().map(([c, s]) => `${c} ${s}`), describe(r));

    const want = matrix().map(([c, s]) => `${c} ${s} ${expected(c, s)}\n`).join('') + 'done\n';
    if (kernel !== undefined) t.is(kernel, want, 'the kernel itself answers otherwise: update expected()');
    else t.log('not root: no real read-only bind mount to compare with; compared with the expected answers');

    const wrong = cells.filter(bad).map((c) => `${c.call} ${c.spelling}: ${c.result}, expected ${expected(c.call, c.spelling)}`);
    t.deepEqual(wrong, [], `${wrong.length} cells are not the kernel's answer in a read-only mount`);
    t.is(r.stdout, kernel ?? want);

    // Nothing reached the host file: content, mode, owner, times, xattrs, flags.
    t.is(after, before, 'the host file was changed through the read-only bind');
    t.deepEqual(fs.readdirSync(src), ['f']);
  },
);
