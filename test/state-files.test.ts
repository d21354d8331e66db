/**
 * State files (vfs `persist`, fakeroot `state`) never lose data silently: a
 * failed save exits 74 naming the file and the reason and leaves the file as
 * it was; a second run on a state file stops with 75; the store streams
 * (a 1 GiB file and a 4 GiB sparse one, holes kept, bounded memory); what a
 * run killed with SIGKILL fsync'ed is in the next run; no scratch is left.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { VVIEW, canRunUnprivileged, describe, makeTempDir, start, startVview, vviewRun } from './helpers.js';

const EXIT_SAVE_FAILED = 74;
const EXIT_STATE_BUSY = 75;

const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('.'));

test('a save that fails (file too large) exits 74 naming the file and reason; the state is as it was; the next run recovers the view', async (t) => {
  const dir = makeTempDir('save-');
  const state = path.join(dir, 'state.vfs');
  const first = await vviewRun(['sh', '-c', 'echo kept > /x/keep'], { t, flags: ['--mount', `/x=memfs:${state}`] });
  t.is(first.status, 0, describe(first));
  const before = fs.readFileSync(state);
  // 60 files of 4000 bytes each fit the limit; the archive of all of them does not.
  // SIGXFSZ ignored: the write fails with EFBIG instead of killing vview.
  const script = 'trap "" XFSZ; ulimit -f 400; exec "$@"';
  const r = await start('sh', ['-c', script, 'sh', VVIEW, 'run', '--mount', `/x=memfs:${state}`, '--', 'sh', '-c',
    'for i in $(seq 60); do head -c 4000 /dev/zero > /x/f$i; done; echo done'], { t }).result;
  t.is(r.stdout, 'done\n', describe(r));
  t.is(r.status, EXIT_SAVE_FAILED, describe(r));
  t.true(r.stderr.includes(`${state}: the vfs state was not saved (writing: file too large (EFBIG)); the file is unchanged`), describe(r));
  t.regex(r.stderr, /the command's exit status was 0/);
  t.deepEqual(fs.readFileSync(state), before, 'the state file changed');
  t.deepEqual(leftovers(dir), ['.state.vfs.vview-work'], 'only the kept copy of the view is left');
  // The next run (no limit) starts from what the failed run's view had.
  const next = await vviewRun(['sh', '-c', 'cat /x/keep; ls /x | wc -l'], { t, flags: ['--mount', `/x=memfs:${state}`] });
  t.is(next.status, 0, describe(next));
  t.is(next.stdout, 'kept\n61\n', describe(next));
  t.regex(next.stderr, /recovered what the view had written/);
  t.deepEqual(leftovers(dir), []);
});

test('a state file keeps its mode (0444 stays 0444) across saves; vfs and fakeroot', async (t) => {
  const dir = makeTempDir('mode-');
  const state = path.join(dir, 'state.vfs');
  const owners = path.join(dir, 'owners.json');
  const flags = ['--mount', `/x=memfs:${state}`, '--fakeroot-state', owners];
  t.is((await vviewRun(['sh', '-c', `echo 1 > /x/a; touch ${dir}/f; chown 7 ${dir}/f`], { t, flags })).status, 0);
  fs.chmodSync(state, 0o444);
  fs.chmodSync(owners, 0o440);
  const r = await vviewRun(['sh', '-c', `echo 2 > /x/b; chown 8 ${dir}/f`], { t, flags });
  t.is(r.status, 0, describe(r));
  t.is(fs.statSync(state).mode & 0o777, 0o444);
  t.is(fs.statSync(owners).mode & 0o777, 0o440);
  const again = await vviewRun(['sh', '-c', `cat /x/a /x/b; stat -c %u ${dir}/f`], { t, flags });
  t.is(again.stdout, '1\n2\n8\n', describe(again));
});

for (const kind of ['vfs', 'fakeroot'] as const) {
  test(`a second run on a ${kind} state file in use stops with 75, naming the file and the first run; the first one saves`, async (t) => {
    const dir = makeTempDir('lock-');
    const state = path.join(dir, kind === 'vfs' ? 'state.vfs' : 'owners.json');
    const flags = kind === 'vfs' ? ['--mount', `/x=memfs:${state}`] : ['--fakeroot-state', state];
    const go = path.join(dir, 'go');
    const write = kind === 'vfs' ? 'echo first > /x/f' : `touch ${dir}/f; chown 5 ${dir}/f`;
    const first = startVview(['run', ...flags, '--', 'sh', '-c', `${write}; echo ready; while [ ! -e ${go} ]; do sleep 0.05; done`], { t });
    await first.waitForStdout('ready\n');
    const second = await vviewRun(['sh', '-c', 'echo ran'], { t, flags });
    t.is(second.status, EXIT_STATE_BUSY, describe(second));
    t.is(second.stdout, '', 'the second command ran');
    t.true(second.stderr.includes(`${state}: the ${kind} state is in use by another vview run (pid ${first.pid})`), describe(second));
    fs.writeFileSync(go, '');
    const res = await first.result;
    t.is(res.status, 0, describe(res));
    const check = kind === 'vfs' ? 'cat /x/f' : `stat -c %u ${dir}/f`;
    const after = await vviewRun(['sh', '-c', check], { t, flags });
    t.is(after.stdout, kind === 'vfs' ? 'first\n' : '5\n', describe(after));
    t.deepEqual(leftovers(dir), []);
  });
}

test('10 concurrent runs on one state file: each saves or stops with 75 and says so; no update is lost', async (t) => {
  const dir = makeTempDir('ten-');
  const state = path.join(dir, 'state.vfs');
  const runs = await Promise.all(
    Array.from({ length: 10 }, (_, i) => vviewRun(['sh', '-c', `echo ${i} >> /x/log`], { t, flags: ['--mount', `/x=memfs:${state}`], timeout: 120_000 })),
  );
  const saved: number[] = [];
  runs.forEach((r, i) => {
    if (r.status === 0) saved.push(i);
    else {
      t.is(r.status, EXIT_STATE_BUSY, describe(r));
      t.regex(r.stderr, /is in use by another vview run/, describe(r));
    }
  });
  t.true(saved.length >= 1);
  const log = await vviewRun(['sh', '-c', 'cat /x/log'], { t, flags: ['--mount', `/x=memfs:${state}`] });
  t.deepEqual(log.stdout.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b), saved, describe(log));
});

test('vview killed with SIGKILL during a write loop: the next run has everything fsynced, and no scratch copy is left', async (t) => {
  const dir = makeTempDir('kill-');
  const state = path.join(dir, 'state.vfs');
  const tmp = makeTempDir('kill-tmp-');
  const env = { ...process.env, TMPDIR: tmp };
  // One line per iteration, fsync'ed, then told on stdout. /y (no persist) leaves its copy under TMPDIR.
  const loop = 'import os\nfd = os.open("/x/log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)\n' +
    'i = 0\nwhile True:\n    i += 1\n    os.write(fd, b"%d\\n" % i)\n    os.fsync(fd)\n    print(i, flush=True)\n';
  const r = startVview(['run', '--mount', `/x=memfs:${state}`, '--mount', '/y=memfs', '--', 'sh', '-c', 'echo y > /y/f; exec python3 -c "$0"', loop], { t, env });
  const out = await r.waitForStdout(/\n50\n/, 60_000);
  t.true(fs.readdirSync(tmp).some((n) => n.startsWith('vview-scratch-')));
  process.kill(r.pid, 'SIGKILL');
  await r.result;
  const lastTold = Math.max(...out.split('\n').filter(Boolean).map(Number));
  const next = await vviewRun(['sh', '-c', 'tail -n 1 /x/log; wc -l < /x/log'], { t, flags: ['--mount', `/x=memfs:${state}`], env });
  t.is(next.status, 0, describe(next));
  const [last, count] = next.stdout.trim().split('\n').map(Number);
  t.true(last >= lastTold, `the log ends at ${last}, but ${lastTold} was fsync'ed: ${describe(next)}`);
  t.is(count, last, 'the log has a hole');
  t.deepEqual(leftovers(dir), [], 'the work copy next to the state is left');
  t.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('vview-scratch-')), [], 'a scratch copy under TMPDIR is left');
});

test('a run killed while its tree has directories it made unreadable (000, 0300, 0600): the next run recovers them, names, contents and modes (as the unprivileged user)', async (t) => {
  if (!(await canRunUnprivileged())) return t.fail('cannot run as the unprivileged user (setpriv)');
  const dir = makeTempDir('kill-modes-', { shared: true });
  const state = path.join(dir, 'state.vfs');
  const script = 'for m in 000 300 600; do mkdir /x/d$m && echo in$m > /x/d$m/f && chmod $m /x/d$m; done; echo ready; exec sleep 1000';
  const r = startVview(['run', '--mount', `/x=memfs:${state}`, '--', 'sh', '-c', script], { t, unprivileged: true, cwd: dir });
  await r.waitForStdout(/ready\n/, 60_000);
  process.kill(r.pid, 'SIGKILL');
  await r.result;
  const next = await vviewRun(['sh', '-c', 'for m in 000 300 600; do stat -c "%n %a" /x/d$m; chmod 700 /x/d$m; cat /x/d$m/f; done'], {
    t, flags: ['--mount', `/x=memfs:${state}`], unprivileged: true, cwd: dir,
  });
  t.is(next.status, 0, describe(next));
  t.is(next.stdout, '/x/d000 0\nin000\n/x/d300 300\nin300\n/x/d600 600\nin600\n', describe(next));
  t.deepEqual(leftovers(dir), [], 'the work copy next to the state is left');
});

/** Runs vview under a python3 parent that prints the largest RSS (kB) of what it waited for: vview itself. */
async function runMeasured(t: ExecutionContext, args: string[]) {
  const py = 'import os, resource, subprocess, sys\nr = subprocess.run(sys.argv[1:])\n' +
    'sys.stderr.write("maxrss %d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\nsys.exit(r.returncode)';
  const res = await start('python3', ['-c', py, VVIEW, ...args], { t, timeout: 600_000 }).result;
  const rss = Number(/maxrss (\d+)/.exec(res.stderr)?.[1]);
  return { res, rssKb: rss };
}

