/**
 * Routing to modules, checked with C fixtures for exact syscall results:
 * hide (every spelling of a hidden path, listings, creation, changes made
 * during the run, cwd), uname, bad pointers, --trace/--stats, and module files
 * (a throwing handler, an async handler, forward/rewrite, a TypeScript module,
 * close()).
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, compileFixture, describe, makeTempDir, native, startVview, vview, vviewRun, writeConfig, type RunResult,
} from './helpers.js';

// ---- the hidden tree -----------------------------------------------------------

interface Tree {
  d: string;
  config: string;
}

/**
 * d/secret (hidden file)        d/secretive (visible: a name with the same prefix)
 * d/dir/hidden/file (hidden dir) d/dir/visible2   d/visible   d/vdir/file
 * d/link -> secret   d/dlink -> dir   d/sw -> vdir
 * d/secret-binary (hidden, executable)   d/bindir/hiddencmd (hidden, executable)
 */
function makeTree(opts: { shared?: boolean } = {}): Tree {
  const d = makeTempDir('tree-', opts);
  const w = (p: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(d, p)), { recursive: true });
    fs.writeFileSync(path.join(d, p), text, { mode });
  };
  w('secret', 's3cret\n');
  w('secretive', 'not hidden\n');
  w('visible', 'visible\n');
  w('dir/hidden/file', 'hidden file\n');
  w('dir/visible2', 'visible2\n');
  w('vdir/file', 'vdir file\n');
  w('secret-binary', '#!/bin/sh\necho ran-secret-binary\n', 0o755);
  w('bindir/hiddencmd', '#!/bin/sh\necho ran-hiddencmd\n', 0o755);
  fs.symlinkSync('secret', path.join(d, 'link'));
  fs.symlinkSync('dir', path.join(d, 'dlink'));
  fs.symlinkSync('vdir', path.join(d, 'sw'));
  const config = writeConfig(
    [
      'modules:',
      '  - hide:',
      '      paths:',
      `        - ${d}/secret`,
      `        - ${d}/dir/hidden`,
      `        - ${d}/secret-binary`,
      `        - ${d}/bindir/hiddencmd`,
      '',
    ].join('\n'),
  );
  return { d, config };
}

type Case = [op: string, path: string];

function pathcheckArgs(cases: Case[], dirfd?: string): string[] {
  return [...(dirfd ? ['-d', dirfd] : []), ...cases.flat()];
}

/** "op path" -> result, from pathcheck's output. */
function parse(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 2));
  }
  return m;
}

async function pathcheck(t: ExecutionContext, tree: Tree, cases: Case[], where: 'native' | 'view', cwd = tree.d): Promise<Map<string, string>> {
  const bin = await compileFixture('pathcheck');
  const args = [bin, ...pathcheckArgs(cases, tree.d)];
  const r = where === 'native' ? await native(args, { t, cwd }) : await vviewRun(args, { t, cwd, config: tree.config });
  t.is(r.status, 0, `pathcheck (${where}): ${describe(r)}`);
  const m = parse(r.stdout);
  t.is(m.size, new Set(cases.map(([op, p]) => `${op} ${p}`)).size, `pathcheck (${where}) printed ${r.stdout}`);
  return m;
}

function checkExpectations(t: ExecutionContext, got: Map<string, string>, expected: [Case, string][]): void {
  const bad: string[] = [];
  for (const [[op, p], want] of expected) {
    const have = got.get(`${op} ${p}`);
    if (have !== want) bad.push(`${op} ${p}: expected ${want}, got ${have}`);
  }
  t.deepEqual(bad, [], 'results in the view');
}

/** Runs the cases in order in the view (cwd: the tree) and compares line by line. */
async function checkInOrder(t: ExecutionContext, tree: Tree, expected: [Case, string][]): Promise<void> {
  const bin = await compileFixture('pathcheck');
  const v = await vviewRun([bin, ...pathcheckArgs(expected.map(([c]) => c), tree.d)], { t, cwd: tree.d, config: tree.config });
  t.is(v.status, 0, describe(v));
  t.deepEqual(
    v.stdout.split('\n').filter(Boolean),
    expected.map(([[op, p], r]) => `${op} ${p}: ${r}`),
  );
}

// ---- hide ----------------------------------------------------------------------

