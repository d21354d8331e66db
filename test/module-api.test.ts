/**
 * The module API as an author uses it, through modules written to a temp dir
 * and loaded by `vview run --config`: per-process state and its lifecycle,
 * the typed views of a call (path, effect, flags, rewritePath), and a
 * read-only file system that implements only the reads.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, describe, makeTempDir, native, vviewRun, writeConfig } from './helpers.js';

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

test('a read-only file system implements only the reads; every change in the view is EROFS', async (t) => {
  const dir = makeTempDir('rofs-');
  const mount = path.join(dir, 'ro');
  const mod = moduleFile(
    'rofs.ts',
    `import { defineModule, fsError, mountFileSystem, type FsAttr, type ReadOnlyFileSystem } from 'vview';

const files: Record<string, string> = { '/hello': 'hello from a read-only file system\\n' };
const attr = (type: 'file' | 'dir', size: number): FsAttr => ({
  type, perm: type === 'dir' ? 0o755 : 0o644, uid: process.getuid!(), gid: process.getgid!(), size, atimeNs: 0n, mtimeNs: 0n,
});

export default defineModule<{ mount: string }>({
  name: 'rofs',
  options: (raw) => raw as { mount: string },
  setup({ mount }, ctx) {
    const rofs: ReadOnlyFileSystem = {
      readonly: true,
      getattr(p) {
        if (p === '/') return attr('dir', 0);
        if (files[p] === undefined) throw fsError('ENOENT');
        return attr('file', Buffer.byteLength(files[p]));
      },
      readdir: () => Object.keys(files).map((p) => p.slice(1)),
      readlink: () => {
        throw fsError('EINVAL');
      },
      read: (p, offset, length) => Buffer.from(files[p]).subarray(offset, offset + length),
    };
    return mountFileSystem(rofs, { mount }, ctx);
  },
});
`,
  );
  const config = writeConfig(`modules:\n  - ${mod}: { mount: ${mount} }\n`);
  const r = await vviewRun(
    ['sh', '-c', 'cd "$1" && cat hello && ls && (echo x > new; echo x >> hello; mkdir d; mkdir .; rm hello; mv hello h2; chmod 600 hello; touch hello) 2>&1; ls', 'sh', mount],
    { t, config },
  );
  t.is(r.status, 0, describe(r));
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], 'hello from a read-only file system');
  t.is(lines[1], 'hello');
  const errors = lines.slice(2, -1);
  t.is(errors.length, 8, r.stdout);
  t.regex(errors[3], /File exists/); // mkdir of an existing name: EEXIST, as the kernel answers
  for (const [i, e] of errors.entries()) if (i !== 3) t.regex(e, /Read-only file system/, `line ${i}: ${e}`);
  t.is(lines.at(-1), 'hello', 'nothing changed');
});

test("configs/redirect.yaml, the README's example syscall module: reads from `to`, EROFS for changes, per-process report", async (t) => {
  const r = await vviewRun(
    ['sh', '-c', 'head -1 /docs/README.md; echo "ppid $PPID"; touch /docs/new; cat /docs/package.json >/dev/null'],
    { t, config: path.join(ROOT, 'configs', 'redirect.yaml') },
  );
  t.is(r.stdout, '# vview\nppid 1\n', describe(r));
  t.regex(r.stderr, /touch: .*\/docs\/new.*Read-only file system/);
  t.false(fs.existsSync(path.join(ROOT, 'new')));
  // head and cat each read once through /docs; touch was refused, not counted.
  t.is(r.stderr.match(/vview: redirect: process \d+ read 1 time\(s\) through \/docs/g)?.length, 2, r.stderr);
});

test('the README shows the example modules as they are in configs/', (t) => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  for (const f of ['redirect.ts', 'example-fs.mjs']) {
    const source = fs.readFileSync(path.join(ROOT, 'configs', f), 'utf8');
    t.true(readme.includes(source.slice(source.indexOf('import '))), `README.md shows configs/${f}`);
  }
});
