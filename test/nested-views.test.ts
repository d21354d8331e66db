/**
 * A vview inside a vview, on both paths, with the same cases and the same
 * expected output:
 * - joined (the default, src/vm/layers.ts): the inner vview hands its view to
 *   the outer monitor as a layer and serves its modules over a channel; one
 *   stop serves every layer;
 * - emulated (--no-join; docs/ptrace-emulation.md, phase 3): the inner
 *   monitor traces through the outer's ptrace emulation, its seccomp filter
 *   installed for real with its RET_TRACE returns retagged.
 * Also a program's own seccomp filters in a view, compared with a native run.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Join } from '../src/vm/abi.js';
import {
  canRunUnprivileged, compileFixture, describe, isAlive, native, procStat, startVview, vviewRun, waitUntil, IS_ROOT, NOBODY, ROOT,
} from './helpers.js';

/** The inner vview (run by node: the bundle is not needed to be fresh). */
const VVIEW_JS = path.join(ROOT, 'bin', 'vview.js');
const PATHS = [
  { name: 'joined', flags: [] as string[] },
  { name: 'emulated', flags: ['--no-join'] },
] as const;
const HAVE_STRACE = fs.existsSync('/usr/bin/strace');
const strace = HAVE_STRACE ? test : test.skip;
const gdb = fs.existsSync('/usr/bin/gdb') ? test : test.skip;

const SCRIPT = 'id -u; touch /x/f; ls -ln /x | sed 1d';

