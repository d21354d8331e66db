/**
 * ptrace inside a view (docs/ptrace-emulation.md, phase 1): strace -f runs in
 * a view, its requests and waits answered by the monitor's emulation. Each
 * result is compared with the same command run natively where one exists.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import {
  canRunUnprivileged, compileFixture, describe, isAlive, makeTempDir, native, procStat, startVview, vviewRun, vviewUnprivileged, waitUntil, writeConfig, ROOT, IS_ROOT, NOBODY,
} from './helpers.js';
import path from 'node:path';

const HAVE_STRACE = fs.existsSync('/usr/bin/strace');
const strace = HAVE_STRACE ? test : test.skip;

/** strace's lines with every pid replaced, so that two runs compare. */
function maskPids(text: string, pids: number[] = []): string {
  let out = text.replace(/\[pid +\d+\]/g, '[pid N]');
  for (const p of pids) out = out.replaceAll(String(p), 'N');
  return out;
}

strace('strace -f -e trace=openat cat /etc/hostname: the same output and status as natively', async (t) => {
  const cmd = ['strace', '-f', '-e', 'trace=openat', 'cat', '/etc/hostname'];
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t, timeout: 60_000 });
  t.is(v.status, n.status, describe(v));
  t.is(v.stdout, n.stdout);
  t.is(maskPids(v.stderr), maskPids(n.stderr), describe(v));
  t.regex(v.stderr, /openat\(AT_FDCWD, "\/etc\/hostname", O_RDONLY\) = 3/);
});

strace('strace in a view sees the view: a hidden file is ENOENT, and cat exits 1', async (t) => {
  const config = path.join(ROOT, 'configs', 'hide.yaml');
  const v = await vviewRun(['strace', '-f', '-e', 'trace=openat', 'cat', '/etc/shadow'], { t, config, timeout: 60_000 });
  t.is(v.status, 1, describe(v));
  t.regex(v.stderr, /openat\(AT_FDCWD, "\/etc\/shadow", O_RDONLY\) = -1 ENOENT \(No such file or directory\)/, describe(v));
  t.regex(v.stderr, /\+\+\+ exited with 1 \+\+\+\n$/);
});

strace('strace -f in a memfs mount names the view paths only, never the scratch copy', async (t) => {
  const v = await vviewRun(['strace', '-f', 'sh', '-c', 'echo hi > /x/f; cat /x/f'], {
    t, flags: ['--mount', '/x=memfs'], timeout: 60_000,
  });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, 'hi\n');
  t.false(v.stderr.includes('vview-scratch'), v.stderr);
  t.regex(v.stderr, /openat\(AT_FDCWD, "\/x\/f", O_WRONLY\|O_CREAT\|O_TRUNC, 0666\) = 3/);
  t.regex(v.stderr, /openat\(AT_FDCWD, "\/x\/f", O_RDONLY\) = 3/);
  t.regex(v.stderr, /\+\+\+ exited with 0 \+\+\+\n$/);
});

/** strace -c's table as syscall -> "calls errors". */
function counts(stderr: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stderr.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^\d+\.\d+$/.test(f[0]) || f[f.length - 1] === 'total') continue;
    const name = f[f.length - 1];
    const calls = f[3];
    const errors = f.length >= 6 ? f[4] : '0';
    m.set(name, `${calls} ${errors}`);
  }
  return m;
}

strace('strace -c -f: the same syscalls, counts and errors as natively', async (t) => {
  const cmd = ['strace', '-c', '-f', 'cat', '/etc/hostname'];
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t, timeout: 60_000 });
  t.is(v.status, n.status, describe(v));
  t.is(v.stdout, n.stdout);
  const cn = counts(n.stderr);
  const cv = counts(v.stderr);
  t.true(cn.size > 10, n.stderr);
  t.deepEqual([...cv.entries()].sort(), [...cn.entries()].sort(), v.stderr);
});

strace('strace -f of a background job and wait: finishes and prints what it prints natively', async (t) => {
  const cmd = ['strace', '-f', '-o', '/dev/null', 'sh', '-c', 'sleep 0 & wait; echo done'];
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t, timeout: 60_000 });
  t.is(v.status, n.status, describe(v));
  t.is(v.stdout, 'done\n');
  t.is(v.stdout, n.stdout);
});

strace('strace -f of a child that stops and is continued by its parent (WUNTRACED, WCONTINUED)', async (t) => {
  const bin = await compileFixture('ptrace_jobstop');
  const n = await native([bin], { t });
  t.is(n.stdout, 'stopped: 19\ncontinued: 1\nexit: 3\n', describe(n));
  const ns = await native(['strace', '-f', '-o', '/dev/null', bin], { t });
  const v = await vviewRun(['strace', '-f', '-o', '/dev/null', bin], { t, timeout: 60_000 });
  t.is(v.status, ns.status, describe(v));
  t.is(v.stdout, ns.stdout, describe(v));
  t.is(v.stdout, n.stdout);
});

