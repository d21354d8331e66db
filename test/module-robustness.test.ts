/**
 * A module cannot wedge the view: setup, a top-level await and close have
 * deadlines; a second INT/TERM/HUP ends a view parked in a handler that never
 * answers; a handler's wrong answer and a bad route are errors naming the
 * module; configs that are too big or use aliases are refused.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { describe, makeTempDir, startVview, vviewRun, waitUntil, writeConfig } from './helpers.js';

/** Writes a module file (ES module importing 'vview') and a config loading it with `deadlines`. */
function view(source: string, opts: { deadlines?: string; options?: string } = {}): string {
  const dir = makeTempDir('mod-');
  const file = path.join(dir, 'm.mjs');
  fs.writeFileSync(file, source);
  return writeConfig(`${opts.deadlines ? `deadlines: ${opts.deadlines}\n` : ''}modules:\n  - ${file}${opts.options ? `: ${opts.options}` : ''}\n`);
}

test('a setup() that never settles: exit 2 with a message, the command never runs', async (t) => {
  const config = view(`import { defineModule } from 'vview';
export default defineModule({ name: 'stuck', setup: () => new Promise(() => {}) });`, { deadlines: '{ setup: 1 }' });
  const r = await vviewRun(['echo', 'ran'], { t, config });
  t.is(r.status, 2, describe(r));
  t.is(r.stdout, '');
  t.regex(r.stderr, /module stuck \(.*m\.mjs\): setup\(\) did not finish within 1 s \(the config's deadlines\.setup\)/, describe(r));
});

test('a top-level await that never settles: exit 2 with the file and line of the module entry', async (t) => {
  const config = view(`import { defineModule } from 'vview';
await new Promise(() => {});
export default defineModule({ name: 'never', setup: () => ({}) });`, { deadlines: '{ setup: 1 }' });
  const r = await vviewRun(['echo', 'ran'], { t, config });
  t.is(r.status, 2, describe(r));
  t.is(r.stdout, '');
  t.true(r.stderr.includes(`${config}:3: modules[0]: cannot load module`), describe(r));
  t.regex(r.stderr, /loading did not finish within 1 s/);
});

test('a close() that never settles: the command ran, vview exits 74 naming the module; a persisted vfs is still saved', async (t) => {
  const dir = makeTempDir('close-');
  const config = view(`import { defineModule } from 'vview';
export default defineModule({ name: 'sticky', setup: () => ({ close: () => new Promise(() => {}) }) });`, { deadlines: '{ close: 1 }' });
  const r = await vviewRun(['sh', '-c', 'echo ran; echo kept > /x/f'], { t, config, flags: ['--mount', `/x=memfs:${dir}/s.vfs`] });
  t.is(r.stdout, 'ran\n');
  t.is(r.status, 74, describe(r));
  t.regex(r.stderr, /vview: sticky: close\(\) did not finish within 1 s/);
  const again = await vviewRun(['cat', '/x/f'], { t, flags: ['--mount', `/x=memfs:${dir}/s.vfs`] });
  t.is(again.stdout, 'kept\n', describe(again));
});

test('a handler that never answers: a second SIGTERM ends the view, and a persisted vfs is saved', async (t) => {
  const dir = makeTempDir('park-');
  const parked = path.join(dir, 'parked');
  const config = view(`import fs from 'node:fs';
import { defineModule } from 'vview';
export default defineModule({
  name: 'park',
  setup: () => ({ syscalls: { sync: (call) => { fs.writeFileSync(${JSON.stringify(parked)}, String(call.pid)); return new Promise(() => {}); } } }),
});`);
  const r = startVview(['run', '--config', config, '--mount', `/x=memfs:${dir}/s.vfs`, '--', 'sh', '-c',
    'echo kept > /x/f; exec sync'], { t });
  t.true(await waitUntil(() => fs.existsSync(parked) && fs.readFileSync(parked, 'utf8') !== '', 30_000), 'the handler was never called');
  const pid = Number(fs.readFileSync(parked, 'utf8'));
  r.kill('SIGTERM');
  // The first one is forwarded: it waits, pending, on the parked process (two
  // SIGTERMs sent at once could merge into one).
  const pending = () => {
    try {
      const m = /^ShdPnd:\s*([0-9a-f]+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m !== null && (BigInt('0x' + m[1]) & (1n << 14n)) !== 0n;
    } catch {
      return false;
    }
  };
  t.true(await waitUntil(pending, 30_000), 'the first SIGTERM never reached the command');
  r.kill('SIGTERM');
  const res = await r.result;
  t.is(res.status, 137, describe(res));
  t.regex(res.stderr, /a second INT\/TERM\/HUP: ending the view/);
  t.deepEqual(res.leftovers, []);
  const again = await vviewRun(['cat', '/x/f'], { t, flags: ['--mount', `/x=memfs:${dir}/s.vfs`] });
  t.is(again.stdout, 'kept\n', describe(again));
});

const BAD_ANSWERS: [string, string, RegExp][] = [
  ["'hello'", 'a string', /returned "hello"/],
  ['42', 'a number', /returned 42;/],
  ["{ kind: 'bogus' }", 'an unknown kind', /returned \{"kind":"bogus"\}/],
  ["rewrite({ 99: 1 })", 'an argument that does not exist', /returned a rewrite of argument "99" \(arguments are 0 to 5\)/],
  ['ret(2n ** 70n)', 'a value past 64 bits', /returned a return value outside 64 bits \(1180591620717411303424n\)/],
  ["null", 'null', /returned null/],
];

for (const [value, what, msg] of BAD_ANSWERS) {
  test(`a handler answering ${what} is an error naming the module, the syscall and the value; the call fails with EIO`, async (t) => {
    const config = view(`import { defineModule, ret, rewrite } from 'vview';
export default defineModule({ name: 'wrong', setup: () => ({ syscalls: { getppid: () => (${value}) } }) });`);
    const py = 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); r = libc.syscall(110); print(r, ctypes.get_errno())';
    const r = await vviewRun(['python3', '-c', py], { t, config });
    t.is(r.status, 0, describe(r));
    t.is(r.stdout, '-1 5\n', describe(r)); // getppid failed with EIO
    t.true(r.stderr.includes('vview: module wrong: the handler of getppid returned '), describe(r));
    t.regex(r.stderr, msg);
  });
}

test('a route that names no syscall, or a relative prefix, stops vview before the command runs', async (t) => {
  const unknown = view(`import { defineModule } from 'vview';
export default defineModule({ name: 'typo', setup: () => ({ syscalls: { getppdi: () => undefined } }) });`);
  const a = await vviewRun(['echo', 'ran'], { t, config: unknown });
  t.is(a.status, 2, describe(a));
  t.is(a.stdout, '');
  t.regex(a.stderr, /module typo \(.*\): setup\(\) returned syscalls\.getppdi: "getppdi" is not a syscall of x86_64/);
  const relative = view(`import { defineModule } from 'vview';
export default defineModule({ name: 'rel', setup: () => ({ paths: { prefixes: ['data/x'], other: () => undefined } }) });`);
  const b = await vviewRun(['echo', 'ran'], { t, config: relative });
  t.is(b.status, 2, describe(b));
  t.regex(b.stderr, /module rel \(.*\): setup\(\) returned paths\.prefixes\[0\]: "data\/x" is not an absolute, normalized path/);
});

test('a config larger than 1 MiB, or /dev/zero, is refused without reading it all', async (t) => {
  const big = writeConfig(`# ${'x'.repeat(1 << 20)}\nmodules: []\n`);
  const a = await vviewRun(['echo', 'ran'], { t, config: big });
  t.is(a.status, 2, describe(a));
  t.true(a.stderr.includes(`${big}:1: the config is larger than 1024 KiB`), describe(a));
  const b = await vviewRun(['echo', 'ran'], { t, config: '/dev/zero' });
  t.is(b.status, 2, describe(b));
  t.true(b.stderr.includes('/dev/zero:1: the config is larger than 1024 KiB'), describe(b));
});

test('a YAML alias (billion laughs) is refused with the file and line, not an internal error', async (t) => {
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const p = String.fromCharCode(97 + i - 1);
    const c = String.fromCharCode(97 + i);
    laughs.push(`${c}: &${c} [*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p}]`);
  }
  const config = writeConfig(`${laughs.join('\n')}\nmodules: []\n`);
  const r = await vviewRun(['echo', 'ran'], { t, config });
  t.is(r.status, 2, describe(r));
  t.true(r.stderr.includes(`${config}:2: YAML aliases (*name) are not accepted`), describe(r));
  t.notRegex(r.stderr, /internal error/);
});

test('deadlines: a bad value is a config error naming the key', async (t) => {
  const config = writeConfig('deadlines: { setup: -1 }\nmodules: []\n');
  const r = await vviewRun(['true'], { t, config });
  t.is(r.status, 2, describe(r));
  t.true(r.stderr.includes(`${config}:1: deadlines.setup: expected a number of seconds from 0 (no limit) to 86400`), describe(r));
});
