/**
 * The module API as an author uses it, through modules written to a temp dir
 * and loaded by `vview run --config`: per-process state and its lifecycle.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { describe, makeTempDir, native, vviewRun, writeConfig } from './helpers.js';

/** The python3 binary itself (python3 on PATH may be a wrapper script, pyenv's, with processes of its own). */
let python: Promise<string> | undefined;
function python3(): Promise<string> {
  python ??= native(['python3', '-c', 'import sys; print(sys.executable)']).then((r) => {
    if (r.status !== 0) throw new Error(`python3: ${describe(r)}`);
    return r.stdout.trim();
  });
  return python;
}

/** Writes a module file into a fresh temp dir; returns its path. */
function moduleFile(name: string, source: string): string {
  const file = path.join(makeTempDir('mod-'), name);
  fs.writeFileSync(file, source);
  return file;
}

function logLines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];
}

test('per-process state: created on first use, copied at fork, kept at exec, seen by the exit hook, then gone', async (t) => {
  const log = path.join(makeTempDir('pp-'), 'log');
  const mod = moduleFile(
    'counter.ts',
    `import fs from 'node:fs';
import { defineModule, ret } from 'vview';

export default defineModule<{ log: string }>({
  name: 'counter',
  options: (raw) => raw as { log: string },
  setup({ log }, ctx) {
    const say = (line: string) => fs.appendFileSync(log, line + '\\n');
    const calls = ctx.perProcess(() => ({ n: 0, forked: false }), {
      fork: (parent) => ({ n: parent.n, forked: true }),
      exit: (state) => say(\`exit n=\${state.n} forked=\${state.forked}\`),
    });
    ctx.onProcessExit((pid) => {
      say(\`after exit: peek n=\${calls.peek(pid)?.n}\`);
      try {
        calls.get(pid);
        say('after exit: get returned state');
      } catch (e) {
        say('after exit: get threw');
      }
    });
    return { syscalls: { getppid: (call) => ret(++calls.get(call.pid).n) } };
  },
});
`,
  );
  const script = [
    'import os, sys',
    'print(os.getppid(), os.getppid(), flush=True)',
    'pid = os.fork()',
    'if pid == 0:',
    '    print(os.getppid(), flush=True)',
    "    os.execv(sys.executable, [sys.executable, '-c', 'import os; print(os.getppid(), flush=True)'])",
    'os.waitpid(pid, 0)',
    'print(os.getppid(), flush=True)',
  ].join('\n');
  const r = await vviewRun([await python3(), '-c', script], { t, config: writeConfig(`modules:\n  - ${mod}: { log: ${log} }\n`) });
  t.is(r.status, 0, describe(r));
  // The parent counts 1 2, the child goes on from 2 (fork), keeps its count
  // across exec (4), and the parent's own count is untouched by the child's (3).
  t.is(r.stdout, '1 2\n3\n4\n3\n', describe(r));
  t.deepEqual(logLines(log), [
    'exit n=4 forked=true',
    'after exit: peek n=4',
    'after exit: get threw',
    'exit n=3 forked=false',
    'after exit: peek n=3',
    'after exit: get threw',
  ]);
});