test('hide: every spelling of a hidden path is ENOENT; visible paths behave as natively', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  // Hidden: ENOENT in the view. "exists" marks those that work natively (so the
  // ENOENT comes from the view, not from a wrong test).
  const hidden: [Case, boolean][] = [
    [['stat', `${d}/secret`], true],
    [['stat', 'secret'], true],
    [['stat', './secret'], true],
    [['stat', 'dir/../secret'], true],
    [['stat', `${d}/dir/../secret`], true],
    [['stat', `${d}/./secret`], true],
    [['stat', `${d}//secret`], true],
    [['stat', `${d}/link`], true],
    [['open', `${d}/link`], true],
    [['open', `${d}/secret`], true],
    [['open', 'secret'], true],
    [['lstat', `${d}/secret`], true],
    [['stat', `${d}/dlink/hidden/file`], true],
    [['stat', `${d}/dlink/hidden`], true],
    [['stat', `${d}/dir/hidden`], true],
    [['stat', `${d}/dir/hidden/`], true],
    [['stat', `${d}/dir/hidden/file`], true],
    [['stat', `${d}/dir/hidden/../visible2`], true],
    [['openat', 'secret'], true],
    [['openat', 'dir/hidden/file'], true],
    [['openat', './dlink/hidden/file'], true],
    [['fstatat_nf', 'secret'], true],
    [['fstatat_nf', 'dir/hidden'], true],
    [['statx', 'secret'], true],
    [['statx', 'link'], true],
    [['access', `${d}/secret`], true],
    [['access', `${d}/dir/hidden/file`], true],
    [['opendir', `${d}/dir/hidden`], true],
    [['stat', '/proc/self/cwd/secret'], true],
    [['stat', '/proc/self/fd/{dirfd}/secret'], true],
    [['stat', '/dev/fd/{dirfd}/dir/hidden'], true],
    [['stat', `/proc/self/root${d}/secret`], true],
    [['exec', `${d}/secret-binary`], true],
    [['readlink', `${d}/dir/hidden`], false], // natively EINVAL (not a link)
    [['stat', `${d}/secret/`], false], // natively ENOTDIR
    [['stat', `${d}/hchain40`], true], // 40 symlinks (the kernel's limit) to the hidden file
  ];
  // Visible: exactly the native result.
  const visible: Case[] = [
    ['stat', `${d}/secretive`],
    ['stat', `${d}/visible`],
    ['open', 'visible'],
    ['lstat', `${d}/link`],
    ['readlink', `${d}/link`],
    ['fstatat_nf', 'link'],
    ['lstat', `${d}/dlink`],
    ['stat', `${d}/dlink`],
    ['stat', `${d}/dlink/visible2`],
    ['openat', 'dir/visible2'],
    ['stat', `${d}/dir`],
    ['stat', `${d}/sw/file`],
    ['access', `${d}/dir`],
    ['stat', `${d}/dir/hiddenx`],
    ['stat', `${d}/nonexistent`],
    ['exec', '/bin/true'],
    ['exec', `${d}/visible`],
    ['stat', `${d}/loop`],
    ['open', `${d}/loop/x`],
    ['stat', `${d}/${'a/'.repeat(2100)}x`],
    ['stat', `${d}/chain40`],
    ['stat', `${d}/chain41`],
  ];
  // Symlink loops and chains: loop -> loop; chainN -> ... (N links) -> visible / secret.
  fs.symlinkSync('loop', path.join(d, 'loop'));
  const chain = (name: string, n: number, target: string) => {
    let prev = target;
    for (let i = n - 1; i >= 1; i--) {
      fs.symlinkSync(prev, path.join(d, `${name}-${i}`));
      prev = `${name}-${i}`;
    }
    fs.symlinkSync(prev, path.join(d, name));
  };
  chain('chain40', 40, 'visible');
  chain('chain41', 41, 'visible');
  chain('hchain40', 40, 'secret');
  const cases: Case[] = [...hidden.map(([c]) => c), ...visible];
  const n = await pathcheck(t, tree, cases, 'native');
  const v = await pathcheck(t, tree, cases, 'view');
  for (const [[op, p], exists] of hidden) if (exists) t.is(n.get(`${op} ${p}`), 'OK', `natively ${op} ${p} works`);
  checkExpectations(t, v, [
    ...hidden.map(([c]): [Case, string] => [c, 'ENOENT']),
    ...visible.map((c): [Case, string] => [c, n.get(`${c[0]} ${c[1]}`)!]),
  ]);
  t.is(v.get(`readlink ${d}/link`), 'OK secret');
  t.is(n.get(`stat ${d}/loop`), 'ELOOP');
  t.is(n.get(`stat ${d}/chain40`), 'OK');
  t.is(n.get(`stat ${d}/chain41`), 'ELOOP');
});

