/**
 * A vview inside a vview (docs/ptrace-emulation.md, phase 3): the inner
 * monitor traces through the outer's ptrace emulation, its seccomp filter is
 * installed for real with its RET_TRACE returns retagged, and the inner view
 * applies on top of the outer one. Also a program's own seccomp filters in a
 * view, compared with a native run.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  canRunUnprivileged, compileFixture, describe, isAlive, native, procStat, startVview, vviewRun, waitUntil, ROOT,
} from './helpers.js';

/** `vview run ARGS... --` as a command inside a view. */
const VVIEW_JS = path.join(ROOT, 'bin', 'vview.js');
const inner = (...args: string[]): string[] => [process.execPath, VVIEW_JS, 'run', ...args, '--'];
const HAVE_STRACE = fs.existsSync('/usr/bin/strace');
const strace = HAVE_STRACE ? test : test.skip;

const SCRIPT = 'id -u; touch /x/f; ls -ln /x | sed 1d';

test('fakeroot outside, a memfs mount inside: root, and the new file owned by 0 0', async (t) => {
  const v = await vviewRun([...inner('--mount', '/x=memfs'), 'sh', '-c', SCRIPT], { t, flags: ['--fakeroot'], timeout: 90_000 });
  t.is(v.status, 0, describe(v));
  t.regex(v.stdout, /^0\n-rw-r--r-- 1 0 0 0 .* f\n$/, describe(v));
  t.is(v.stderr, '');
});

test('the same with the two views swapped: a memfs mount outside, fakeroot inside', async (t) => {
  const v = await vviewRun([...inner('--fakeroot'), 'sh', '-c', SCRIPT], { t, flags: ['--mount', '/x=memfs'], timeout: 90_000 });
  t.is(v.status, 0, describe(v));
  t.regex(v.stdout, /^0\n-rw-r--r-- 1 0 0 0 .* f\n$/, describe(v));
  t.is(v.stderr, '');
});

test('three deep: fakeroot, then a memfs mount, then the uname module all show', async (t) => {
  const uname = path.join(ROOT, 'configs', 'uname.yaml');
  const cmd = [...inner('--mount', '/x=memfs'), ...inner('--config', uname), 'sh', '-c', 'id -u; uname -n; touch /x/g; chown 7:8 /x/g; stat -c %u:%g /x/g'];
  const v = await vviewRun(cmd, { t, flags: ['--fakeroot'], timeout: 120_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, '0\nsandbox\n7:8\n', describe(v));
});

test("the outer view's modules see the inner monitor's own files, never the inner view's paths", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-nest-trace-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const trace = path.join(dir, 'trace.txt');
  const v = await vviewRun([...inner('--mount', '/x=memfs'), 'sh', '-c', 'touch /x/f; chown 5:6 /x/f; stat -c %u:%g /x/f'], {
    t, flags: ['--fakeroot', `--trace=${trace}`], timeout: 90_000,
  });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, '5:6\n');
  // The outer fakeroot recorded the chown on the inner monitor's scratch copy.
  const chowns = fs.readFileSync(trace, 'utf8').split('\n').filter((l) => /^\[pid +\d+\] \w*chown\w*\(/.test(l));
  t.true(chowns.length > 0, 'the outer fakeroot handled no chown');
  for (const l of chowns) {
    t.false(l.includes('"/x/'), l);
    t.regex(l, /vview-scratch-/, l);
  }
});

test('kill -9 of the outer vview of a nested view leaves no process behind', async (t) => {
  const r = startVview(['run', '--', ...inner(), 'sh', '-c', 'sleep 1000 & echo pids $$ $!; wait'], { t, timeout: 90_000, keepLeftovers: true });
  const out = await r.waitForStdout(/pids \d+ \d+\n/, 60_000);
  const pids = out.match(/pids (\d+) (\d+)/)!.slice(1).map(Number);
  const innerPid = procStat(pids[0])?.ppid ?? 0;
  t.true(innerPid > 0 && procStat(innerPid)?.comm === 'node', `the inner vview (parent of ${pids[0]}) is not node: ${JSON.stringify(procStat(innerPid))}`);
  const all = [innerPid, ...pids];
  for (const p of all) t.true(isAlive(p), `process ${p} should be running before the monitor dies`);
  t.teardown(() => all.forEach((p) => { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }));
  process.kill(r.pid, 'SIGKILL');
  await r.result;
  const gone = await waitUntil(() => all.every((p) => !isAlive(p)), 30_000);
  t.true(gone, `still running after the outer monitor died: ${all.filter((p) => isAlive(p)).join(', ')}`);
});

