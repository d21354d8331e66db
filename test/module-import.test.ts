/**
 * `import { ... } from 'vview'` in a module file outside the repository, as the
 * README shows it: no node_modules next to the file, loaded by
 * `vview run --config`. The module gets the runtime's own API: an OptionError
 * or SyscallError it throws is recognized as such (they are compared by
 * identity), not taken for an unknown error.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, describe, vviewRun } from './helpers.js';

const execFileP = promisify(execFile);

/** A directory under os.tmpdir(), outside the repository and the test run's dir, removed by t.teardown. */
function outsideDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-usermod-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  if (path.relative(ROOT, dir).split(path.sep)[0] !== '..') throw new Error(`${dir} is inside the repository`);
  return dir;
}

const MODULE_TS = `import { defineModule, ret, OptionError, SyscallError, type SyscallCall } from 'vview';

export default defineModule<{ value: number }>({
  name: 'answer',
  options(raw: unknown) {
    const o = (raw ?? {}) as { value?: unknown };
    if (typeof o.value !== 'number') throw new OptionError(['value'], 'expected a number');
    return { value: o.value };
  },
  setup({ value }) {
    return {
      syscalls: {
        getppid: (_call: SyscallCall) => ret(value),
        mkdir: () => {
          throw new SyscallError('EROFS');
        },
      },
    };
  },
});
`;

/** The same module without the types. */
const MODULE_JS = MODULE_TS.replace(', type SyscallCall', '')
  .replace('defineModule<{ value: number }>(', 'defineModule(')
  .replace('(raw: unknown)', '(raw)')
  .replace(' as { value?: unknown }', '')
  .replace('(_call: SyscallCall)', '()');

const CASES: { title: string; file: string; source: string; packageType?: string }[] = [
  { title: 'an ES module (.mjs)', file: 'answer.mjs', source: MODULE_JS },
  { title: 'a TypeScript module (.ts, which tsx compiles to CommonJS)', file: 'answer.ts', source: MODULE_TS },
  { title: 'a TypeScript module (.ts) in a "type": "module" package', file: 'answer.ts', source: MODULE_TS, packageType: 'module' },
  { title: 'a TypeScript module (.mts)', file: 'answer.mts', source: MODULE_TS },
];

for (const c of CASES) {
  test(`${c.title} outside the repository imports 'vview' and gets the runtime's API`, async (t) => {
    const dir = outsideDir(t);
    fs.writeFileSync(path.join(dir, c.file), c.source);
    if (c.packageType) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: c.packageType }));
    fs.writeFileSync(path.join(dir, 'view.yaml'), `modules:\n  - ./${c.file}: { value: 77 }\n`);
    const r = await vviewRun(['sh', '-c', 'echo "ppid $PPID"; mkdir "$1/made"', 'sh', dir], { t, config: path.join(dir, 'view.yaml') });
    t.is(r.stdout, 'ppid 77\n', describe(r));
    // SyscallError from 'vview' answers its errno; a foreign error would be EIO.
    t.regex(r.stderr, /Read-only file system/, describe(r));
    t.false(fs.existsSync(path.join(dir, 'made')));

    fs.writeFileSync(path.join(dir, 'bad.yaml'), `modules:\n  - ./${c.file}: { value: seven }\n`);
    const bad = await vviewRun(['true'], { t, config: path.join(dir, 'bad.yaml') });
    t.is(bad.status, 2, describe(bad));
    // OptionError from 'vview' names its key below the module's entry.
    t.regex(bad.stderr, /bad\.yaml:2: modules\[0\]\..*\.value: expected a number/, describe(bad));
  });
}

const READ_ONLY_FS_TS = `import { defineModule, fsError, mountFileSystem, type FsAttr, type ReadOnlyFileSystem } from 'vview';

const dir: FsAttr = { type: 'dir', perm: 0o555, uid: 0, gid: 0, size: 0, atimeNs: 0n, mtimeNs: 0n };
const named: ReadOnlyFileSystem = {
  readonly: true,
  getattr: () => dir,
  readdir: () => [],
  readlink: () => { throw fsError('EINVAL'); },
  read: () => Buffer.alloc(0),
};

export default defineModule({
  name: 'rofs',
  async setup(_options, ctx) {
    await mountFileSystem(named, { mount: '/a' }, ctx);
    // An object literal given directly.
    return mountFileSystem({
      readonly: true,
      getattr: () => dir,
      readdir: () => [],
      readlink: () => { throw fsError('EINVAL'); },
      read: () => Buffer.alloc(0),
    }, { mount: '/b' }, ctx);
  },
});
`;

test("the package's types: a .ts module type-checks against 'vview' as npm link installs it", async (t) => {
  const dir = outsideDir(t);
  fs.writeFileSync(path.join(dir, 'answer.ts'), MODULE_TS);
  // The same with a type error: the types are really checked.
  fs.writeFileSync(path.join(dir, 'wrong.ts'), MODULE_TS.replace('ret(value)', "ret('seventy-seven')"));
  // A read-only file system is the read operations only, no stubs for the rest.
  fs.writeFileSync(path.join(dir, 'rofs.ts'), READ_ONLY_FS_TS);
  // What \`npm link vview\` makes: node_modules/vview -> the checkout.
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'vview'));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true,
        // The API mentions Buffer: a module author has @types/node (here, the checkout's).
        typeRoots: [path.join(ROOT, 'node_modules', '@types')], types: ['node'],
      },
      files: ['answer.ts', 'wrong.ts', 'rofs.ts'],
    }),
  );
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = await execFileP(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
    () => '(no error)',
    (e: { stdout?: string; message: string }) => e.stdout || e.message,
  );
  const errors = out.split('\n').filter((l) => /error TS/.test(l));
  t.is(errors.length, 1, out);
  t.regex(errors[0] ?? '', /^wrong\.ts\(\d+,\d+\): error TS2345/, out);
});

test('the example modules in configs/ type-check', async (t) => {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', 'configs/redirect.ts'];
  // Inside the repository 'vview' is the package itself (package.json "exports").
  const out = await execFileP(process.execPath, [tsc, ...args], { cwd: ROOT }).then(
    () => '',
    (e: { stdout?: string; message: string }) => e.stdout || e.message,
  );
  t.is(out, '');
});