test('hide: listings lose exactly the hidden names (readdir and one-entry getdents64)', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const cases: Case[] = [
    ['list', d],
    ['list1', d],
    ['list', `${d}/dir`],
    ['list1', `${d}/dir`],
    ['list', `${d}/dlink`],
    ['list', `${d}/vdir`],
  ];
  const n = await pathcheck(t, tree, cases, 'native');
  const v = await pathcheck(t, tree, cases, 'view');
  const names = (s: string | undefined) => (s ?? '').replace(/^OK \[|\]$/g, '').split(',');
  const without = (s: string | undefined, drop: string[]) => names(s).filter((x) => !drop.includes(x));
  t.true(names(n.get(`list ${d}`)).includes('secret'));
  t.true(names(n.get(`list ${d}/dir`)).includes('hidden'));
  for (const op of ['list', 'list1']) {
    t.deepEqual(names(v.get(`${op} ${d}`)), without(n.get(`${op} ${d}`), ['secret', 'secret-binary']), `${op} ${d}`);
    t.deepEqual(names(v.get(`${op} ${d}/dir`)), without(n.get(`${op} ${d}/dir`), ['hidden']), `${op} ${d}/dir`);
  }
  t.deepEqual(names(v.get(`list ${d}/dlink`)), without(n.get(`list ${d}/dlink`), ['hidden']), 'listing through the symlink');
  t.deepEqual(names(v.get(`list ${d}/vdir`)), names(n.get(`list ${d}/vdir`)));
  // The same through ls.
  const ln = await native(['ls', '-a', d], { t });
  const lv = await vviewRun(['ls', '-a', d], { t, config: tree.config });
  t.deepEqual(lv.stdout.split('\n'), ln.stdout.split('\n').filter((x) => x !== 'secret' && x !== 'secret-binary'), describe(lv));
});

test('hide: creating a hidden name is EACCES; nothing hidden can be changed', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const expected: [Case, string][] = [
    [['creat_excl', `${d}/secret`], 'EACCES'],
    [['creat', `${d}/secret`], 'EACCES'],
    [['mkdir', `${d}/dir/hidden`], 'EACCES'],
    [['mkdir', `${d}/dir/hidden/sub`], 'ENOENT'],
    [['creat_excl', `${d}/dir/hidden/new`], 'ENOENT'],
    [['unlink', `${d}/secret`], 'ENOENT'],
    [['unlink', `${d}/dir/hidden/file`], 'ENOENT'],
    [['rename', `${d}/secret=>${d}/stolen`], 'ENOENT'],
    [['rename', `${d}/dir/visible2=>${d}/dir/hidden/x`], 'ENOENT'],
    [['rename', `${d}/visible=>${d}/secret`], 'EACCES'],
    [['symlink', `visible=>${d}/secret`], 'EACCES'],
    [['creat_excl', `${d}/newfile`], 'OK'],
    [['mkdir', `${d}/newdir`], 'OK'],
  ];
  const v = await pathcheck(t, tree, expected.map(([c]) => c), 'view');
  checkExpectations(t, v, expected);
  // The host is untouched.
  t.is(fs.readFileSync(path.join(d, 'secret'), 'utf8'), 's3cret\n');
  t.is(fs.readFileSync(path.join(d, 'dir/hidden/file'), 'utf8'), 'hidden file\n');
  t.is(fs.readFileSync(path.join(d, 'visible'), 'utf8'), 'visible\n');
  t.is(fs.readFileSync(path.join(d, 'dir/visible2'), 'utf8'), 'visible2\n');
  t.false(fs.existsSync(path.join(d, 'stolen')));
  t.deepEqual(fs.readdirSync(path.join(d, 'dir/hidden')), ['file']);
});

