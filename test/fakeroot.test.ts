/**
 * The fakeroot module: fake ids, recorded ownership, persistence. Side by side
 * with the real `fakeroot` (same commands, outputs compared; .ci/run installs
 * it, and a comparison without it fails), and with the real kernel as root for
 * the credential rules.
 *
 * The view runs as the unprivileged user whenever possible (setpriv to nobody
 * when the suite runs as root): that is how users run it, and as root a fake
 * uid 0 would hide whether ownership is really shown through the view.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  IS_ROOT, NOBODY, canRunUnprivileged, compileFixture, describe, makeTempDir, native, startVview, vview, writeConfig,
  type RunResult,
} from './helpers.js';

let asUser = false; // the view and fakeroot run as nobody
const FAKEROOT = ['/usr/bin/fakeroot', '/bin/fakeroot'].find((p) => fs.existsSync(p));
const DPKG_DEB = ['/usr/bin/dpkg-deb'].find((p) => fs.existsSync(p));

/** Without the real fakeroot (.ci/run installs it) a side-by-side test fails: it would compare with nothing. */
function noFakeroot(t: ExecutionContext): void {
  t.fail('fakeroot is not installed (.ci/run installs the Debian package fakeroot): nothing to compare with');
}

/** As root, the unprivileged user comes from setpriv (util-linux, which .ci/run installs). */
const NO_SETPRIV = `running as root, and \`setpriv --reuid=${NOBODY}\` does not work here (util-linux)`;

test.before(async () => {
  asUser = await canRunUnprivileged();
});

/** A directory the view's user can write in. */
const workDir = (prefix: string) => makeTempDir(prefix, { shared: true });

/** `vview run --fakeroot [flags] -- sh -c SCRIPT` in dir. */
function inView(t: ExecutionContext, dir: string, script: string, flags: string[] = ['--fakeroot']): Promise<RunResult> {
  return vview(['run', ...flags, '--', 'sh', '-c', script], { t, cwd: dir, unprivileged: asUser });
}

/** The same script under the real fakeroot, as the same user. */
function inFakeroot(t: ExecutionContext, dir: string, script: string): Promise<RunResult> {
  return native([FAKEROOT!, '--', 'sh', '-c', script], { t, cwd: dir, unprivileged: asUser });
}

/** Runs the script in a fresh directory under both; returns both results. */
async function sideBySide(t: ExecutionContext, script: string, setup?: (dir: string) => void) {
  const a = workDir('fr-view-');
  setup?.(a);
  const view = await inView(t, a, script);
  t.is(view.status, 0, describe(view));
  if (!FAKEROOT) {
    noFakeroot(t);
    return { view, fake: undefined, dir: a };
  }
  const b = workDir('fr-real-');
  setup?.(b);
  const fake = await inFakeroot(t, b, script);
  t.is(fake.status, 0, describe(fake));
  return { view, fake, dir: a };
}

test('id answers root, as under fakeroot', async (t) => {
  const { view, fake } = await sideBySide(t, 'id; id -u; id -g; id -G');
  t.is(view.stdout, 'uid=0(root) gid=0(root) groups=0(root)\n0\n0\n0\n', describe(view));
  if (fake) t.is(view.stdout, fake.stdout);
});

test('chown, chgrp and mknod are recorded and shown by stat and ls, as under fakeroot', async (t) => {
  const script =
    'touch f; chown 123:456 f; mkdir d; chgrp 7 d; mknod dev c 1 3; mknod blk b 8 1; mkfifo fifo; ln -s f link; chown -h 9:9 link; ' +
    'stat -c "%n %u %g %F %t:%T %a" f d dev blk fifo link; ls -ln f dev | cut -d" " -f1-6; ls -l dev | cut -d" " -f1-6';
  const { view, fake } = await sideBySide(t, script);
  t.regex(view.stdout, /^f 123 456 regular empty file 0:0 644$/m, describe(view));
  t.regex(view.stdout, /^dev 0 0 character special file 1:3 644$/m);
  t.regex(view.stdout, /^blk 0 0 block special file 8:1 644$/m);
  t.regex(view.stdout, /^link 9 9 symbolic link/m);
  if (fake) t.is(view.stdout, fake.stdout);
});