for (const p of PATHS) {
  /** `vview run ARGS... --` as a command inside a view, on this path. */
  const inner = (...args: string[]): string[] => [process.execPath, VVIEW_JS, 'run', ...p.flags, ...args, '--'];

  test(`[${p.name}] fakeroot outside, a memfs mount inside: root, and the new file owned by 0 0`, async (t) => {
    const v = await vviewRun([...inner('--mount', '/x=memfs'), 'sh', '-c', SCRIPT], { t, flags: ['--fakeroot'], timeout: 90_000 });
    t.is(v.status, 0, describe(v));
    t.regex(v.stdout, /^0\n-rw-r--r-- 1 0 0 0 .* f\n$/, describe(v));
    t.is(v.stderr, '');
  });

  test(`[${p.name}] the same with the two views swapped: a memfs mount outside, fakeroot inside`, async (t) => {
    const v = await vviewRun([...inner('--fakeroot'), 'sh', '-c', SCRIPT], { t, flags: ['--mount', '/x=memfs'], timeout: 90_000 });
    t.is(v.status, 0, describe(v));
    t.regex(v.stdout, /^0\n-rw-r--r-- 1 0 0 0 .* f\n$/, describe(v));
    t.is(v.stderr, '');
  });

  test(`[${p.name}] three deep: fakeroot, then a memfs mount, then the uname module all show`, async (t) => {
    const uname = path.join(ROOT, 'configs', 'uname.yaml');
    const cmd = [...inner('--mount', '/x=memfs'), ...inner('--config', uname), 'sh', '-c', 'id -u; uname -n; touch /x/g; chown 7:8 /x/g; stat -c %u:%g /x/g'];
    const v = await vviewRun(cmd, { t, flags: ['--fakeroot'], timeout: 120_000 });
    t.is(v.status, 0, describe(v));
    t.is(v.stdout, '0\nsandbox\n7:8\n', describe(v));
  });

  test(`[${p.name}] the outer view's modules see the inner monitor's own files, never the inner view's paths`, async (t) => {
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

  test(`[${p.name}] kill -9 of the outer vview of a nested view leaves no process behind`, async (t) => {
    const r = startVview(['run', '--', ...inner(), 'sh', '-c', 'sleep 1000 & echo pids $$ $!; wait'], { t, timeout: 90_000, keepLeftovers: true });
    const out = await r.waitForStdout(/pids \d+ \d+\n/, 60_000);
    const pids = out.match(/pids (\d+) (\d+)/)!.slice(1).map(Number);
    const innerPid = procStat(pids[0])?.ppid ?? 0;
    t.true(innerPid > 0 && procStat(innerPid)?.comm === 'node', `the inner vview (parent of ${pids[0]}) is not node: ${JSON.stringify(procStat(innerPid))}`);
    const all = [innerPid, ...pids];
    for (const q of all) t.true(isAlive(q), `process ${q} should be running before the monitor dies`);
    t.teardown(() => all.forEach((p) => { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }));
    process.kill(r.pid, 'SIGKILL');
    await r.result;
    const gone = await waitUntil(() => all.every((p) => !isAlive(p)), 30_000);
    t.true(gone, `still running after the outer monitor died: ${all.filter((p) => isAlive(p)).join(', ')}`);
  });

  test(`[${p.name}] kill -9 of the inner vview kills its command, as the kernel's EXITKILL would`, async (t) => {
    const r = startVview(['run', '--mount', '/o=memfs', '--', ...inner('--mount', '/x=memfs'), 'sh', '-c', 'sleep 1000 & echo pids $$ $!; wait'], { t, timeout: 90_000 });
    const out = await r.waitForStdout(/pids \d+ \d+\n/, 60_000);
    const pids = out.match(/pids (\d+) (\d+)/)!.slice(1).map(Number);
    const innerPid = procStat(pids[0])?.ppid ?? 0;
    t.is(procStat(innerPid)?.comm, 'node', 'the parent of the command is the inner vview');
    t.teardown(() => pids.forEach((q) => { try { process.kill(q, 'SIGKILL'); } catch { /* gone */ } }));
    process.kill(innerPid, 'SIGKILL');
    const gone = await waitUntil(() => pids.every((q) => !isAlive(q) || procStat(q)?.state === 'Z'), 30_000);
    t.true(gone, `still running after the inner vview died: ${pids.filter((q) => isAlive(q)).join(', ')}`);
    const v = await r.result;
    t.is(v.status, 137, describe(v));
  });

  test(`[${p.name}] the command's exit status, its signal death and a SIGTERM sent to the inner vview come through as natively`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-nest-sig-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const up = path.join(dir, 'up');
    await native(['mkfifo', up], { t });
    const script = [
      `${inner('--mount', '/x=memfs').join(' ')} sh -c 'exit 7'; echo "exit $?"`,
      `${inner('--mount', '/x=memfs').join(' ')} sh -c 'kill -USR1 $$'; echo "signal $?"`,
      // The inner vview forwards TERM to its command, which reports it.
      `${inner('--mount', '/x=memfs').join(' ')} sh -c 'trap "echo got TERM; exit 3" TERM; echo up > ${up}; while :; do sleep 0.01; done' & read _ < ${up}; kill -TERM $!; wait $!; echo "term $?"`,
    ].join('; ');
    const v = await vviewRun(['sh', '-c', script], { t, flags: ['--fakeroot'], timeout: 90_000 });
    t.is(v.status, 0, describe(v));
    t.is(v.stdout, 'exit 7\nsignal 138\ngot TERM\nterm 3\n', describe(v));
  });

  test(`[${p.name}] the command inherits no channel of the monitors: only its own fds`, async (t) => {
    const cmd = ['sh', '-c', 'ls /proc/$$/fd | sort -n | tr "\\n" " "'];
    // (The same as in one view: what the caller passed, and nothing more.)
    const n = await vviewRun(cmd, { t, flags: ['--fakeroot'] });
    const v = await vviewRun([...inner('--mount', '/x=memfs'), ...cmd], { t, flags: ['--fakeroot'], timeout: 90_000 });
    t.is(v.status, 0, describe(v));
    t.is(v.stdout, n.stdout, describe(v));
  });

  test(`[${p.name}] make -j2 of a C project in the inner view's memfs, under fakeroot outside: built, run, owned by root`, async (t) => {
    const N = 8;
    const script = [
      'mkdir /x/p && cd /x/p',
      `i=0; while [ $i -lt ${N} ]; do printf 'long f%d(long x) { return x * %d; }\n' $i $((i+2)) > f$i.c; i=$((i+1)); done`,
      `{ echo '#include <stdio.h>'; i=0; while [ $i -lt ${N} ]; do echo "long f$i(long);"; i=$((i+1)); done; echo 'int main(void) { long t = 0;'; i=0; while [ $i -lt ${N} ]; do echo "  t += f$i(10);"; i=$((i+1)); done; printf '%s\\n' '  printf("%ld\\n", t); return 0; }'; } > main.c`,
      `printf 'app: main.o %s\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O1 -c -o $@ $<\n' "$(i=0; while [ $i -lt ${N} ]; do printf 'f%d.o ' $i; i=$((i+1)); done)" > Makefile`,
      'make -s -j2 && ./app && ls | wc -l && stat -c %u:%g app',
    ].join('\n');
    const v = await vviewRun([...inner('--mount', '/x=memfs'), 'sh', '-c', script], { t, flags: ['--fakeroot'], timeout: 120_000 });
    t.is(v.status, 0, describe(v));
    // sum of 10 * (i + 2) for i < 8; main.c, Makefile, app, 9 .c and 9 .o files
    t.is(v.stdout, `${Array.from({ length: N }, (_, i) => 10 * (i + 2)).reduce((a, b) => a + b)}\n${2 * N + 4}\n0:0\n`, describe(v));
  });

  // (The outer view is root's: CI runs as root; an unprivileged outer is the test below.)
  (IS_ROOT ? test : test.skip)(`[${p.name}] an unprivileged inner vview in a root's view: its command runs and sees the inner view`, async (t) => {
    const setpriv = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
    const v = await vviewRun([...setpriv, ...inner('--config', path.join(ROOT, 'configs', 'uname.yaml')), 'sh', '-c', 'uname -n; id -u'], {
      t, flags: ['--mount', '/x=memfs'], cwd: os.tmpdir(), timeout: 90_000,
    });
    t.is(v.status, 0, describe(v));
    t.is(v.stdout, `sandbox\n${NOBODY}\n`, describe(v));
  });

  test(`[${p.name}] a nested view as an unprivileged user`, async (t) => {
    if (!(await canRunUnprivileged())) return t.fail('cannot run as the unprivileged user (setpriv)');
    const v = await vviewRun([...inner('--mount', '/x=memfs'), 'sh', '-c', SCRIPT], {
      t, flags: ['--fakeroot'], unprivileged: true, cwd: os.tmpdir(), timeout: 90_000,
    });
    t.is(v.status, 0, describe(v));
    t.regex(v.stdout, /^0\n-rw-r--r-- 1 0 0 0 .* f\n$/, describe(v));
  });

}

test('an inner vview joins the outer monitor as a layer; --no-join and VVIEW_NO_JOIN trace through the emulation; --stats says which', async (t) => {
  const run = (flags: string[], env?: NodeJS.ProcessEnv) =>
    vviewRun([process.execPath, VVIEW_JS, 'run', '--stats', ...flags, '--mount', '/x=memfs', '--', 'sh', '-c', 'touch /x/f; ls /x'], {
      t, flags: ['--fakeroot'], timeout: 90_000, env: { ...process.env, ...env },
    });
  const joined = await run([]);
  t.is(joined.stdout, 'f\n', describe(joined));
  t.regex(joined.stderr, /joined the monitor of the view around this one as its layer 1/, describe(joined));
  for (const [flags, env] of [[['--no-join'], undefined], [[], { VVIEW_NO_JOIN: '1' }]] as const) {
    const v = await run([...flags], env);
    t.is(v.stdout, 'f\n', describe(v));
    t.notRegex(v.stderr, /joined the monitor/, describe(v));
    t.regex(v.stderr, /ptrace in the view|tracer stops/, describe(v));
  }
});

test('70 inner vviews one after the other in one view all join: the layer of one that has ended is used again (64 at most are kept)', async (t) => {
  const one = `${process.execPath} ${VVIEW_JS} run --stats --mount /x=memfs -- true 2>&1 | grep -c "joined the monitor"`;
  const v = await vviewRun(['sh', '-c', `i=0; n=0; while [ $i -lt 70 ]; do n=$((n + $(${one}))); i=$((i+1)); done; echo $n`], { t, timeout: 300_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, '70\n', describe(v));
});

test("an inner vview whose working copy would live in the outer view's memfs is not joined: it says why in --stats and works through the emulation", async (t) => {
  const mnt = `/vview-nojoin-${process.pid}`;
  const v = await vviewRun([process.execPath, VVIEW_JS, 'run', '--stats', '--mount', `/y=memfs:${mnt}/state`, '--', 'sh', '-c', 'echo kept > /y/f; cat /y/f'], {
    t, flags: ['--mount', `${mnt}=memfs`], timeout: 90_000,
  });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, 'kept\n', describe(v));
  t.regex(v.stderr, new RegExp(`not joined to the monitor of the view around this one \\(its mount's directory ${mnt}/\\.state\\.vview-work/tree is in the outer view's ${mnt}\\)`), describe(v));
});

(IS_ROOT ? test : test.skip)("the join requests: a program cannot put itself under another subtree's layer, nor under its own before it is configured, nor as its server, nor serve one that could gain privileges, and a malformed table is refused; natively EINVAL", async (t) => {
  const bin = await compileFixture('join_probe');
  const args = (layers: number[]) => [bin, String(Join.prctl), String(Join.open), String(Join.enter), ...layers.map(String)];
  const n = await native(args([1, 5]), { t });
  t.is(n.stdout, 'enter 1: EINVAL\nenter 5: EINVAL\nopen: EINVAL\n', describe(n));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-join-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  const [f1, f2] = [path.join(dir, 'f1'), path.join(dir, 'f2')];
  await native(['mkfifo', f1, f2], { t });
  const innerCmd = `${process.execPath} ${VVIEW_JS} run --mount /x=memfs -- sh -c '${`echo up > ${f1}; read _ < ${f2}; ${args([1, 2, 9]).join(' ')}`}'`;
  // Outside the inner view (its layer 1), then inside it (layer 2 is the
  // outer probe's own, never configured).
  const script = `${innerCmd} & read x < ${f1}; ${args([1, 5]).join(' ')}; echo go > ${f2}; wait`;
  const v = await vviewRun(['sh', '-c', script], { t, flags: ['--mount', '/o=memfs'], timeout: 90_000 });
  t.is(v.status, 0, describe(v));
  const own = 'open: layer\nenter own, by the server: EPERM\nenter own, by its child before it is configured: EPERM\na malformed table: channel closed\n';
  t.is(v.stdout, `enter 1: EPERM\nenter 5: EINVAL\n${own}enter 1: 0\nenter 2: EPERM\nenter 9: EINVAL\n${own}`, describe(v));
  // A server without CAP_SYS_PTRACE serves only processes that cannot gain
  // privileges by exec (NO_NEW_PRIVS): else a setuid program's calls would be
  // answered by it. Root's server may serve any.
  const serve = [...args([]), 'serve'];
  const asNobody = await vviewRun(['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...serve], { t, flags: ['--mount', '/o=memfs'], cwd: os.tmpdir() });
  t.is(asNobody.stdout, 'open: layer\nanswer: ready\nenter by a child: EPERM\nenter by a child with NO_NEW_PRIVS: 0\n', describe(asNobody));
  const asRoot = await vviewRun(serve, { t, flags: ['--mount', '/o=memfs'] });
  t.is(asRoot.stdout, 'open: layer\nanswer: ready\nenter by a child: 0\nenter by a child with NO_NEW_PRIVS: EPERM\n', describe(asRoot));
  // The monitor says so, and the view goes on.
  t.regex(v.stderr, /vview: joined view 2: its routing table is refused \(bad routes\); its channel is closed/, describe(v));
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

for (const p of PATHS) {
  const inner = (...args: string[]): string[] => [process.execPath, VVIEW_JS, 'run', ...p.flags, ...args, '--'];

  gdb(`[${p.name}] gdb in a nested view: breakpoint, finish, stepi and continue, the same session as natively`, async (t) => {
    const bin = await compileFixture('gdb_crash', { debug: true });
    const cmd = ['gdb', '-nx', '-batch', '-ex', 'break twice', '-ex', 'run', '-ex', 'finish', '-ex', 'stepi', '-ex', 'info registers rip', '-ex', 'continue', bin];
    const mask = (r: { stdout: string; stderr: string }) =>
      (r.stdout + r.stderr).replace(/0x[0-9a-f]+/g, '0xN').replace(/\(LWP \d+\)/g, '(LWP N)').replace(/process \d+/g, 'process N');
    const n = await native(cmd, { t, timeout: 120_000 });
    const v = await vviewRun([...inner('--config', path.join(ROOT, 'configs', 'hide.yaml')), ...cmd], { t, flags: ['--mount', '/x=memfs'], timeout: 120_000 });
    t.is(v.status, n.status, describe(v));
    t.is(mask(v), mask(n));
    t.regex(v.stdout, /Value returned is \$1 = 42/);
  });

  strace(`[${p.name}] strace -f inside a nested view sees the inner view`, async (t) => {
    const v = await vviewRun([...inner('--config', path.join(ROOT, 'configs', 'hide.yaml')), 'strace', '-f', '-e', 'trace=openat', 'cat', '/etc/shadow'], {
      t, flags: ['--fakeroot'], timeout: 90_000,
    });
    t.is(v.status, 1, describe(v));
    t.regex(v.stderr, /openat\(AT_FDCWD, "\/etc\/shadow", O_RDONLY\) = -1 ENOENT/, describe(v));
  });

  test(`[${p.name}] the inner monitor's state file lives in the outer view: saved into the outer memfs, reloaded by a second inner run, never on the host`, async (t) => {
    const mnt = `/vview-nest-${process.pid}`;
    const j = (...a: string[]) => [process.execPath, VVIEW_JS, 'run', ...p.flags, ...a, '--'].join(' ');
    const script = `${j('--mount', `/y=memfs:${mnt}/state`)} sh -c 'echo kept > /y/f' && ls ${mnt} && ${j('--mount', `/y=memfs:${mnt}/state`)} cat /y/f`;
    const v = await vviewRun(['sh', '-c', script], { t, flags: ['--mount', `${mnt}=memfs`], timeout: 120_000 });
    t.is(v.status, 0, describe(v));
    t.is(v.stdout, 'state\nkept\n', describe(v));
    t.false(fs.existsSync(mnt), `${mnt} was created on the host`);
  });
}