test('hide: symlinks and renames made during the run are seen at once', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const expected: [Case, string][] = [
    [['stat', `${d}/sw/file`], 'OK'],
    [['stat', `${d}/newlink/file`], 'ENOENT'],
    // sw now leads to the hidden directory.
    [['unlink', `${d}/sw`], 'OK'],
    [['symlink', `dir/hidden=>${d}/sw`], 'OK'],
    [['stat', `${d}/sw/file`], 'ENOENT'],
    [['open', `${d}/sw/file`], 'ENOENT'],
    // A new symlink to the hidden file.
    [['symlink', `dir/hidden=>${d}/newlink`], 'OK'],
    [['stat', `${d}/newlink/file`], 'ENOENT'],
    [['symlink', `${d}/secret=>${d}/abslink`], 'OK'],
    [['open', `${d}/abslink`], 'ENOENT'],
    [['lstat', `${d}/abslink`], 'OK'],
    // A visible directory moved: old spelling gone, new one works.
    [['stat', `${d}/vdir/file`], 'OK'],
    [['rename', `${d}/vdir=>${d}/vdir2`], 'OK'],
    [['stat', `${d}/vdir2/file`], 'OK'],
    [['stat', `${d}/vdir/file`], 'ENOENT'],
    // dlink retargeted away from dir: dlink/hidden is now a visible path.
    [['stat', `${d}/dlink/hidden`], 'ENOENT'],
    [['unlink', `${d}/dlink`], 'OK'],
    [['symlink', `vdir2=>${d}/dlink`], 'OK'],
    [['stat', `${d}/dlink/file`], 'OK'],
  ];
  await checkInOrder(t, tree, expected);
});

test('hide: relative paths follow chdir, also from another thread', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const expected: [Case, string][] = [
    [['chdir', `${d}/dir`], 'OK'],
    [['stat', 'hidden'], 'ENOENT'],
    [['stat', 'hidden/file'], 'ENOENT'],
    [['stat', '../secret'], 'ENOENT'],
    [['stat', 'visible2'], 'OK'],
    [['stat', '../visible'], 'OK'],
    [['tchdir', d], 'OK'],
    [['stat', 'secret'], 'ENOENT'],
    [['stat', 'visible'], 'OK'],
    [['stat', 'dir/hidden'], 'ENOENT'],
    [['chdir', `${d}/dir/hidden`], 'ENOENT'],
    [['stat', 'secret'], 'ENOENT'],
    [['chdir', `${d}/dlink`], 'OK'],
    [['stat', 'hidden'], 'ENOENT'],
    [['stat', '../secret'], 'ENOENT'],
    [['stat', '../secretive'], 'OK'],
    [['tchdir', `${d}/vdir`], 'OK'],
    [['stat', 'file'], 'OK'],
    [['stat', '../secret'], 'ENOENT'],
  ];
  await checkInOrder(t, tree, expected);
});

test('hide: the command started with its cwd inside a hidden directory', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const v = await vviewRun(['sh', '-c', 'cat file; cat ../visible2; ls'], { t, config: tree.config, cwd: `${d}/dir/hidden` });
  t.false(v.stdout.includes('hidden file'), describe(v));
  t.regex(v.stderr, /cat: file: No such file or directory/);
  t.false(v.stdout.includes('file\n'), `ls listed the hidden directory: ${describe(v)}`);
});

test('hide: a hidden command is not found (127), by path and through PATH', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const n = await native([`${d}/secret-binary`], { t });
  t.is(n.stdout, 'ran-secret-binary\n');
  const v = await vviewRun([`${d}/secret-binary`], { t, config: tree.config });
  t.is(v.status, 127, describe(v));
  t.regex(v.stderr, /command not found/);
  t.is(v.stdout, '');
  const env = { ...process.env, PATH: `${d}/bindir:${process.env.PATH}` };
  const v2 = await vviewRun(['hiddencmd'], { t, config: tree.config, env });
  t.is(v2.status, 127, describe(v2));
  t.regex(v2.stderr, /hiddencmd: command not found/);
  // A shell inside the view does not find it either.
  const v3 = await vviewRun(['sh', '-c', 'hiddencmd'], { t, config: tree.config, env });
  t.is(v3.status, 127, describe(v3));
});

test('hide: coreutils see nothing (cat, ls, test -e) and the hidden content never leaks', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const cmd = ['sh', '-c', `cat ${d}/secret ${d}/link ${d}/dlink/hidden/file; test -e ${d}/secret && echo exists; grep -r s3cret ${d}; echo rc=$?`];
  const v = await vviewRun(cmd, { t, config: tree.config });
  t.false(v.stdout.includes('s3cret'), describe(v));
  t.false(v.stdout.includes('hidden file'), describe(v));
  t.false(v.stdout.includes('exists'));
  t.regex(v.stdout, /rc=1\n$/);
  t.regex(v.stderr, new RegExp(`cat: ${d}/secret: No such file or directory`));
});

