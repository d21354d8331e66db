/**
 * The module API as an author uses it, through modules written to a temp dir
 * and loaded by `vview run --config`: per-process state and its lifecycle,
 * and the typed views of a call (path, effect, flags, rewritePath).
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

test('typed call views: call.path, call.effect, call.flags and call.rewritePath', async (t) => {
  const dir = makeTempDir('views-');
  const prefix = path.join(dir, 'view'); // not on the host: only the module serves it
  const target = path.join(dir, 'target.txt');
  const made = path.join(dir, 'made.txt');
  fs.writeFileSync(target, 'from the target\n');
  const log = path.join(dir, 'log');
  const mod = moduleFile(
    'views.ts',
    `import fs from 'node:fs';
import { defineModule, errno, O_CREAT, type SyscallCall } from 'vview';

interface Options { prefix: string; target: string; made: string; log: string }

export default defineModule<Options>({
  name: 'views',
  options: (raw) => raw as Options,
  setup(o) {
    return {
      paths: {
        prefixes: [o.prefix],
        other(call: SyscallCall) {
          fs.appendFileSync(o.log, JSON.stringify({ name: call.name, path: call.path, effect: call.effect, flags: call.flags ?? null }) + '\\n');
          if (call.effect !== 'open') return errno('EPERM');
          // A creating open makes o.made; any other open reads o.target.
          return call.rewritePath(call.flags! & O_CREAT ? o.made : o.target);
        },
      },
    };
  },
});
`,
  );
  const config = writeConfig(`modules:\n  - ${mod}: { prefix: ${prefix}, target: ${target}, made: ${made}, log: ${log} }\n`);
  const script = [
    'import os, sys',
    'p = sys.argv[1]',
    "print(open(p + '/a').read(), end='')",
    "fd = os.open(p + '/new', os.O_WRONLY | os.O_CREAT, 0o644); os.write(fd, b'written\\n'); os.close(fd)",
    'for f in (lambda: os.stat(p + "/x", follow_symlinks=False), lambda: os.rmdir("view/d", dir_fd=os.open(os.path.dirname(p), os.O_RDONLY))):',
    '    try: f()',
    '    except OSError as e: print(e.strerror)',
  ].join('\n');
  const r = await vviewRun([await python3(), '-c', script, prefix], { t, config });
  t.is(r.status, 0, describe(r));
  t.is(r.stdout, 'from the target\nOperation not permitted\nOperation not permitted\n', describe(r));
  t.is(fs.readFileSync(made, 'utf8'), 'written\n');
  const calls = logLines(log).map((l) => JSON.parse(l) as { name: string; path: string; effect: string; flags: number | null });
  const O_CREAT = 0o100;
  const AT_SYMLINK_NOFOLLOW = 0x100;
  const AT_REMOVEDIR = 0x200;
  const find = (p: string) => calls.find((c) => c.path === `${prefix}/${p}`);
  t.like(find('a'), { effect: 'open' });
  t.is((find('a')?.flags ?? -1) & O_CREAT, 0);
  t.like(find('new'), { effect: 'open' });
  t.is((find('new')?.flags ?? 0) & O_CREAT, O_CREAT);
  t.like(find('x'), { effect: 'query', flags: AT_SYMLINK_NOFOLLOW }, JSON.stringify(calls));
  t.like(find('d'), { name: 'unlinkat', effect: 'remove', flags: AT_REMOVEDIR }, JSON.stringify(calls));
});
