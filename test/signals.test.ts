/**
 * Signals: SIGTERM/SIGINT sent to vview reach the command; a command killed by
 * a signal makes vview exit 128+N; a monitor killed with SIGKILL takes the
 * traced tree with it; no process outlives a normal run.
 */
import test from 'ava';
import fs from 'node:fs';
import { VVIEW, describe, isAlive, makeTempDir, native, procStat, startVview, vviewRun, waitUntil } from './helpers.js';

const TRAP = (sig: string) =>
  `trap "echo got-${sig}; exit 42" ${sig}; echo ready; while :; do sleep 0.1; done`;

for (const sig of ['TERM', 'INT', 'HUP', 'USR1'] as const) {
  test(`SIG${sig} sent to vview reaches the command (trap runs, exit 42)`, async (t) => {
    const r = startVview(['run', '--', 'sh', '-c', TRAP(sig)], { t, timeout: 30_000 });
    await r.waitForStdout('ready\n');
    r.kill(`SIG${sig}`);
    const res = await r.result;
    t.false(res.timedOut, describe(res));
    t.is(res.stdout, `ready\ngot-${sig}\n`, describe(res));
    t.is(res.status, 42, describe(res));
    t.deepEqual(res.leftovers, []);
  });
}

test('a command killed by SIGTERM (no trap): vview exits 143', async (t) => {
  const r = startVview(['run', '--', 'sh', '-c', 'echo ready; exec sleep 100'], { t, timeout: 30_000 });
  await r.waitForStdout('ready\n');
  // Let sh exec sleep first.
  t.true(await waitUntil(() => procStat(r.pid) !== undefined && childComms(r.pid).includes('sleep'), 60_000), 'sleep never ran');
  r.kill('SIGTERM');
  const res = await r.result;
  t.false(res.timedOut, describe(res));
  t.is(res.status, 143, describe(res));
  t.deepEqual(res.leftovers, []);
});

test('SIGTERM to vview after the command exited (a background child still runs) ends the view', async (t) => {
  // `timeout 5 vview run -- cmd` must work even when cmd left a child behind:
  // the signal reaches what still runs in the view, and vview ends.
  const r = startVview(['run', '--', 'sh', '-c', 'sleep 1000 & echo child $! $$'], { t, timeout: 60_000 });
  const out = await r.waitForStdout(/child \d+ \d+\n/);
  const [child, shell] = out.match(/child (\d+) (\d+)/)!.slice(1).map(Number);
  // The shell (the command) has exited; vview waits for sleep.
  t.true(await waitUntil(() => !isAlive(shell) || procStat(shell)?.state === 'Z', 60_000), 'the command never exited');
  t.true(isAlive(child));
  r.kill('SIGTERM');
  const res = await r.result;
  t.false(res.timedOut, `vview still running after SIGTERM: ${describe(res)}`);
  t.true(await waitUntil(() => !isAlive(child), 60_000), `the background child ${child} still runs`);
});

test('a command that ignores SIGTERM keeps running; vview keeps waiting for it', async (t) => {
  const r = startVview(['run', '--', 'sh', '-c', 'trap "" TERM; echo ready; sleep 0.5; echo still-here; exit 3'], { t, timeout: 30_000 });
  await r.waitForStdout('ready\n');
  r.kill('SIGTERM');
  const res = await r.result;
  t.is(res.stdout, 'ready\nstill-here\n', describe(res));
  t.is(res.status, 3, describe(res));
});

test('monitor killed with SIGKILL: the whole traced tree is gone', async (t) => {
  const r = startVview(['run', '--', 'sh', '-c', 'sleep 1000 & a=$!; sleep 1000 & echo pids $$ $a $!; wait'], {
    t,
    timeout: 30_000,
    keepLeftovers: true,
  });
  const out = await r.waitForStdout(/pids \d+ \d+ \d+\n/);
  const pids = out.match(/pids (\d+) (\d+) (\d+)/)!.slice(1).map(Number);
  for (const p of pids) t.true(isAlive(p), `process ${p} should be running before the monitor dies`);
  process.kill(r.pid, 'SIGKILL');
  await r.result;
  const gone = await waitUntil(() => pids.every((p) => !isAlive(p)), 60_000);
  const still = pids.filter((p) => isAlive(p)).map((p) => `${p} (${procStat(p)?.comm} ${procStat(p)?.state})`);
  t.true(gone, `still running after the monitor died: ${still.join(', ')}`);
});

test('a normal run with a background child: vview waits for it, nothing is left', async (t) => {
  const dir = makeTempDir('bg-');
  const mark = `${dir}/ended`;
  const res = await vviewRun(['sh', '-c', `(sleep 0.3; echo ended > ${mark}) & echo done`], { t, timeout: 30_000 });
  t.is(res.stdout, 'done\n', describe(res));
  t.is(res.status, 0, describe(res));
  // Written by the child as it ended: vview returned after it, however slow the machine.
  t.is(fs.readFileSync(mark, 'utf8'), 'ended\n', 'vview returned before the background child ended');
  t.deepEqual(res.leftovers, []);
});

test('a daemonizing child (setsid, double fork) is waited for too', async (t) => {
  // The grandchild leaves the process group; vview must still wait for it (it
  // is traced), so its output arrives before vview exits.
  const res = await vviewRun(['sh', '-c', '(setsid sh -c "sleep 0.3; echo late") & echo early'], { t, timeout: 30_000 });
  t.is(res.stdout, 'early\nlate\n', describe(res));
  t.is(res.status, 0);
});

