/**
 * gdb inside a view (docs/ptrace-emulation.md, phase 2): run, backtrace,
 * breakpoints, finish, stepi, threads and attach (-p), through the monitor's
 * ptrace emulation. Each session is compared with the same session natively.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canRunUnprivileged, compileFixture, describe, native, vviewRun, type RunResult } from './helpers.js';

const HAVE_GDB = fs.existsSync('/usr/bin/gdb');
const gdb = HAVE_GDB ? test : test.skip;

/** The line of the fixture's source that holds marker. */
function lineOf(fixture: string, marker: string): number {
  const src = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', `${fixture}.c`), 'utf8');
  return src.split('\n').findIndex((l) => l.includes(marker)) + 1;
}

/** gdb's output without what differs between two runs: addresses, pids, thread ids. */
function mask(r: RunResult): string {
  return (r.stdout + r.stderr)
    .replace(/0x[0-9a-f]+/g, '0xN')
    .replace(/\(LWP \d+\)/g, '(LWP N)')
    .replace(/process \d+/g, 'process N');
}

gdb('gdb -batch -ex run -ex bt: the SIGSEGV and every frame with file:line, as natively', async (t) => {
  const bin = await compileFixture('gdb_crash', { debug: true });
  const cmd = ['gdb', '-nx', '-batch', '-ex', 'run', '-ex', 'bt', bin];
  const n = await native(cmd, { t, timeout: 120_000 });
  const v = await vviewRun(cmd, { t, timeout: 120_000 });
  t.is(v.status, n.status, describe(v));
  t.is(mask(v), mask(n));
  const line = lineOf('gdb_crash', 'CRASH HERE');
  t.regex(v.stdout, /Program received signal SIGSEGV, Segmentation fault\./, describe(v));
  t.regex(v.stdout, new RegExp(`#0 .* depth \\(n=0\\) at .*gdb_crash\\.c:${line}\\n`), describe(v));
  t.regex(v.stdout, /#4 .* main \(\) at /);
});

gdb('gdb breakpoint, finish, stepi and continue: the same session as natively', async (t) => {
  const bin = await compileFixture('gdb_crash', { debug: true });
  const cmd = ['gdb', '-nx', '-batch', '-ex', 'break twice', '-ex', 'run', '-ex', 'finish', '-ex', 'stepi', '-ex', 'info registers rip', '-ex', 'continue', bin];
  const n = await native(cmd, { t, timeout: 120_000 });
  const v = await vviewRun(cmd, { t, timeout: 120_000 });
  t.is(v.status, n.status, describe(v));
  t.is(mask(v), mask(n));
  t.regex(v.stdout, new RegExp(`Breakpoint 1, twice \\(x=21\\) at .*gdb_crash\\.c:${lineOf('gdb_crash', 'TWICE BODY')}`), describe(v));
  t.regex(v.stdout, /Value returned is \$1 = 42/);
  t.regex(v.stdout, /twice 42\n/);
});

/** `info threads` rows. */
const threadRows = (s: string) => s.split('\n').filter((l) => /^\*? +\d+ +Thread 0x[0-9a-f]+ \(LWP \d+\)/.test(l));

gdb('gdb info threads at a breakpoint in a threaded program: the four threads, as natively', async (t) => {
  const bin = await compileFixture('gdb_threads', { debug: true });
  const cmd = ['gdb', '-nx', '-batch', '-ex', 'break tick', '-ex', 'run', '-ex', 'info threads', '-ex', 'kill', bin];
  const n = await native(cmd, { t, timeout: 120_000 });
  const v = await vviewRun(cmd, { t, timeout: 120_000 });
  t.is(v.status, n.status, describe(v));
  t.is(threadRows(n.stdout).length, 4, describe(n));
  t.is(threadRows(v.stdout).length, 4, describe(v));
  t.regex(v.stdout, new RegExp(`hit Breakpoint 1, tick \\(id=\\d\\) at .*gdb_threads\\.c:${lineOf('gdb_threads', 'TICK BODY')}`), describe(v));
  t.regex(v.stdout, /\[Inferior 1 \(process \d+\) killed\]/);
});

/** A shell script: starts the spinner, attaches gdb -p, breaks, continues, detaches, then ends the spinner. */
function attachScript(bin: string, dir: string): string {
  return `${bin} wait > ${dir}/out & p=$!; until grep -q ready ${dir}/out 2>/dev/null; do sleep 0.05; done; ` +
    `gdb -nx -batch -p $p -ex "info threads" -ex "break tick" -ex continue -ex "bt 1" -ex detach 2>&1; ` +
    `kill -0 $p && echo still running; kill $p; wait $p; echo status $?`;
}

async function attach(t: Parameters<Parameters<typeof test>[1]>[0], unprivileged: boolean): Promise<void> {
  const bin = await compileFixture('gdb_threads', { debug: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-gdb-p-'));
  fs.chmodSync(dir, 0o777);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const n = await native(['sh', '-c', attachScript(bin, dir)], { t, unprivileged, timeout: 120_000 });
  fs.rmSync(path.join(dir, 'out'), { force: true });
  const v = await vviewRun(['sh', '-c', attachScript(bin, dir)], { t, unprivileged, timeout: 120_000 });
  t.is(v.status, 0, describe(v));
  const keep = (s: string) => s.split('\n').filter((l) => /hit Breakpoint|^#0|detached|still running|^status|Id +Target/.test(l))
    .map((l) => l.replace(/Thread \d+/, 'Thread N').replace(/id=\d/, 'id=N').replace(/process \d+/, 'process N')).join('\n');
  t.is(keep(v.stdout), keep(n.stdout), describe(v));
  t.regex(v.stdout, /hit Breakpoint 1, tick \(id=\d\)/, describe(v));
  t.regex(v.stdout, /\[Inferior 1 \(process \d+\) detached\]\nstill running\n/, describe(v));
}

gdb('gdb -p of a threaded process in the view: attach, break, continue, detach; the process runs on', (t) => attach(t, false));

gdb('gdb -p as an unprivileged user', async (t) => {
  if (!(await canRunUnprivileged())) return t.fail('cannot run as the unprivileged user (setpriv)');
  await attach(t, true);
});

gdb('a program run under gdb sees gdb as its tracer in /proc/self/status (TracerPid), as natively', async (t) => {
  const bin = await compileFixture('tracerpid', { debug: true });
  const cmd = ['gdb', '-nx', '-batch', '-ex', 'run self', bin];
  const n = await native(cmd, { t, timeout: 120_000 });
  const v = await vviewRun(cmd, { t, timeout: 120_000 });
  t.regex(n.stdout, /my tracer: the parent\n/, describe(n));
  t.regex(v.stdout, /my tracer: the parent\n/, describe(v));
});