test('a vfs with a 1 GiB file and a 4 GiB sparse file: saved and loaded whole, holes kept, vview stays under 150 MB', async (t) => {
  const dir = makeTempDir('big-');
  const state = path.join(dir, 'big.vfs');
  const flags = ['--mount', `/x=memfs:${state}`];
  const write = await runMeasured(t, ['run', ...flags, '--', 'sh', '-c',
    'dd if=/dev/zero of=/x/big bs=1M count=1024 2>/dev/null && printf marker | dd of=/x/big bs=1 seek=123456789 conv=notrunc 2>/dev/null && ' +
    'truncate -s 4G /x/sparse && printf mid | dd of=/x/sparse bs=1 seek=2000000000 conv=notrunc 2>/dev/null && echo end >> /x/sparse']);
  t.is(write.res.status, 0, describe(write.res));
  t.true(write.rssKb > 0 && write.rssKb < 150 * 1024, `vview's peak RSS while saving: ${write.rssKb} kB`);
  // The archive holds the data, not the holes.
  const st = fs.statSync(state);
  t.true(st.blocks * 512 < 1.1 * 1024 ** 3, `the state file takes ${st.blocks * 512} bytes on disk`);
  const read = await runMeasured(t, ['run', ...flags, '--', 'sh', '-c',
    'stat -c %s /x/big /x/sparse; du -k /x/sparse | cut -f1; dd if=/x/big bs=1 skip=123456789 count=6 2>/dev/null; echo; ' +
    'dd if=/x/sparse bs=1 skip=2000000000 count=3 2>/dev/null; echo; tail -c 4 /x/sparse; ' +
    'cmp -s -n 123456789 /x/big /dev/zero && echo zeros']);
  t.is(read.res.status, 0, describe(read.res));
  const [bigSize, sparseSize, du, marker, mid, end, zeros] = read.res.stdout.trim().split('\n');
  t.is(bigSize, String(1024 ** 3));
  t.is(sparseSize, String(4 * 1024 ** 3 + 4));
  t.true(Number(du) <= 64, `the sparse file takes ${du} kB in the view's copy`);
  t.deepEqual([marker, mid, end, zeros], ['marker', 'mid', 'end', 'zeros']);
  t.true(read.rssKb > 0 && read.rssKb < 150 * 1024, `vview's peak RSS while loading: ${read.rssKb} kB`);
});