test('tar -cpf in the view: the archive has the fake owners when listed outside', async (t) => {
  const script =
    'mkdir -p pkg/usr/bin pkg/etc && echo tool > pkg/usr/bin/tool && echo conf > pkg/etc/conf && ' +
    'chown 123:456 pkg/usr/bin/tool && chmod 4755 pkg/usr/bin/tool && tar -cpf pkg.tar -C pkg .';
  const { view, dir } = await sideBySide(t, script);
  // Listed outside any view: owner/group and mode, then the name.
  const list = (d: string) =>
    fs.existsSync(path.join(d, 'pkg.tar'))
      ? native(['tar', '--numeric-owner', '-tvf', path.join(d, 'pkg.tar')], { t }).then((r) =>
          r.stdout.split('\n').filter(Boolean).map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f[1]} ${f[5]}`; }).join('\n'))
      : Promise.resolve('');
  const mine = await list(dir);
  t.regex(mine, /^-rwsr-xr-x 123\/456 \.\/usr\/bin\/tool$/m, describe(view));
  t.regex(mine, /^-rw-r--r-- 0\/0 \.\/etc\/conf$/m);
  t.regex(mine, /^drwxr-xr-x 0\/0 \.\/$/m);
  if (FAKEROOT) {
    const other = workDir('fr-tar-real-');
    await inFakeroot(t, other, script);
    t.is(mine, await list(other));
  } else noFakeroot(t);
});

test('cp -a keeps fake owners, find -user and install -o see them, as under fakeroot', async (t) => {
  const script =
    'touch a; chown 123:456 a; cp -a a b; install -o 77 -g 88 -m 755 a c; mkdir -p t/u; cp -a a t/u/; ' +
    'find . -user 123 | sort; echo --; find . -group 88; stat -c "%n %u %g %a" a b c t/u/a';
  const { view, fake } = await sideBySide(t, script);
  t.is(view.stdout, './a\n./b\n./t/u/a\n--\n./c\na 123 456 644\nb 123 456 644\nc 77 88 755\nt/u/a 123 456 644\n', describe(view));
  if (fake) t.is(view.stdout, fake.stdout);
});

test('dpkg-deb --build in the view makes a package owned by root/root', async (t) => {
  if (!DPKG_DEB) {
    // dpkg is on every Debian system (.ci/run uses it too).
    t.fail('dpkg-deb is not installed (Debian package dpkg)');
    return;
  }
  const dir = workDir('fr-deb-');
  fs.mkdirSync(path.join(dir, 'pkg/DEBIAN'), { recursive: true, mode: 0o777 });
  fs.mkdirSync(path.join(dir, 'pkg/usr/share/doc/vview-test'), { recursive: true, mode: 0o777 });
  fs.writeFileSync(path.join(dir, 'pkg/DEBIAN/control'),
    'Package: vview-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n', { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'pkg/usr/share/doc/vview-test/README'), 'hi\n', { mode: 0o644 });
  for (const d of ['pkg', 'pkg/DEBIAN', 'pkg/usr', 'pkg/usr/share', 'pkg/usr/share/doc', 'pkg/usr/share/doc/vview-test']) fs.chmodSync(path.join(dir, d), 0o755);
  if (IS_ROOT && asUser) for (const p of ['pkg', 'pkg/DEBIAN', 'pkg/DEBIAN/control', 'pkg/usr', 'pkg/usr/share', 'pkg/usr/share/doc', 'pkg/usr/share/doc/vview-test', 'pkg/usr/share/doc/vview-test/README']) fs.chownSync(path.join(dir, p), NOBODY, NOBODY);
  const r = await inView(t, dir, 'dpkg-deb --build pkg out.deb >/dev/null');
  t.is(r.status, 0, describe(r));
  const c = await native([DPKG_DEB, '-c', path.join(dir, 'out.deb')], { t });
  const lines = c.stdout.split('\n').filter(Boolean);
  t.true(lines.length >= 5, c.stdout);
  for (const l of lines) t.regex(l, /^\S+ root\/root /, l);
});

test('a static binary calling chown, mknod and the stat family directly sees the fake root', async (t) => {
  const bin = await compileFixture('fr_static', { static: true });
  const dir = workDir('fr-static-');
  fs.writeFileSync(path.join(dir, 'file'), 'x', { mode: 0o666 });
  const r = await vview(['run', '--fakeroot', '--', bin, 'file', 'dev'], { t, cwd: dir, unprivileged: asUser });
  t.is(r.stdout, 'uid 0 euid 0 gid 0\nfchownat ok\nmknodat ok\nfile: 123 456\ndev: chr 1:3 mode 640\nfstat: 123 456\nstatx: 123 456\n', describe(r));
  if (!FAKEROOT) noFakeroot(t);
  else if (!asUser) t.fail(`${NO_SETPRIV}: the real fakeroot cannot be run as another user`);
  else {
    // LD_PRELOAD cannot see into a static binary: the real fakeroot fails here.
    const other = workDir('fr-static-real-');
    fs.writeFileSync(path.join(other, 'file'), 'x', { mode: 0o666 });
    const f = await native([FAKEROOT, '--', bin, 'file', 'dev'], { t, cwd: other, unprivileged: true });
    t.log(`under fakeroot: ${f.stdout.split('\n').slice(0, 3).join('; ')}`);
    t.notRegex(f.stdout, /fchownat ok/);
  }
});

test('set*id calls follow the kernel rules; fork inherits, exec resets saved ids; /proc/self/status agrees', async (t) => {
  const bin = await compileFixture('fr_ids');
  const dir = workDir('fr-ids-');
  const r = await vview(['run', '--fakeroot', '--', bin], { t, cwd: dir, unprivileged: asUser });
  t.is(r.status, 0, describe(r));
  t.regex(r.stdout, /^Uid:\t1000\t2000\t0\t2000$/m);
  t.regex(r.stdout, /^after exec +ok +uid 1000 1000 1000 fs 1000 +gid 100 200 200 fs 200$/m);
  if (IS_ROOT) {
    // The same transitions by a real root process: the kernel is the reference.
    const n = await native([bin], { t, cwd: dir });
    t.is(r.stdout, n.stdout);
  } else t.log('not root: the kernel comparison is skipped');
});

test('a set-user-ID file runs with its virtual owner as effective uid', async (t) => {
  const dir = workDir('fr-suid-');
  const script = 'cp /usr/bin/id ./myid && chown 123:456 myid && chmod 6755 myid && ./myid -u && ./myid -g && ./myid -ru && ./myid -rg';
  const r = await inView(t, dir, script);
  t.is(r.stdout, '123\n456\n0\n0\n', describe(r));
  if (IS_ROOT) {
    const d2 = workDir('fr-suid-native-');
    const n = await native(['sh', '-c', script], { t, cwd: d2 });
    t.is(r.stdout, n.stdout, 'as real root, the kernel does the same');
  }
});

// Only root can make a file of another user: declared skipped otherwise.
(IS_ROOT ? test : test.skip)(`chown of a file of another user, and mode bits the kernel refuses, are recorded without touching it${IS_ROOT ? '' : ' (skipped: needs root to make a file of another user)'}`, async (t) => {
  if (!asUser) {
    t.fail(`${NO_SETPRIV}: the view cannot run as a user other than the file's owner`);
    return;
  }
  const dir = workDir('fr-other-');
  const f = path.join(dir, 'roots');
  fs.writeFileSync(f, 'x', { mode: 0o644 });
  const r = await inView(t, dir, 'chown 5:5 roots && chmod 4711 roots && stat -c "%u %g %a" roots');
  t.is(r.stdout, '5 5 4711\n', describe(r));
  const st = fs.statSync(f);
  t.is(st.uid, 0);
  t.is(st.mode & 0o7777, 0o644);
});