test('views with modules refuse i386 (int 0x80) and x32 syscalls with ENOSYS; the empty view does not', async (t) => {
  const tree = makeTree();
  const bin = await compileFixture('compat');
  const n = await native([bin, `${tree.d}/secret`], { t });
  t.is(n.status, 0, describe(n));
  // The empty view: exactly native.
  const e = await vviewRun([bin, `${tree.d}/secret`], { t });
  t.is(e.stdout, n.stdout, describe(e));
  // With a path module, the i386 open cannot reach the hidden file.
  const v = await vviewRun([bin, `${tree.d}/secret`], { t, config: tree.config });
  t.is(v.stdout, 'i386 getpid: ENOSYS\ni386 open: ENOSYS\nx32 getpid: ENOSYS\n', describe(v));
  t.false(v.stdout.includes('s3cret'));
  const u = await vviewRun([bin], { t, config: writeConfig('modules:\n  - uname: { nodename: x }\n') });
  t.is(u.stdout, 'i386 getpid: ENOSYS\nx32 getpid: ENOSYS\n', describe(u));
});

test('views with a path module refuse chroot with EPERM, reported once on stderr', async (t) => {
  const tree = makeTree();
  const cmd = ['sh', '-c', 'chroot / /bin/true; echo rc=$?; chroot / /bin/true; echo rc=$?'];
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t, config: tree.config });
  t.regex(v.stdout, /^rc=(?!0)\d+\nrc=(?!0)\d+\n$/, describe(v));
  t.regex(v.stderr, /Operation not permitted/);
  t.is(v.stderr.split('\n').filter((l) => /^vview:.*chroot/.test(l)).length, 1, v.stderr);
  // Without a path module, chroot behaves as natively.
  const e = await vviewRun(cmd, { t });
  t.is(e.stdout, n.stdout, describe(e));
});

// ---- uname ---------------------------------------------------------------------

test('uname: configured fields are seen by uname, hostname, a static binary, python; others are the host\'s', async (t) => {
  const config = writeConfig('modules:\n  - uname: { nodename: sandbox-node, release: 6.0.0-view }\n');
  const run = (cmd: string[]) => vviewRun(cmd, { t, config });
  t.is((await run(['uname', '-n'])).stdout, 'sandbox-node\n');
  t.is((await run(['uname', '-r'])).stdout, '6.0.0-view\n');
  t.is((await run(['hostname'])).stdout, 'sandbox-node\n');
  for (const flag of ['-m', '-s', '-v']) {
    const n = await native(['uname', flag], { t });
    const v = await run(['uname', flag]);
    t.is(v.stdout, n.stdout, `uname ${flag}: ${describe(v)}`);
  }
  const py = await run(['python3', '-c', 'import os, socket; print(os.uname().nodename, socket.gethostname(), os.uname().release)']);
  t.is(py.stdout, 'sandbox-node sandbox-node 6.0.0-view\n', describe(py));
  // In a grandchild too.
  t.is((await run(['sh', '-c', 'sh -c "uname -n"'])).stdout, 'sandbox-node\n');
  const bin = await compileFixture('static_info', { static: true });
  const s = await run([bin, 'uname']);
  const sn = await native([bin, 'uname'], { t });
  t.regex(s.stdout, /nodename sandbox-node\nrelease 6\.0\.0-view\n/, describe(s));
  t.is(s.stdout.match(/machine .*/)?.[0], sn.stdout.match(/machine .*/)?.[0]);
});

test('bad pointers: EFAULT like the kernel (uname module, hide module)', async (t) => {
  const bin = await compileFixture('badptr');
  const unameCfg = writeConfig('modules:\n  - uname: { nodename: sandbox-node }\n');
  const hideCfg = writeConfig(`modules:\n  - hide: { paths: [${makeTempDir('bp-')}/x] }\n`);
  const modes = ['uname', 'uname-null', 'openat', 'stat'];
  const n = await native([bin, ...modes], { t });
  t.is(n.stdout, 'uname: EFAULT\nuname-null: EFAULT\nopenat: EFAULT\nstat: EFAULT\n');
  for (const config of [unameCfg, hideCfg]) {
    const v = await vviewRun([bin, ...modes], { t, config });
    t.is(v.stdout, n.stdout, describe(v));
    t.is(v.status, 0);
  }
});