test('an old JSON state file still loads, and the next save turns it into an archive', async (t) => {
  const dir = makeTempDir('old-');
  const state = path.join(dir, 'state.json');
  const entries = [
    { path: '/', type: 'dir', perm: 0o755, uid: 0, gid: 0, atimeNs: '1', mtimeNs: '2', ctimeNs: '3' },
    { path: '/a', type: 'file', perm: 0o644, uid: 0, gid: 0, atimeNs: '1', mtimeNs: '2', ctimeNs: '3', content: Buffer.from('old\n').toString('base64') },
  ];
  fs.writeFileSync(state, JSON.stringify({ format: 'vview-vfs', version: 1, entries }));
  const r = await vviewRun(['sh', '-c', 'cat /x/a; echo new > /x/b'], { t, flags: ['--mount', `/x=memfs:${state}`] });
  t.is(r.stdout, 'old\n', describe(r));
  t.is(fs.readFileSync(state).subarray(0, 18).toString(), 'VVIEW-VFS-ARCHIVE\n');
  const again = await vviewRun(['cat', '/x/a', '/x/b'], { t, flags: ['--mount', `/x=memfs:${state}`] });
  t.is(again.stdout, 'old\nnew\n', describe(again));
});

test('a state file cut short is refused with its name and left as it was', async (t) => {
  const dir = makeTempDir('cut-');
  const state = path.join(dir, 'state.vfs');
  t.is((await vviewRun(['sh', '-c', 'echo x > /x/a'], { t, flags: ['--mount', `/x=memfs:${state}`] })).status, 0);
  fs.truncateSync(state, fs.statSync(state).size - 10);
  const cut = fs.readFileSync(state);
  const r = await vviewRun(['true'], { t, flags: ['--mount', `/x=memfs:${state}`] });
  t.not(r.status, 0);
  t.true(r.stderr.includes(`${state}: not a valid vview vfs archive`), describe(r));
  t.deepEqual(fs.readFileSync(state), cut);
});

test('os.tmpdir() is not touched by a run with a persisted vfs (its copy is next to the state)', async (t) => {
  const dir = makeTempDir('where-');
  const tmp = makeTempDir('where-tmp-');
  const r = await vviewRun(['sh', '-c', `ls -a ${tmp} | wc -l; ls -a ${dir}`], { t, flags: ['--mount', `/x=memfs:${dir}/s.vfs`], env: { ...process.env, TMPDIR: tmp } });
  t.is(r.stdout.split('\n')[0], '2', describe(r));
  t.regex(r.stdout, /\.s\.vfs\.vview-work/);
});
