/**
 * A view that changes nothing is transparent: stdout and exit status equal the
 * native run's. Each scenario runs in the empty view (no config: no seccomp
 * filter, ptrace events only) and, where it matters, in a "path-routed" view
 * (hide of an unrelated path: every path syscall stops and is resolved, and
 * listings of one directory go through the fd route).
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  compileFixture, describe, makeTempDir, native, vviewRun, writeConfig, type RunOptions, type RunResult,
} from './helpers.js';

interface View {
  name: string;
  config: () => string | undefined;
}

let unrelatedConfig: string | undefined;
const VIEWS: View[] = [
  { name: 'empty view', config: () => undefined },
  {
    name: 'path-routed view',
    config: () => {
      if (!unrelatedConfig) {
        const d = makeTempDir('unrelated-');
        fs.writeFileSync(path.join(d, 'hidden-unrelated'), 'x');
        unrelatedConfig = writeConfig(`modules:\n  - hide: { paths: [${d}/hidden-unrelated, /nonexistent-vview-test/x] }\n`);
      }
      return unrelatedConfig;
    },
  },
];

async function sameAsNative(t: ExecutionContext, view: View, cmd: string[], opts: RunOptions = {}): Promise<{ n: RunResult; v: RunResult }> {
  const n = await native(cmd, { ...opts, t });
  const v = await vviewRun(cmd, { ...opts, t, config: view.config() });
  t.false(v.timedOut, `vview timed out: ${describe(v)}`);
  t.is(v.stdout, n.stdout, `stdout differs from the native run (native: ${describe(n)})`);
  t.is(v.status, n.status, `exit status differs from the native run: vview ${describe(v)}; native ${describe(n)}`);
  t.deepEqual(v.leftovers, [], 'processes left behind after vview exited');
  return { n, v };
}

for (const view of VIEWS) {
  test(`${view.name}: bash pipeline with PIPESTATUS`, async (t) => {
    // sort's 9 kB of output may or may not all fit in the pipe before head
    // exits: natively PIPESTATUS is "0 0 0" or "0 141 0" by chance. The rest is exact.
    const cmd = ['bash', '-c', 'seq 1 2000 | sort -r | head -5; echo ${PIPESTATUS[@]}'];
    const n = await native(cmd, { t });
    const v = await vviewRun(cmd, { t, config: view.config() });
    const split = (s: string) => {
      const lines = s.split('\n');
      return { head: lines.slice(0, 5).join('\n'), status: lines[5], rest: lines.slice(6) };
    };
    t.is(split(v.stdout).head, split(n.stdout).head, describe(v));
    t.regex(split(v.stdout).status, /^0 (0|141) 0$/, describe(v));
    t.deepEqual(split(v.stdout).rest, ['']);
    t.is(v.status, n.status, describe(v));
    t.deepEqual(v.leftovers, []);
  });

  test(`${view.name}: bash pipeline where sort always dies of SIGPIPE`, async (t) => {
    // 1.3 MB of output cannot fit in the pipe: sort is always killed by SIGPIPE.
    const { n } = await sameAsNative(t, view, ['bash', '-c', 'seq 1 200000 | sort -r | head -5; echo ${PIPESTATUS[@]}']);
    t.regex(n.stdout, /^99999\n99998\n/);
    t.regex(n.stdout, /\n0 141 0\n$/);
  });

  test(`${view.name}: python3 with 8 threads`, async (t) => {
    const py = [
      'import threading',
      'res = [0] * 8',
      'def work(i):',
      '    res[i] = sum(j * j for j in range(20000 * (i + 1)))',
      'ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]',
      'for th in ts: th.start()',
      'for th in ts: th.join()',
      'print(res)',
      'print(threading.active_count())',
    ].join('\n');
    await sameAsNative(t, view, ['python3', '-c', py]);
  });

  test(`${view.name}: node with 4 worker_threads`, async (t) => {
    const js = `
      const { Worker } = require('node:worker_threads');
      const src = "const { parentPort, workerData } = require('node:worker_threads');" +
        "let s = 0; for (let i = 0; i < 100000 * workerData; i++) s += i % 7; parentPort.postMessage([workerData, s]);";
      Promise.all([1, 2, 3, 4].map((n) => new Promise((res, rej) => {
        const w = new Worker(src, { eval: true, workerData: n });
        w.on('message', res); w.on('error', rej);
      }))).then((r) => { console.log(JSON.stringify(r)); process.exitCode = 3; });
    `;
    const { n } = await sameAsNative(t, view, ['node', '-e', js]);
    t.is(n.status, 3);
  });

  test(`${view.name}: static binary (threads, fork)`, async (t) => {
    const bin = await compileFixture('static_info', { static: true });
    const { v } = await sameAsNative(t, view, [bin, 'arg']);
    t.regex(v.stdout, /pid==tid 1\n/);
  });

  test(`${view.name}: a non-leader thread calls execve`, async (t) => {
    const bin = await compileFixture('thread_exec');
    const { v } = await sameAsNative(t, view, [bin]);
    t.is(v.stdout, 'from-thread\n');
    t.is(v.status, 0);
  });

  test(`${view.name}: forking server reaps 20 children, clone3`, async (t) => {
    const bin = await compileFixture('forker');
    const { v } = await sameAsNative(t, view, [bin]);
    t.regex(v.stdout, /^reaped 20 sum 190\n/);
  });

  test(`${view.name}: a parent killed while forking: the view still ends by itself`, async (t) => {
    const bin = await compileFixture('forkkill');
    const { v } = await sameAsNative(t, view, [bin]);
    t.is(v.stdout, 'killed 40 workers\n');
  });

  test(`${view.name}: vfork + execve`, async (t) => {
    const bin = await compileFixture('vfork_exec');
    const { v } = await sameAsNative(t, view, [bin]);
    t.is(v.stdout, 'vfork-child\nparent: child exited 0\n');
  });

  test(`${view.name}: exit codes`, async (t) => {
    for (const code of [0, 1, 7, 255]) {
      const { v } = await sameAsNative(t, view, ['sh', '-c', `exit ${code}`]);
      t.is(v.status, code);
    }
  });

  test(`${view.name}: death by a signal is 128+N`, async (t) => {
    const { v: segv } = await sameAsNative(t, view, ['sh', '-c', 'kill -SEGV $$']);
    t.is(segv.status, 139);
    const { v: kill } = await sameAsNative(t, view, ['sh', '-c', 'kill -KILL $$']);
    t.is(kill.status, 137);
  });

  test(`${view.name}: yes | head -1 terminates (SIGPIPE has its default action)`, async (t) => {
    const { v } = await sameAsNative(t, view, ['sh', '-c', 'yes | head -1; echo done'], { timeout: 20_000 });
    t.is(v.stdout, 'y\ndone\n');
    // The command alone (yes killed by SIGPIPE is the pipeline's first member).
    const { v: v2 } = await sameAsNative(t, view, ['bash', '-c', 'yes | head -1; echo ${PIPESTATUS[@]}'], { timeout: 20_000 });
    t.is(v2.stdout, 'y\n141 0\n');
  });

  test(`${view.name}: make -j2 of a generated C project`, async (t) => {
    const proj = makeTempDir('proj-');
    const src = path.join(proj, 'src');
    fs.mkdirSync(src);
    const N = 20;
    for (let i = 0; i < N; i++) {
      fs.writeFileSync(
        path.join(src, `f${i}.c`),
        `#include "common.h"\nlong f${i}(long x) { long s = 0; for (long j = 0; j < x; j++) s += (j * ${i + 3}) % ${i + 7}; return s + F${i}; }\n`,
      );
    }
    fs.writeFileSync(
      path.join(src, 'common.h'),
      Array.from({ length: N }, (_, i) => `#define F${i} ${i * i}\nlong f${i}(long);`).join('\n') + '\n',
    );
    fs.writeFileSync(
      path.join(src, 'main.c'),
      `#include <stdio.h>\n#include "common.h"\nint main(void) {\n` +
        Array.from({ length: N }, (_, i) => `  printf("f${i} %ld\\n", f${i}(${1000 + i}));\n`).join('') +
        `  return 0;\n}\n`,
    );
    fs.writeFileSync(
      path.join(src, 'Makefile'),
      [
        `OBJS = main.o ${Array.from({ length: N }, (_, i) => `f${i}.o`).join(' ')}`,
        'prog: $(OBJS)',
        '\t$(CC) -o $@ $(OBJS)',
        '%.o: %.c common.h',
        '\t$(CC) -O1 -c -o $@ $<',
        '',
      ].join('\n'),
    );
    const a = path.join(proj, 'native');
    const b = path.join(proj, 'view');
    fs.cpSync(src, a, { recursive: true });
    fs.cpSync(src, b, { recursive: true });
    const n = await native(['make', '-s', '-j2'], { t, cwd: a });
    const v = await vviewRun(['make', '-s', '-j2'], { t, cwd: b, config: view.config() });
    t.is(v.status, n.status, `make: vview ${describe(v)}; native ${describe(n)}`);
    t.is(n.status, 0);
    t.deepEqual(v.leftovers, []);
    const objs = fs.readdirSync(b).filter((f) => f.endsWith('.o')).sort();
    t.deepEqual(objs, fs.readdirSync(a).filter((f) => f.endsWith('.o')).sort());
    const pa = await native([path.join(a, 'prog')], { t });
    const pb = await native([path.join(b, 'prog')], { t });
    t.is(pb.status, 0, describe(pb));
    t.is(pb.stdout, pa.stdout);
    t.is(pa.stdout.split('\n').length, N + 1);
  });
}

test('command not found: 127 and a message', async (t) => {
  const v = await vviewRun(['vview-no-such-command-xyz', 'arg'], { t });
  t.is(v.status, 127, describe(v));
  t.regex(v.stderr, /vview-no-such-command-xyz.*command not found/);
  t.is(v.stdout, '');
  // The same for an explicit path.
  const v2 = await vviewRun(['/nonexistent-dir/cmd'], { t });
  t.is(v2.status, 127, describe(v2));
  t.regex(v2.stderr, /command not found/);
  // A shell says the same.
  const n = await native(['sh', '-c', 'vview-no-such-command-xyz']);
  t.is(n.status, 127);
});

test('a setuid binary runs like natively (passwd --help, su --help)', async (t) => {
  for (const cmd of [['/usr/bin/passwd', '--help'], ['su', '--help']]) {
    if (!fs.existsSync(cmd[0]) && cmd[0].startsWith('/')) {
      // passwd is on every Debian system (Priority: required).
      t.fail(`${cmd[0]} is missing (Debian package passwd)`);
      continue;
    }
    const n = await native(cmd, { t });
    const v = await vviewRun(cmd, { t });
    t.is(v.status, n.status, `${cmd.join(' ')}: vview ${describe(v)}; native ${describe(n)}`);
    t.is(v.stdout, n.stdout);
  }
});

test('stdin passes through', async (t) => {
  const v = await vviewRun(['cat'], { t, input: 'abc\n' });
  t.is(v.stdout, 'abc\n', describe(v));
  t.is(v.status, 0);
  const big = Array.from({ length: 20000 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const v2 = await vviewRun(['wc', '-l'], { t, input: big });
  t.is(v2.stdout.trim(), '20000', describe(v2));
});

test('an inherited fd (5) passes through', async (t) => {
  const d = makeTempDir('fd-');
  const file = path.join(d, 'in.txt');
  fs.writeFileSync(file, 'through fd 5\n');
  const fd = fs.openSync(file, 'r');
  t.teardown(() => fs.closeSync(fd));
  const v = await vviewRun(['sh', '-c', 'cat <&5'], { t, stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', fd] });
  t.is(v.stdout, 'through fd 5\n', describe(v));
  t.is(v.status, 0);
  // An fd the caller did not pass is not there.
  const v2 = await vviewRun(['sh', '-c', 'cat <&6'], { t, stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', fd] });
  t.not(v2.status, 0);
  t.is(v2.stdout, '');
});

test('stdout is the caller\'s: output order and binary data are preserved', async (t) => {
  const cmd = ['sh', '-c', 'for i in 1 2 3; do echo out$i; echo err$i >&2; done; printf "\\000\\377\\n"'];
  const n = await native(cmd, { t });
  const v = await vviewRun(cmd, { t });
  t.is(v.stdout, n.stdout);
  t.is(v.stderr, n.stderr);
});