test('a nested view as an unprivileged user', async (t) => {
  if (!(await canRunUnprivileged())) return t.fail('cannot run as the unprivileged user (setpriv)');
  const v = await vviewRun([...inner('--mount', '/x=memfs'), 'sh', '-c', SCRIPT], {
    t, flags: ['--fakeroot'], unprivileged: true, cwd: os.tmpdir(), timeout: 90_000,
  });
  t.is(v.status, 0, describe(v));
  t.regex(v.stdout, /^0\n-rw-r--r-- 1 0 0 0 .* f\n$/, describe(v));
});

test("a program's own seccomp filters in a view: ERRNO, TRAP, TRACE with and without a tracer, stacked filters, as natively", async (t) => {
  const bin = await compileFixture('seccomp_in_view');
  const n = await native([bin], { t });
  t.is(n.status, 0, describe(n));
  const lines = n.stdout.split('\n');
  t.is(lines[lines.length - 2], 'listener: 0', 'natively a user-notification listener is created');
  // In a view the listener is refused (README: the program's supervisor would
  // answer calls before the view's modules); everything else is the same.
  const expected = n.stdout.replace('listener: 0\n', 'listener: -1 EINVAL\n');
  const v = await vviewRun([bin], { t, timeout: 60_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, expected, describe(v));
  // With a module that routes getppid, the filtered call the module would
  // have seen is still the program's filter's (and its tracer's) first.
  const m = await vviewRun([bin], { t, config: path.join(ROOT, 'configs', 'custom.yaml'), timeout: 60_000 });
  t.is(m.status, 0, describe(m));
  t.is(m.stdout, expected, describe(m));
});

strace('strace --seccomp-bpf -f -e trace=execve sh -c true: the native output', async (t) => {
  const cmd = ['strace', '--seccomp-bpf', '-f', '-e', 'trace=execve,openat', 'sh', '-c', 'true; cat /etc/hostname'];
  // pids, the environment's address and CPU times differ from run to run.
  const mask = (s: string) => s.replace(/0x[0-9a-f]+/g, '0xN').replace(/si_[us]time=\d+/g, 'si_time').replace(/\b\d{3,}\b/g, 'N').replace(/\[pid +N\]/g, '[pid N]');
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t, timeout: 60_000 });
  t.is(v.status, n.status, describe(v));
  t.is(v.stdout, n.stdout);
  t.is(mask(v.stderr), mask(n.stderr), describe(v));
  t.regex(v.stderr, /execve\("\/usr\/bin\/cat"/);
});

strace('strace -f inside a nested view sees the inner view', async (t) => {
  const v = await vviewRun([...inner('--config', path.join(ROOT, 'configs', 'hide.yaml')), 'strace', '-f', '-e', 'trace=openat', 'cat', '/etc/shadow'], {
    t, flags: ['--fakeroot'], timeout: 90_000,
  });
  t.is(v.status, 1, describe(v));
  t.regex(v.stderr, /openat\(AT_FDCWD, "\/etc\/shadow", O_RDONLY\) = -1 ENOENT/, describe(v));
});

test("the inner monitor's state file lives in the outer view: saved into the outer memfs, reloaded by a second inner run, never on the host", async (t) => {
  const mnt = `/vview-nest-${process.pid}`;
  const j = (...a: string[]) => [process.execPath, VVIEW_JS, 'run', ...a, '--'].join(' ');
  const script = `${j('--mount', `/y=memfs:${mnt}/state`)} sh -c 'echo kept > /y/f' && ls ${mnt} && ${j('--mount', `/y=memfs:${mnt}/state`)} cat /y/f`;
  const v = await vviewRun(['sh', '-c', script], { t, flags: ['--mount', `${mnt}=memfs`], timeout: 120_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, 'state\nkept\n', describe(v));
  t.false(fs.existsSync(mnt), `${mnt} was created on the host`);
});