strace('an inner tracer killed while its tracee is stopped: the tracee is detached and goes on, as natively', async (t) => {
  // strace does not ask EXITKILL: natively its tracees run on when it dies.
  const cmd = ['strace', '-f', '-o', '/dev/null', 'sh', '-c', 'kill -9 $PPID; echo survived; cat /etc/hostname'];
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t, timeout: 60_000 });
  t.is(v.status, n.status, describe(v));
  t.is(v.stdout, n.stdout, describe(v));
  t.regex(v.stdout, /^survived\n/);
});

strace('vview killed with SIGKILL while strace -f runs inside: strace and its tracees are gone', async (t) => {
  const r = startVview(['run', '--', 'strace', '-f', '-o', '/dev/null', 'sh', '-c', 'sleep 1000 & a=$!; echo pids $$ $a; wait'], {
    t, timeout: 60_000, keepLeftovers: true,
  });
  const out = await r.waitForStdout(/pids \d+ \d+\n/);
  const pids = out.match(/pids (\d+) (\d+)/)!.slice(1).map(Number);
  const strace = procStat(pids[0])?.ppid ?? 0;
  t.is(procStat(strace)?.comm, 'strace');
  for (const p of [strace, ...pids]) t.true(isAlive(p), `process ${p} should be running before the monitor dies`);
  process.kill(r.pid, 'SIGKILL');
  await r.result;
  const all = [strace, ...pids];
  // Nothing is left behind, whatever the outcome.
  t.teardown(() => all.forEach((p) => { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }));
  const gone = await waitUntil(() => all.every((p) => !isAlive(p)), 30_000);
  t.true(gone, `still running after the monitor died: ${all.filter((p) => isAlive(p)).join(', ')}`);
});

strace('strace -p of a process of the view that is not its child: a signal reaches strace while it waits (it detaches and exits)', async (t) => {
  // strace has no child of its own: its wait sleeps in pause() and a signal
  // interrupts it as natively (it used to be held in a stop, deaf to signals).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-strace-p-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = `(sleep 1000 & echo $! > ${dir}/pid); echo strace $$; exec strace -o /dev/null -p $(cat ${dir}/pid) 2>&1`;
  const r = startVview(['run', '--', 'sh', '-c', script], { t, timeout: 60_000 });
  const out = await r.waitForStdout(/attached/);
  const stracePid = Number(/strace (\d+)/.exec(out)![1]);
  t.is(procStat(stracePid)?.comm, 'strace');
  process.kill(r.pid, 'SIGTERM'); // forwarded to the command: strace
  await r.waitForStdout(/detached/);
  t.true(await waitUntil(() => !isAlive(stracePid) || procStat(stracePid)?.state === 'Z', 30_000), 'strace still running after SIGTERM');
  r.kill(); // the view still runs sleep 1000, a process of the view
  await r.result;
});

strace('strace -f in a view run as an unprivileged user', async (t) => {
  if (!(await canRunUnprivileged())) return t.fail('cannot run as the unprivileged user: setpriv (util-linux) is missing or refused');
  const cmd = ['strace', '-f', '-e', 'trace=openat', 'cat', '/etc/hostname'];
  const n = await native(cmd, { t });
  const v = await vviewUnprivileged(['run', '--', ...cmd], { t, timeout: 60_000 });
  t.is(v.status, n.status, describe(v));
  t.is(maskPids(v.stderr), maskPids(n.stderr), describe(v));
});

test('TRACEME + exec, SEIZE/INTERRUPT/LISTEN, group-stop and GET_SYSCALL_INFO: the same statuses as natively', async (t) => {
  const bin = await compileFixture('ptrace_seize');
  const n = await native([bin, '/bin/true'], { t });
  t.is(n.status, 0, describe(n));
  const v = await vviewRun([bin, '/bin/true'], { t, timeout: 60_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, n.stdout, describe(v));
  // The same with a module loaded (the calls then also pass the modules' routes).
  const config = writeConfig('modules:\n  - uname: { nodename: inner }\n');
  const m = await vviewRun([bin, '/bin/true'], { t, config, timeout: 60_000 });
  t.is(m.stdout, n.stdout, describe(m));
  t.is(m.status, n.status, describe(m));
});

strace('attaching to a process that is not dumpable is refused as natively (EPERM), as the same user without CAP_SYS_PTRACE', async (t) => {
  if (!(await canRunUnprivileged())) return t.fail('cannot run as the unprivileged user (setpriv)');
  // The target makes itself non-dumpable; the tracer is the same user: the
  // kernel refuses (ptrace access mode: dumpable or CAP_SYS_PTRACE).
  const script =
    `/usr/bin/python3 -c 'import ctypes, os, time; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); print(os.getpid(), flush=True); time.sleep(1000)' > $T/pid & ` +
    `while [ ! -s $T/pid ]; do sleep 0.01; done; strace -o /dev/null -p $(cat $T/pid) 2>&1 | sed "s/[0-9][0-9]*/N/g"; kill $!`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-dumpable-'));
  fs.chmodSync(dir, 0o777);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, T: dir };
  const n = await native(['sh', '-c', script], { t, env, unprivileged: true });
  fs.rmSync(path.join(dir, 'pid'), { force: true });
  const v = await vviewRun(['sh', '-c', script], { t, env, unprivileged: true, timeout: 60_000 });
  t.regex(n.stdout, /Operation not permitted/, describe(n));
  t.is(v.stdout, n.stdout, describe(v));
});