test('a deleted file does not pass its record to the next file (inode reuse)', async (t) => {
  const dir = workDir('fr-reuse-');
  const r = await inView(t, dir, 'for i in 1 2 3 4 5; do touch f$i; chown 123:456 f$i; rm f$i; touch g$i; done; stat -c "%u %g" g1 g2 g3 g4 g5 | sort -u');
  t.is(r.stdout, '0 0\n', describe(r));
});

test('records follow mv and ln; an unlinked name does not take the record with it', async (t) => {
  const dir = workDir('fr-mv-');
  const state = path.join(dir, 'state.json');
  const r = await inView(t, dir, 'touch a; chown 5:6 a; mkdir d; chown 7:7 d; mv a d/; ln d/a h; rm d/a; mv d e; stat -c "%n %u %g" h e', ['--fakeroot-state', state]);
  t.is(r.stdout, 'h 5 6\ne 7 7\n', describe(r));
  const again = await inView(t, dir, 'stat -c "%n %u %g" h e', ['--fakeroot-state', state]);
  t.is(again.stdout, 'h 5 6\ne 7 7\n', describe(again));
  t.is(again.stderr, '');
});

test('state persists across runs; files replaced or changed outside are detected and dropped', async (t) => {
  const dir = workDir('fr-state-');
  const state = path.join(dir, 'ownership.json');
  const flags = ['--fakeroot-state', state];
  const r1 = await inView(t, dir, 'touch a b c; mkdir d; chown 1:2 a b c d', flags);
  t.is(r1.status, 0, describe(r1));
  const saved = JSON.parse(fs.readFileSync(state, 'utf8'));
  t.is(saved.format, 'vview-fakeroot-state');
  t.is(saved.entries.length, 4);
  const r2 = await inView(t, dir, 'stat -c "%n %u %g" a b c d', flags);
  t.is(r2.stdout, 'a 1 2\nb 1 2\nc 1 2\nd 1 2\n', describe(r2));
  // Outside the view: b replaced (its inode number may well be reused), c
  // written to, a file added in d (a directory's own ctime moves with that).
  fs.rmSync(path.join(dir, 'b'));
  fs.writeFileSync(path.join(dir, 'b'), '', { mode: 0o666 });
  fs.appendFileSync(path.join(dir, 'c'), 'changed\n');
  fs.writeFileSync(path.join(dir, 'd', 'new'), '');
  if (IS_ROOT && asUser) for (const p of ['b', 'd/new']) fs.chownSync(path.join(dir, p), NOBODY, NOBODY);
  const r3 = await inView(t, dir, 'stat -c "%n %u %g" a b c d', flags);
  t.is(r3.stdout, 'a 1 2\nb 0 0\nc 0 0\nd 1 2\n', describe(r3));
  t.regex(r3.stderr, /2 recorded owner\(s\) dropped/);
  t.regex(r3.stderr, /\/b \((replaced|changed)\)/);
  t.regex(r3.stderr, /\/c \(changed\)/);
  // Dropped for good: the next run has nothing to warn about.
  const r4 = await inView(t, dir, 'stat -c "%n %u" b', flags);
  t.is(r4.stdout, 'b 0\n');
  t.is(r4.stderr, '');
});