test('uname module: a read-only buffer gives EFAULT and stays unchanged, like the kernel', async (t) => {
  const bin = await compileFixture('badptr');
  const config = writeConfig('modules:\n  - uname: { nodename: sandbox-node }\n');
  const n = await native([bin, 'uname-ro'], { t });
  t.is(n.stdout, 'uname-ro: EFAULT\nuname-ro buffer first byte: 0\n');
  const v = await vviewRun([bin, 'uname-ro'], { t, config });
  t.is(v.stdout, n.stdout, describe(v));
});

// ---- --trace, --stats ----------------------------------------------------------

test('--trace prints the routed call with path, errno and module; --trace=FILE writes it there', async (t) => {
  const tree = makeTree();
  const d = tree.d;
  const n = await native(['cat', `${d}/nonexistent`], { t });
  const v = await vviewRun(['cat', `${d}/secret`], { t, config: tree.config, flags: ['--trace'] });
  t.is(v.status, n.status, describe(v));
  t.is(v.stdout, '');
  const line = v.stderr.split('\n').find((l) => l.includes('openat(') && l.includes(`${d}/secret`));
  t.truthy(line, `no openat line for ${d}/secret in: ${v.stderr}`);
  t.regex(line ?? '', /ENOENT/);
  t.regex(line ?? '', /<hide>/);
  t.regex(v.stderr, /No such file or directory/);

  const traceFile = path.join(makeTempDir('trace-'), 'trace.txt');
  const v2 = await vviewRun(['cat', `${d}/secret`], { t, config: tree.config, flags: [`--trace=${traceFile}`] });
  t.is(v2.status, n.status);
  const text = fs.readFileSync(traceFile, 'utf8');
  const line2 = text.split('\n').find((l) => l.includes('openat(') && l.includes(`${d}/secret`));
  t.truthy(line2, text);
  t.regex(line2 ?? '', /ENOENT.*<hide>/);
  t.false(v2.stderr.includes('<hide>'), 'trace lines went to stderr too');
  t.regex(v2.stderr, /No such file or directory/);
});

test('--trace lines have the documented format', async (t) => {
  // README: [pid 812] openat(AT_FDCWD, "./shadow", O_RDONLY) = -1 ENOENT (No such file or directory) <hide>
  const tree = makeTree();
  const v = await vviewRun(['cat', './secret'], { t, cwd: tree.d, config: tree.config, flags: ['--trace'] });
  const line = v.stderr.split('\n').find((l) => l.includes('openat('));
  t.regex(line ?? '', /^\[pid \d+\] openat\(AT_FDCWD, "\.\/secret", O_RDONLY\) = -1 ENOENT \(No such file or directory\) <hide>$/, v.stderr);
});

test('--stats prints a table with the module and syscall', async (t) => {
  const tree = makeTree();
  const v = await vviewRun(['cat', `${tree.d}/secret`], { t, config: tree.config, flags: ['--stats'] });
  t.is(v.status, 1, describe(v));
  t.regex(v.stderr, /hide\s+openat\s+\d+/, v.stderr);
  // Without --stats: no table.
  const v2 = await vviewRun(['cat', `${tree.d}/secret`], { t, config: tree.config });
  t.notRegex(v2.stderr, /hide\s+openat/);
});

test('--trace with the uname module decodes uname', async (t) => {
  const config = writeConfig('modules:\n  - uname: { nodename: sandbox-node }\n');
  const v = await vviewRun(['uname', '-n'], { t, config, flags: ['--trace'] });
  t.is(v.stdout, 'sandbox-node\n');
  t.regex(v.stderr, /uname\(.*\) = 0 <uname>/);
});

// ---- module files --------------------------------------------------------------

function moduleFile(name: string, text: string): string {
  const dir = makeTempDir('mod-');
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o644 });
  return file;
}

test('a throwing module: the call fails with EIO, the process goes on, reported once', async (t) => {
  const mod = moduleFile(
    'thrower.mjs',
    `export default { name: 'boom', setup() { return { syscalls: { getppid() { throw new Error('kaboom'); } } }; } };\n`,
  );
  const config = writeConfig(`modules:\n  - ${mod}\n`);
  const bin = await compileFixture('ppid');
  const v = await vviewRun([bin, 'twice'], { t, config });
  t.is(v.stdout, 'getppid: EIO\ngetppid: EIO\nstill running\n', describe(v));
  t.is(v.status, 0);
  t.true(v.stderr.includes('boom'), v.stderr);
  t.is(v.stderr.split('kaboom').length - 1, 1, `"kaboom" should be reported exactly once: ${v.stderr}`);
});