test('TracerPid in /proc/PID/status shows the emulated tracer to the tracee and the tracer, and 0 after a detach, as natively', async (t) => {
  const bin = await compileFixture('tracerpid');
  const n = await native([bin], { t });
  t.is(n.status, 0, describe(n));
  t.regex(n.stdout, /^tracer, \/proc\/CHILD\/status: the parent\n/, describe(n));
  const v = await vviewRun([bin], { t, timeout: 60_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, n.stdout, describe(v));
  // Also with a module that routes the open family (the same opens then pass its routes).
  const m = await vviewRun([bin], { t, flags: ['--mount', '/x=memfs'], timeout: 60_000 });
  t.is(m.stdout, n.stdout, describe(m));
});

test("a tracer's waits (WNOHANG, __WCLONE, __WALL, ECHILD), a tracee whose tracer is its parent exiting once, and EXITKILL: as natively", async (t) => {
  const bin = await compileFixture('ptrace_wait');
  const n = await native([bin], { t });
  t.is(n.status, 0, describe(n));
  t.regex(n.stdout, /EXITKILL: the tracee is gone \(read 0\)/);
  const v = await vviewRun([bin], { t, timeout: 60_000 });
  t.is(v.status, 0, describe(v));
  t.is(v.stdout, n.stdout, describe(v));
});

test("a tracer's PEEKUSER and GETREGS at the exit stop show the program's own call, not what the view's modules gave the kernel, as natively", async (t) => {
  const bin = await compileFixture('ptrace_overlay');
  const dir = makeTempDir('overlay-');
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 's\n');
  // Natively: a missing file (ENOENT), an existing one (an fd).
  const nMissing = await native([bin, path.join(dir, 'missing')], { t });
  const nFile = await native([bin, '/etc/hostname'], { t });
  t.regex(nMissing.stdout, /PEEKUSER orig_rax is openat, GETREGS orig_rax is openat, path argument is the program's, result ENOENT/, describe(nMissing));
  // hide answers ENOENT without the kernel (the call is skipped: orig_rax -1 for real).
  const config = writeConfig(`modules:\n  - hide:\n      paths: [${JSON.stringify(secret)}]\n`);
  const hidden = await vviewRun([bin, secret], { t, config, timeout: 60_000 });
  t.is(hidden.stdout, nMissing.stdout, describe(hidden));
  // A memfs mount gives the kernel a scratch path instead of the program's.
  const mounted = await vviewRun(['sh', '-c', `echo a > /x/f && exec ${bin} /x/f`], { t, flags: ['--mount', '/x=memfs'], timeout: 60_000 });
  t.is(mounted.stdout, nFile.stdout, describe(mounted));
});

test('PTRACE_SINGLESTEP over a syscall the view stops at (chdir under a path module) ends right after the syscall, as natively', async (t) => {
  const bin = await compileFixture('ptrace_step');
  const n = await native([bin], { t });
  t.is(n.status, 0, describe(n));
  t.regex(n.stdout, /^at start: yes\n/, describe(n));
  for (const config of [undefined, writeConfig('modules:\n  - hide:\n      paths: ["/nonexistent-vview-step"]\n')]) {
    const v = await vviewRun([bin], { t, config, timeout: 60_000 });
    t.is(v.status, 0, describe(v));
    t.is(v.stdout, n.stdout, describe(v));
  }
});

// Root's view (CI runs as root): an unprivileged tracer inside it must not get
// a setuid program's privileges, which the kernel drops natively because that
// tracer could not trace the result.
(HAVE_STRACE && IS_ROOT ? test : test.skip)('a setuid-root program under an unprivileged strace in root\'s view never runs as root; alone it does, as natively', async (t) => {
  const built = await compileFixture('euid');
  const dir = makeTempDir('suid-', { shared: true });
  const bin = path.join(dir, 'euid');
  fs.copyFileSync(built, bin);
  fs.chmodSync(bin, 0o4755);
  const nobody = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
  const traced = [...nobody, 'strace', '-f', '-o', '/dev/null', bin];
  const n = await native(traced, { t, cwd: dir });
  t.is(n.stdout, `euid=${NOBODY}\n`, describe(n));
  const v = await vviewRun(traced, { t, cwd: dir });
  t.false(v.stdout.includes('euid=0'), describe(v));
  t.regex(v.stderr, /gains privileges at exec, traced by a tracer in the view without CAP_SYS_PTRACE: killed/, describe(v));
  // Untraced, the setuid bit works in the view as natively.
  const alone = await vviewRun([...nobody, bin], { t, cwd: dir });
  t.is(alone.stdout, 'euid=0\n', describe(alone));
});
