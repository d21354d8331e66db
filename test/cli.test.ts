/**
 * The command line beyond `run`: `vview new-module NAME` writes a module
 * skeleton whose own test passes with `node --test`, and the usage text (and
 * the README's) lists every flag `vview run` accepts.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, describe, makeTempDir, native, vview } from './helpers.js';

const execFileP = promisify(execFile);

test('vview new-module demo: a module, a view and a test that passes with node --test', async (t) => {
  const dir = makeTempDir('newmod-');
  const r = await vview(['new-module', 'demo'], { t, cwd: dir });
  t.is(r.status, 0, describe(r));
  const demo = path.join(dir, 'demo');
  for (const f of ['demo.ts', 'view.yaml', 'demo.test.mjs', 'package.json', 'protected/hello.txt']) {
    t.true(fs.existsSync(path.join(demo, f)), f);
    t.true(r.stdout.includes(path.join('demo', f)), `the summary names ${f}: ${r.stdout}`);
  }
  const source = fs.readFileSync(path.join(demo, 'demo.ts'), 'utf8');
  t.regex(source, /name: 'demo'/);
  t.deepEqual([...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]).sort(), ['node:path', 'vview']);

  const tests = await native([process.execPath, '--test'], { t, cwd: demo, timeout: 120_000 });
  t.is(tests.status, 0, describe(tests));
  t.regex(tests.stdout, /^# pass 3$/m, describe(tests));
  t.regex(tests.stdout, /^# fail 0$/m);
});

test('vview new-module refuses an existing directory and a bad name, and writes nothing', async (t) => {
  const dir = makeTempDir('newmod-');
  fs.mkdirSync(path.join(dir, 'taken'));
  fs.writeFileSync(path.join(dir, 'taken', 'mine.txt'), 'keep\n');
  const r = await vview(['new-module', 'taken'], { t, cwd: dir });
  t.is(r.status, 2, describe(r));
  t.regex(r.stderr, /taken already exists/);
  t.deepEqual(fs.readdirSync(path.join(dir, 'taken')), ['mine.txt']);
  t.is(fs.readFileSync(path.join(dir, 'taken', 'mine.txt'), 'utf8'), 'keep\n');

  fs.writeFileSync(path.join(dir, 'file'), 'a file\n');
  const f = await vview(['new-module', 'file'], { t, cwd: dir });
  t.is(f.status, 2, describe(f));
  t.is(fs.readFileSync(path.join(dir, 'file'), 'utf8'), 'a file\n');

  for (const name of ['../up', 'a/b', '-x', '']) {
    const b = await vview(['new-module', name], { t, cwd: dir });
    t.is(b.status, 2, `${name}: ${describe(b)}`);
  }
  t.deepEqual(fs.readdirSync(dir).sort(), ['file', 'taken']);
});

test('the generated module type-checks against the package types', async (t) => {
  const dir = makeTempDir('newmod-');
  t.is((await vview(['new-module', 'typed'], { t, cwd: dir })).status, 0);
  // What `npm link vview` makes.
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'vview'));
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--types', 'node', path.join('typed', 'typed.ts')];
  const out = await execFileP(process.execPath, [tsc, ...args], { cwd: dir }).then(
    () => '',
    (e: { stdout?: string; message: string }) => e.stdout || e.message,
  );
  t.is(out, '');
});

/** The flags `vview run` parses (src/cli.ts). */
const RUN_FLAGS = ['--config', '-c', '--mount', '--bind', '--fakeroot', '--fakeroot-state', '--offline', '--trace', '--stats'];

test('vview --help and the README list every flag and command', async (t) => {
  const r = await vview(['--help'], { t });
  t.is(r.status, 0, describe(r));
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const usage = /## Using it\n+```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  for (const flag of [...RUN_FLAGS, 'new-module', 'modules', '--version']) {
    const re = new RegExp(`(^|[\\s[|,])${flag.replace(/-/g, '\\-')}\\b`, 'm');
    t.regex(r.stdout, re, `usage: ${flag}`);
    t.regex(usage, re, `README usage block: ${flag}`);
  }
});