test('an async module answers after 50 ms while another process of the view keeps running', async (t) => {
  const mod = moduleFile(
    'slow.mjs',
    `export default { name: 'slow', setup() { return { syscalls: { getppid() {
       return new Promise((resolve) => setTimeout(() => resolve({ kind: 'return', value: 42n }), 50));
     } } }; } };\n`,
  );
  const config = writeConfig(`modules:\n  - ${mod}\n`);
  const bin = await compileFixture('ppid');
  const v = await vviewRun([bin, 'progress'], { t, config, timeout: 30_000 });
  t.is(v.stdout, 'getppid: 42\ncall took >=40ms: yes\nprogress during the call: yes\n', describe(v));
  t.is(v.status, 0);
});

test('module chain, forward with an exit hook, rewrite of a path under a virtual prefix', async (t) => {
  const target = path.join(makeTempDir('rw-'), 'real.txt');
  fs.writeFileSync(target, 'real content\n');
  const pass = moduleFile('pass.mjs', `export default { name: 'pass', setup() { return { syscalls: { getppid() { return undefined; } } }; } };\n`);
  const hook = moduleFile(
    'hook.mjs',
    `export default { name: 'hook', setup() { return { syscalls: { getppid() {
       return { kind: 'forward', onExit(exit) { return exit.result > 0 ? 1234 : -5; } };
     } } }; } };\n`,
  );
  const redirect = moduleFile(
    'redirect.mjs',
    `export default { name: 'redirect', setup(o) { return { paths: { prefixes: ['/vview-virtual'],
       handlers: { openat(call) { return call.path === '/vview-virtual/hello' ? { kind: 'rewrite', args: { 1: o.target } } : undefined; } },
       other() { return { kind: 'return', value: -2n }; } } }; } };\n`,
  );
  const config = writeConfig(`modules:\n  - ${pass}\n  - ${hook}\n  - ${redirect}: { target: ${target} }\n`);
  const bin = await compileFixture('ppid');
  const v = await vviewRun([bin, 'twice'], { t, config });
  t.is(v.stdout, 'getppid: 1234\ngetppid: 1234\nstill running\n', describe(v));
  const c = await vviewRun(['cat', '/vview-virtual/hello'], { t, config });
  t.is(c.stdout, 'real content\n', describe(c));
  t.is(c.status, 0);
  const s = await vviewRun(['stat', '/vview-virtual/hello'], { t, config });
  t.is(s.status, 1, describe(s));
  t.regex(s.stderr, /No such file or directory/);
});

test('a module written in TypeScript (.ts, next to the config, no package.json) loads', async (t) => {
  const mod = moduleFile(
    'answer.ts',
    [
      `interface Options { value: number }`,
      `type Action = { kind: 'return'; value: bigint };`,
      `const answer = (v: number): Action => ({ kind: 'return', value: BigInt(v) });`,
      `export default {`,
      `  name: 'answer',`,
      `  options(raw: unknown): Options {`,
      `    const v = (raw as Partial<Options>).value;`,
      `    return { value: typeof v === 'number' ? v : 7 };`,
      `  },`,
      `  setup(options: Options) {`,
      `    return { syscalls: { getppid: (): Action => answer(options.value) } };`,
      `  },`,
      `};`,
      '',
    ].join('\n'),
  );
  const config = writeConfig(`modules:\n  - ${mod}: { value: 77 }\n`);
  const bin = await compileFixture('ppid');
  const v = await vviewRun([bin, 'twice'], { t, config, timeout: 15_000 });
  t.false(v.timedOut, `vview did not exit: ${describe(v)}`);
  t.is(v.stdout, 'getppid: 77\ngetppid: 77\nstill running\n', describe(v));
  t.is(v.status, 0);
});

test('a TypeScript module (.mts, importing the package API) loads, and vview exits when the command ends', async (t) => {
  const mod = moduleFile(
    'answer.mts',
    [
      `import { defineModule, ret, type SyscallCall } from ${JSON.stringify(path.join(ROOT, 'dist/src/index.js'))};`,
      `export default defineModule<{ value: number }>({`,
      `  name: 'answer',`,
      `  setup(options) {`,
      `    return { syscalls: { getppid: (_call: SyscallCall) => ret(options.value) } };`,
      `  },`,
      `});`,
      '',
    ].join('\n'),
  );
  const config = writeConfig(`modules:\n  - ${mod}: { value: 78 }\n`);
  const bin = await compileFixture('ppid');
  const v = await vviewRun([bin, 'twice'], { t, config, timeout: 15_000 });
  t.is(v.stdout, 'getppid: 78\ngetppid: 78\nstill running\n', describe(v));
  t.false(v.timedOut, `vview did not exit within 15 s after the command ended: ${describe(v)}`);
  t.is(v.status, 0);
});