test('a corrupt or foreign state file is refused with a clear error and left as it was', async (t) => {
  const dir = workDir('fr-corrupt-');
  const state = path.join(dir, 'state.json');
  for (const content of ['{ not json', '{"format": "something-else", "entries": []}', '{"format": "vview-fakeroot-state", "version": 1, "entries": [{"path": "rel"}]}']) {
    fs.writeFileSync(state, content, { mode: 0o666 });
    const r = await inView(t, dir, 'touch x; chown 1 x', ['--fakeroot-state', state]);
    t.not(r.status, 0, describe(r));
    t.regex(r.stderr, new RegExp(`${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    t.regex(r.stderr, /not a vview fakeroot state file|entries\[0\]/);
    t.is(fs.readFileSync(state, 'utf8'), content);
    t.false(fs.existsSync(path.join(dir, 'x')), 'the command did not run');
  }
});

test('SIGTERM to vview: the command ends and the recorded ownership is saved', async (t) => {
  const dir = workDir('fr-term-');
  const state = path.join(dir, 'state.json');
  const run = startVview(['run', '--fakeroot-state', state, '--', 'sh', '-c', 'touch f; chown 9:8 f; echo ready; while :; do sleep 0.1; done'], {
    t, cwd: dir, unprivileged: asUser, timeout: 30_000,
  });
  await run.waitForStdout('ready\n');
  run.kill('SIGTERM');
  const res = await run.result;
  t.is(res.status, 143, describe(res));
  const saved = JSON.parse(fs.readFileSync(state, 'utf8'));
  t.like(saved.entries.find((e: { path: string }) => e.path === path.join(fs.realpathSync(dir), 'f')), { uid: 9, gid: 8 });
});

test('as the invoking user (root in CI): fake ownership still recorded and shown', async (t) => {
  const dir = makeTempDir('fr-self-');
  const r = await vview(['run', '--fakeroot', '--', 'sh', '-c', 'id -u; touch f; chown 3:4 f; mknod n c 5 1; stat -c "%u %g %F %t:%T" f n'], { t, cwd: dir });
  t.is(r.stdout, '0\n3 4 regular empty file 0:0\n0 0 character special file 5:1\n', describe(r));
});

test('fakeroot config: ids and state from YAML; bad values name the key', async (t) => {
  const dir = workDir('fr-cfg-');
  const good = writeConfig(`modules:\n  - fakeroot: { uid: 1000, gid: 100, state: ${JSON.stringify(path.join(dir, 's.json'))} }\n`);
  const r = await vview(['run', '--config', good, '--', 'sh', '-c', 'id -u; id -g; touch f; stat -c "%u %g" f'], { t, cwd: dir, unprivileged: asUser });
  t.is(r.stdout, '1000\n100\n1000 100\n', describe(r));
  const cases: [string, RegExp][] = [
    ['uid: -5', /:2: modules\[0\]\.fakeroot\.uid: expected an id/],
    ['gid: x', /modules\[0\]\.fakeroot\.gid: expected an id/],
    ['state: /nonexistent-vview/dir/s.json', /modules\[0\]\.fakeroot\.state: the directory \/nonexistent-vview\/dir does not exist/],
    ['user: 3', /modules\[0\]\.fakeroot\.user: unknown option/],
  ];
  for (const [opt, re] of cases) {
    const cfg = writeConfig(`modules:\n  - fakeroot: { ${opt} }\n`);
    const bad = await vview(['run', '--config', cfg, '--', 'true'], { t });
    t.is(bad.status, 2, describe(bad));
    t.regex(bad.stderr, re);
  }
});

test('stat answered by native code is the kernel\'s, whatever the spelling (only the owner differs)', async (t) => {
  // One directory inside each run's own, so that ".." has the same link count in both.
  const inner = (prefix: string) => {
    const d = path.join(workDir(prefix), 'w');
    fs.mkdirSync(d, { mode: 0o777 });
    fs.chmodSync(d, 0o777);
    return d;
  };
  const dir = inner('fr-spell-');
  // Each line: the name, then what stat says of it; errors are printed too.
  const script =
    'mkdir -p d/e; touch f; ln -s d ld; ln -s f lf; ln -s ../f d/up; ' +
    'for p in f d/../f f/.. f/ nonexistent/../f ld/../f ld/e/../../f lf lf/ d/up ./d//e/ /dev/stdin /proc/self/exe . ..; do ' +
    '  printf "%s " "$p"; stat -c "%i %F %h" "$p" 2>&1 | sed "s/.*: //"; printf "%s L " "$p"; stat -L -c "%i %F" "$p" 2>&1 | sed "s/.*: //"; done; ' +
    'python3 -c "import os\ntry: os.fstat(-100)\nexcept OSError as e: print(\'fstat(-100)\', e.strerror)"; ' +
    // A deleted cwd has no path: the kernel runs the stat and the view shows it at exit.
    'mkdir gone && cd gone && rmdir ../gone && stat -c "deleted cwd: %u %F" .';
  const r = await inView(t, dir, script);
  t.is(r.status, 0, describe(r));
  const n = await native(['sh', '-c', script], { t, cwd: inner('fr-spell-native-'), unprivileged: asUser });
  // Inode numbers differ between the two directories: compare the rest.
  const shape = (s: string) => s.replace(/^(\S+( L)?) \d+ /gm, '$1 # ').replace(/deleted cwd: \d+/, 'deleted cwd: U');
  t.is(shape(r.stdout), shape(n.stdout), describe(r));
  t.regex(r.stdout, /^f\/\.\. Not a directory$/m);
  t.regex(r.stdout, /^fstat\(-100\) Bad file descriptor$/m);
  t.regex(r.stdout, /^deleted cwd: 0 directory$/m, 'shown through the view at the exit stop');
});

test('--fakeroot stops only what it serves: path syscalls other than open run without a stop', async (t) => {
  const dir = workDir('fr-stops-');
  const r = await vview(['run', '--stats', '--fakeroot', '--', 'sh', '-c', 'readlink -f /proc/self/exe >/dev/null; ls -l / >/dev/null'], { t, cwd: dir, unprivileged: asUser });
  t.is(r.status, 0, describe(r));
  const line = /seccomp stops by syscall: (.*)/.exec(r.stderr)?.[1] ?? '';
  t.true(line.includes('openat'), line);
  t.false(/readlink|getdents|access|mount/.test(line), line);
});

// ---- with a mount ----------------------------------------------------------------
// Stats under a vfs or bind mount are rewritten to their host path in native code;
// the fake ownership must still be shown, and chown recorded on the host object.

for (const kind of ['vfs', 'bind'] as const) {
  test(`--fakeroot inside a ${kind} mount: new files are root's, chown and mknod are shown`, async (t) => {
    const dir = workDir(`fr-${kind}-`);
    const src = path.join(dir, 'src');
    fs.mkdirSync(src, { mode: 0o777 });
    fs.chmodSync(src, 0o777);
    const mount = kind === 'vfs' ? ['--mount', '/frmnt=memfs'] : ['--bind', `${src}:/frmnt`];
    const script =
      'cd /frmnt && touch f && mkdir d && chown 12:34 f && mknod dev c 1 3 && ' +
      'stat -c "%n %u %g %F" f d dev && ls -ln f | cut -d" " -f3-4';
    const r = await inView(t, dir, script, ['--fakeroot', ...mount]);
    t.is(r.status, 0, describe(r));
    t.is(r.stdout, 'f 12 34 regular empty file\nd 0 0 directory\ndev 0 0 character special file\n12 34\n', describe(r));
  });
}

test('--fakeroot with a mount: chown of a bad pointer is the kernel\'s EFAULT (the path native code could not read is not taken as "")', async (t) => {
  const dir = workDir('fr-efault-');
  const src = path.join(dir, 'src');
  fs.mkdirSync(src, { mode: 0o777 });
  const py = 'import ctypes, os; l = ctypes.CDLL(None, use_errno=True); r = l.chown(ctypes.c_void_p(8), 0, 0); print(r, os.strerror(ctypes.get_errno()))';
  for (const flags of [['--fakeroot'], ['--fakeroot', '--bind', `${src}:/frmnt`]]) {
    const r = await vview(['run', ...flags, '--', 'python3', '-c', py], { t, cwd: dir, unprivileged: asUser });
    t.is(r.stdout, '-1 Bad address\n', `${flags.join(' ')}: ${describe(r)}`);
  }
});
