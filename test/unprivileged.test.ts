/**
 * The monitor as an unprivileged user (nobody, through setpriv when the suite
 * runs as root; as is otherwise).
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  IS_ROOT, NOBODY, canRunUnprivileged, compileFixture, describe, makeTempDir, native, startVview, vviewUnprivileged, writeConfig,
} from './helpers.js';

let possible = false;
test.before(async () => {
  possible = await canRunUnprivileged();
});

/**
 * False, and the test fails saying why, when there is no way to run
 * unprivileged here: that happens only as root without a working setpriv,
 * which util-linux provides (every Debian system has it; .ci/run installs it).
 */
function available(t: ExecutionContext): boolean {
  if (!possible) t.fail(`running as root, and \`setpriv --reuid=${NOBODY}\` does not work here (util-linux): the unprivileged user cannot be tested`);
  return possible;
}

const expectedUid = () => String(IS_ROOT ? NOBODY : process.getuid!());

test('transparent run as the unprivileged user', async (t) => {
  if (!available(t)) return;
  const r = await vviewUnprivileged(['run', '--', 'sh', '-c', 'id -u; echo hi'], { t });
  t.is(r.stdout, `${expectedUid()}\nhi\n`, describe(r));
  t.is(r.status, 0);
  t.deepEqual(r.leftovers, []);
});

test('hide works for the unprivileged user', async (t) => {
  if (!available(t)) return;
  const d = makeTempDir('unpriv-');
  fs.writeFileSync(path.join(d, 'secret'), 's3cret\n', { mode: 0o644 });
  fs.writeFileSync(path.join(d, 'visible'), 'visible\n', { mode: 0o644 });
  const config = writeConfig(`modules:\n  - hide: { paths: [${d}/secret] }\n`);
  const r = await vviewUnprivileged(['run', '--config', config, '--', 'cat', `${d}/secret`], { t });
  t.is(r.status, 1, describe(r));
  t.is(r.stdout, '');
  t.regex(r.stderr, /No such file or directory/);
  const r2 = await vviewUnprivileged(['run', '--config', config, '--', 'sh', '-c', `cat ${d}/visible; ls ${d}`], { t });
  t.is(r2.stdout, 'visible\nvisible\n', describe(r2));
  t.is(r2.status, 0);
});

test('signal death status propagates for the unprivileged user', async (t) => {
  if (!available(t)) return;
  const r = await vviewUnprivileged(['run', '--', 'sh', '-c', 'kill -SEGV $$'], { t });
  t.is(r.status, 139, describe(r));
  const r2 = await vviewUnprivileged(['run', '--', 'sh', '-c', 'exit 9'], { t });
  t.is(r2.status, 9, describe(r2));
});

test('uname module, threads and exec from a thread for the unprivileged user', async (t) => {
  if (!available(t)) return;
  const config = writeConfig('modules:\n  - uname: { nodename: nobody-box }\n');
  const r = await vviewUnprivileged(['run', '--config', config, '--', 'uname', '-n'], { t });
  t.is(r.stdout, 'nobody-box\n', describe(r));
  const bin = await compileFixture('thread_exec');
  const r2 = await vviewUnprivileged(['run', '--config', config, '--', bin], { t });
  t.is(r2.stdout, 'from-thread\n', describe(r2));
  const fk = await compileFixture('forker');
  const n = await native([fk], { t });
  const r3 = await vviewUnprivileged(['run', '--config', config, '--', fk], { t });
  t.is(r3.stdout, n.stdout, describe(r3));
});

test('SIGTERM to an unprivileged monitor reaches the command', async (t) => {
  if (!available(t)) return;
  const r = startVview(['run', '--', 'sh', '-c', 'trap "echo got-TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done'], {
    t,
    unprivileged: true,
    timeout: 30_000,
  });
  await r.waitForStdout('ready\n');
  r.kill('SIGTERM');
  const res = await r.result;
  t.is(res.stdout, 'ready\ngot-TERM\n', describe(res));
  t.is(res.status, 42);
});
