/**
 * Containment: a module's path view holds whichever spelling of a path the
 * program uses. test/fixtures/contain_ops.c makes every write-like and
 * read-like path call (the open family, creat, chmod/chown/utimensat,
 * truncate, the xattr calls, unlink/rmdir, rename and link within and out of
 * the directory, mkdir, mknod, symlink) through each spelling: an absolute,
 * a relative and a dirfd-relative path, /proc/self/fd/DIRFD/name,
 * /proc/self/fd/N and /dev/fd/N of an open fd, an O_PATH fd reopened through
 * /proc/self/fd, /proc/self/cwd, /proc/PID/cwd, /proc/thread-self/cwd, a
 * symlink from outside, a bind alias, a renamed parent directory, and openat2
 * with each RESOLVE_* flag. Against:
 *
 *   - a read-only bind: every change is refused and the bind's source is
 *     unchanged after every cell (as root, the whole matrix is compared with
 *     the kernel's answers in a real read-only bind mount);
 *   - hidden paths (a file and a directory): nothing is read, changed or
 *     created; the hidden files are unchanged;
 *   - a vfs mount over an existing host directory: the calls work in the
 *     view, and the host directory is unchanged after every cell.
 *
 * Each test prints the matrix (ops down, spellings across) and fails on any
 * cell that reached the host. The xattrat calls and file_setattr are in
 * test/containment-xattrat.test.ts.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  IS_ROOT, NOBODY, canRunUnprivileged, compileFixture, describe, makeTempDir, native, vview, writeConfig,
} from './helpers.js';

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C', TZ: 'UTC', HOME: '/' };

const asUser = await canRunUnprivileged();
const BIN = await compileFixture('contain_ops');

const OPS = [
  'read', 'read-in', 'stat', 'access-w', 'getxattr',
  'open-w', 'open-trunc', 'open-rdwr', 'creat', 'chmod', 'chown', 'utimes', 'truncate', 'setxattr', 'removexattr',
  'unlink', 'rmdir', 'rename', 'rename-out', 'link', 'link-out', 'mkdir', 'mknod', 'symlink',
];
const QUERIES = new Set(['read', 'read-in', 'stat', 'getxattr']);
const SPELLINGS = [
  'abs', 'rel', 'dirfd', 'proc-dirfd', 'proc-fd', 'dev-fd', 'opath', 'proc-cwd', 'pid-cwd', 'thread-cwd',
  'symlink', 'alias', 'renamed', 'in-root', 'beneath', 'no-xdev', 'no-symlinks', 'no-magiclinks',
];

type Cell = { op: string; spelling: string; result: string; host: boolean };

function parse(out: string): Cell[] {
  return out
    .split('\n')
    .filter((l) => l && l !== 'done')
    .map((l) => {
      const [op, spelling, result, host] = l.split(' ');
      return { op, spelling, result, host: host === 'HOST' };
    });
}

/** The matrix as a table; a cell that reached the host is marked "!". */
function table(cells: Cell[], bad: (c: Cell) => boolean): string {
  const short = (s: string) => s.replace(/^data:/, 'd:').slice(0, 8);
  const head = ['op'.padEnd(12), ...SPELLINGS.map((s) => s.slice(0, 9).padEnd(10))].join('');
  const rows = OPS.map((op) =>
    [op.padEnd(12), ...SPELLINGS.map((s) => {
      const c = cells.find((x) => x.op === op && x.spelling === s);
      return (c ? `${bad(c) ? '!' : ''}${short(c.result)}` : '?').padEnd(10);
    })].join(''));
  return [head, ...rows].join('\n');
}

/** A directory with the fixture's layout, owned by the view's user. */
function layout(prefix: string): string {
  const dir = makeTempDir(prefix, { shared: true });
  execFileSync(BIN, ['prepare', dir]);
  if (IS_ROOT && asUser) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  fs.chmodSync(dir, 0o755);
  if (IS_ROOT && asUser) fs.chownSync(dir, NOBODY, NOBODY);
  return dir;
}

async function digest(t: ExecutionContext, dir: string): Promise<string> {
  const r = await native([BIN, 'digest', dir], { t, env: ENV });
  t.is(r.status, 0, describe(r));
  return r.stdout;
}

function check(t: ExecutionContext, what: string, stdout: string, bad: (c: Cell) => boolean): Cell[] {
  const cells = parse(stdout);
  t.log(`${what} (${cells.filter(bad).length} of ${cells.filter((c) => c.result !== '-').length} cells reached the host, "!"):\n${table(cells, bad)}`);
  t.deepEqual(
    cells.map((c) => `${c.op} ${c.spelling}`),
    OPS.flatMap((o) => SPELLINGS.map((s) => `${o} ${s}`)),
    'the fixture ran every cell',
  );
  t.true(stdout.endsWith('done\n'));
  t.deepEqual(cells.filter(bad).map((c) => `${c.op} ${c.spelling}: ${c.result}${c.host ? ' (host changed)' : ''}`), []);
  return cells;
}