test('a module handler that runs a helper process (execFile) gets its result', async (t) => {
  // The helper is the monitor's own child, not part of the view: its exit
  // belongs to Node (child_process), not to the tracer.
  const mod = moduleFile(
    'helper.mjs',
    `import { execFile } from 'node:child_process';
     export default { name: 'helper', setup() { return { syscalls: { getppid() {
       return new Promise((resolve, reject) => execFile('/bin/echo', ['5'], (err, out) =>
         err ? reject(err) : resolve({ kind: 'return', value: BigInt(out.trim()) })));
     } } }; } };\n`,
  );
  const config = writeConfig(`modules:\n  - ${mod}\n`);
  const bin = await compileFixture('ppid');
  const v = await vviewRun([bin, 'twice'], { t, config, timeout: 15_000 });
  t.false(v.timedOut, `vview hung (killed after 15 s): ${describe(v)}`);
  t.is(v.stdout, 'getppid: 5\ngetppid: 5\nstill running\n', describe(v));
  t.is(v.status, 0);
});

test('a helper process started by a module (outside the view) does not keep vview waiting', async (t) => {
  const mod = moduleFile(
    'daemon.mjs',
    `import { spawn } from 'node:child_process';
     export default { name: 'daemon', setup() {
       const c = spawn('sleep', ['1000'], { stdio: 'ignore' }); c.unref();
       return { syscalls: { getppid() { return undefined; } } }; } };\n`,
  );
  const config = writeConfig(`modules:\n  - ${mod}\n`);
  // The helper outlives any timeout here: a vview that waited for it is killed
  // by the timeout and the test fails, however fast or slow the machine is.
  // (The helper is in vview's process group: vviewRun kills it afterwards.)
  const v = await vviewRun(['true'], { t, config, timeout: 60_000 });
  t.false(v.timedOut, `vview waited for the module's helper (sleep 1000), which is not part of the view: ${describe(v)}`);
  t.is(v.status, 0, describe(v));
});

test("a module's close() runs once at the end, also when vview gets SIGTERM", async (t) => {
  const dir = makeTempDir('close-');
  const mod = moduleFile(
    'closer.mjs',
    `import fs from 'node:fs';\nexport default { name: 'closer', setup(o) { return { syscalls: { getppid() { return undefined; } },
       close() { fs.appendFileSync(o.file, 'closed\\n'); } }; } };\n`,
  );
  const f1 = path.join(dir, 'normal.txt');
  const r1 = await vviewRun(['true'], { t, config: writeConfig(`modules:\n  - ${mod}: { file: ${f1} }\n`) });
  t.is(r1.status, 0, describe(r1));
  t.is(fs.readFileSync(f1, 'utf8'), 'closed\n');

  const f2 = path.join(dir, 'term.txt');
  const r = startVview(['run', '--config', writeConfig(`modules:\n  - ${mod}: { file: ${f2} }\n`), '--', 'sh', '-c', 'echo ready; while :; do sleep 0.1; done'], {
    t,
    timeout: 30_000,
  });
  await r.waitForStdout('ready\n');
  r.kill('SIGTERM');
  const res: RunResult = await r.result;
  t.is(res.status, 143, describe(res));
  t.is(fs.existsSync(f2) ? fs.readFileSync(f2, 'utf8') : '(no file)', 'closed\n');
});

test('vview modules lists the built-in modules', async (t) => {
  const v = await vview(['modules'], { t });
  t.is(v.status, 0);
  t.regex(v.stdout, /^uname\s/m);
  t.regex(v.stdout, /^hide\s/m);
});

test('the shipped configs/hide.yaml hides the shadow files and the backup copies passwd keeps (shadow-, gshadow-)', async (t) => {
  const names = ['shadow', 'shadow-', 'gshadow', 'gshadow-'];
  const script = `for f in ${names.join(' ')}; do if [ -e /etc/$f ]; then echo "$f there"; else echo "$f absent"; fi; done; ls -a /etc | grep -c shadow`;
  const v = await vviewRun(['sh', '-c', script], { t, config: path.join(ROOT, 'configs', 'hide.yaml') });
  t.is(v.stdout, names.map((n) => `${n} absent\n`).join('') + '0\n', describe(v));
});