test('stop and continue of a child are seen by its parent like natively (WUNTRACED, WCONTINUED)', async (t) => {
  const py = [
    'import os, signal, sys',
    'r, w = os.pipe()',
    'pid = os.fork()',
    'if pid == 0:',
    '    os.kill(os.getpid(), signal.SIGSTOP)',
    // waitpid reports an exit before a continue: the child exits only once the
    // parent has seen the continue (it says so through the pipe).
    '    os.read(r, 1)',
    '    os._exit(7)',
    '_, st = os.waitpid(pid, os.WUNTRACED)',
    'print("stopped", os.WIFSTOPPED(st), os.WSTOPSIG(st))',
    'os.kill(pid, signal.SIGCONT)',
    '_, st = os.waitpid(pid, os.WCONTINUED)',
    'print("continued", os.WIFCONTINUED(st))',
    'os.write(w, b"x")',
    '_, st = os.waitpid(pid, 0)',
    'print("exited", os.WEXITSTATUS(st))',
    'sys.stdout.flush()',
  ].join('\n');
  const n = await native(['python3', '-c', py], { t, timeout: 20_000 });
  const v = await vviewRun(['python3', '-c', py], { t, timeout: 20_000 });
  t.is(n.stdout, 'stopped True 19\ncontinued True\nexited 7\n');
  t.is(v.stdout, n.stdout, describe(v));
  t.is(v.status, n.status);
});

test('SIGSTOP to the command stops it until SIGCONT', async (t) => {
  // The command goes on only when the test says so (the fifo, open read-write
  // first so that the test's write never waits for a reader), after it was stopped.
  const dir = makeTempDir('stop-');
  const go = `${dir}/go`;
  await native(['mkfifo', go], { t });
  const r = startVview(['run', '--', 'sh', '-c', `exec 3<>${go}; echo ready $$; read _ <&3; echo finished`], {
    t,
    timeout: 60_000,
  });
  const out = await r.waitForStdout(/ready \d+\n/);
  const pid = Number(out.match(/ready (\d+)/)![1]);
  process.kill(pid, 'SIGSTOP');
  const stopped = await waitUntil(() => ['T', 't'].includes(procStat(pid)?.state ?? ''), 60_000);
  t.true(stopped, `state ${procStat(pid)?.state}`);
  // Its input is there, but it stays stopped: no event ends a stop but SIGCONT.
  fs.writeFileSync(go, 'go\n');
  t.true(['T', 't'].includes(procStat(pid)?.state ?? ''), `state ${procStat(pid)?.state} after its input came`);
  t.false(r.stdout.includes('finished'), 'the stopped command kept running');
  process.kill(pid, 'SIGCONT');
  const res = await r.result;
  t.is(res.stdout, `ready ${pid}\nfinished\n`, describe(res));
  t.is(res.status, 0);
});

// A pty driver: bash -i, `sleep 30`, Ctrl-Z, fg, Ctrl-C, `echo status-$?`, exit 3.
const JOB_CONTROL_DRIVER = `
import os, pty, sys, select, time, json, signal
cmd = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.environ['PS1'] = 'PROMPT> '
    os.environ['TERM'] = 'dumb'
    os.execvp(cmd[0], cmd)
buf = b''
def expect(pat, timeout=10):
    global buf
    end = time.time() + timeout
    while pat.encode() not in buf:
        left = end - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            buf += d
    buf = buf[buf.index(pat.encode()) + len(pat):]
    return True
res = {}
res['1 prompt'] = expect('PROMPT> ')
os.write(fd, b'sleep 30\\n')
time.sleep(0.5)
os.write(fd, b'\\x1a')
res['2 stopped by Ctrl-Z'] = expect('Stopped')
res['3 prompt'] = expect('PROMPT> ')
os.write(fd, b'fg\\n')
res['4 fg'] = expect('sleep 30')
time.sleep(0.5)
os.write(fd, b'\\x03')
res['5 prompt after Ctrl-C'] = expect('PROMPT> ')
os.write(fd, b'echo status-$?\\n')
res['6 status 130'] = expect('status-130')
os.write(fd, b'exit 3\\n')
end = time.time() + 10
try:
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 1)
        if r and not os.read(fd, 4096):
            break
except OSError:
    pass
try:
    os.kill(pid, signal.SIGKILL) if time.time() >= end else None
except ProcessLookupError:
    pass
_, st = os.waitpid(pid, 0)
res['7 exit'] = os.waitstatus_to_exitcode(st)
print(json.dumps(res, sort_keys=True))
`;

test('job control in vview run -- bash -i on a terminal: Ctrl-Z, fg, Ctrl-C', async (t) => {
  const bash = ['bash', '--norc', '--noprofile', '-i'];
  const n = await native(['python3', '-c', JOB_CONTROL_DRIVER, ...bash], { t, timeout: 60_000 });
  t.is(n.status, 0, describe(n));
  const expected = JSON.parse(n.stdout);
  t.true(Object.entries(expected).every(([k, v]) => (k === '7 exit' ? v === 3 : v === true)), n.stdout);
  const v = await native(['python3', '-c', JOB_CONTROL_DRIVER, VVIEW, 'run', '--', ...bash], { t, timeout: 60_000 });
  t.is(v.status, 0, describe(v));
  t.deepEqual(JSON.parse(v.stdout || '{}'), expected);
});

/** Names of the children of PID (through /proc/PID/task/*\/children). */
function childComms(pid: number): string[] {
  const out: string[] = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const kids = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      for (const k of kids) {
        out.push(procStat(Number(k))?.comm ?? '');
        out.push(...childComms(Number(k)));
      }
    }
  } catch {
    /* gone */
  }
  return out;
}