/** The matrix in a real read-only bind mount (root and unshare only), or undefined. */
async function kernelReadOnly(t: ExecutionContext): Promise<string | undefined> {
  if (!IS_ROOT) return undefined;
  const src = layout('contain-kernel-src-');
  const parent = makeTempDir('contain-kernel-', { shared: true });
  const outside = makeTempDir('contain-kernel-out-', { shared: true });
  fs.mkdirSync(path.join(parent, 'm'));
  const priv = asUser ? `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups -- ` : '';
  const r = await native(
    ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
      `mount --bind "${src}" m && mount -o remount,ro,bind m && ${priv}"${BIN}" ops ro "${parent}/m" "${src}" "${outside}"`],
    { t, cwd: parent, env: ENV },
  );
  if (r.status !== 0 || !r.stdout.endsWith('done\n')) {
    t.log(`no real read-only bind mount here (${r.stderr.trim()}): not compared with the kernel`);
    return undefined;
  }
  return r.stdout;
}

test('read-only bind: no spelling of a path changes the source (/proc links, O_PATH reopen, openat2 RESOLVE_*, linkat out); the answers are the kernel\'s', async (t) => {
  const src = layout('contain-ro-src-');
  const before = await digest(t, src);
  const outside = makeTempDir('contain-ro-out-', { shared: true });
  const view = path.join(makeTempDir('contain-ro-view-', { shared: true }), 'm');
  const [r, kernel] = await Promise.all([
    vview(['run', '--bind', `${src}:${view}:ro`, '--', BIN, 'ops', 'ro', view, src, outside], { t, env: ENV, unprivileged: asUser }),
    kernelReadOnly(t),
  ]);
  t.is(r.status, 0, describe(r));
  const changes = (c: Cell) => !QUERIES.has(c.op) && c.op !== 'access-w';
  const cells = check(t, 'read-only bind', r.stdout, (c) => c.host || (changes(c) && c.result === 'ok'));
  // The spellings reach the file: the reads get its content.
  t.is(cells.find((c) => c.op === 'read' && c.spelling === 'proc-fd')?.result, 'data:orig|');
  t.is(cells.find((c) => c.op === 'read' && c.spelling === 'in-root')?.result, 'data:orig|');
  if (kernel !== undefined) t.is(r.stdout, kernel, 'a real read-only bind mount answers otherwise');
  else t.log('not root: not compared with a real read-only bind mount');
  t.is(await digest(t, src), before, 'the bind source changed');
});

test('hide: hidden paths are absent by every spelling, a bind alias of their directory and a renamed parent included; nothing is read or changed', async (t) => {
  const dir = layout('contain-hide-');
  const before = await digest(t, dir);
  const outside = makeTempDir('contain-hide-out-', { shared: true });
  const alias = path.join(makeTempDir('contain-hide-alias-', { shared: true }), 'alias');
  const config = writeConfig(`modules:\n  - hide: { paths: [${dir}/secret, ${dir}/sdir] }\n`);
  // The fixture renames the hidden paths' directory (the renamed spelling): its parent must let the view's user.
  fs.chmodSync(path.dirname(dir), 0o777);
  const r = await vview(['run', '--config', config, '--bind', `${dir}:${alias}`, '--', BIN, 'ops', 'hide', dir, '-', outside, alias],
    { t, env: ENV, unprivileged: asUser });
  t.is(r.status, 0, describe(r));
  const cells = check(t, 'hidden paths', r.stdout, (c) => c.result === 'ok' || c.result.startsWith('data:'));
  // Creating exactly a hidden name is EACCES, by the alias too.
  t.is(cells.find((c) => c.op === 'creat' && c.spelling === 'alias')?.result, 'EACCES');
  t.is(cells.find((c) => c.op === 'read' && c.spelling === 'renamed')?.result, 'ENOENT');
  t.is(await digest(t, dir), before, 'a hidden path changed');
});

test('vfs over an existing host directory: every spelling works in the view and the host directory is never changed', async (t) => {
  const host = layout('contain-vfs-');
  const before = await digest(t, host);
  const outside = makeTempDir('contain-vfs-out-', { shared: true });
  const witness = path.join(makeTempDir('contain-vfs-w-', { shared: true }), 'witness');
  const r = await vview(['run', '--mount', `${host}=memfs`, '--bind', `${host}:${witness}`, '--', BIN, 'ops', 'vfs', host, witness, outside],
    { t, env: ENV, unprivileged: asUser });
  t.is(r.status, 0, describe(r));
  t.notRegex(r.stderr, /write-back .* failed/, describe(r));
  const cells = check(t, 'vfs over a host directory', r.stdout, (c) => c.host);
  // The calls reached the view's tree.
  for (const s of ['abs', 'proc-fd', 'opath', 'proc-cwd', 'in-root']) t.is(cells.find((c) => c.op === 'open-w' && c.spelling === s)?.result, 'ok', s);
  t.is(cells.find((c) => c.op === 'read' && c.spelling === 'thread-cwd')?.result, 'data:orig|');
  t.is(await digest(t, host), before, 'the host directory changed');
});
