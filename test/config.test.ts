/**
 * A bad config is refused before anything runs: exit status 2, a message
 * naming the file, the line and the key; the command never starts.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { describe, makeTempDir, vview, vviewRun, writeConfig, type RunResult } from './helpers.js';

/** Runs `touch DIR/ran` in a view with this config; asserts it was refused. */
async function refused(t: ExecutionContext, yamlText: string): Promise<{ r: RunResult; file: string }> {
  const dir = makeTempDir('cfg-');
  const file = writeConfig(yamlText);
  const marker = path.join(dir, 'ran');
  const r = await vviewRun(['touch', marker], { t, config: file });
  t.is(r.status, 2, describe(r));
  t.false(fs.existsSync(marker), 'the command ran despite the bad config');
  t.is(r.stdout, '');
  t.true(r.stderr.includes(file), `the message names the file: ${r.stderr}`);
  return { r, file };
}

const line = (file: string, n: number) => new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${n}\\b`);

test('invalid YAML: file and line of the error', async (t) => {
  const { r, file } = await refused(t, 'modules:\n  - uname: { nodename: a }\n  - hide: { paths: [/x] }, oops\n  - uname\n');
  t.regex(r.stderr, line(file, 3), r.stderr);
  t.regex(r.stderr, /invalid YAML/i);
});

test('invalid YAML: tab indentation, duplicate key', async (t) => {
  const a = await refused(t, 'modules:\n  - uname: { nodename: a }\n\t- hide: { paths: [/x] }\n');
  t.regex(a.r.stderr, line(a.file, 3), a.r.stderr);
  const b = await refused(t, 'modules:\n  - uname: { nodename: a }\nmodules: []\n');
  t.regex(b.r.stderr, line(b.file, 3), b.r.stderr);
});

test('modules: 3', async (t) => {
  const { r, file } = await refused(t, '# a comment\nmodules: 3\n');
  t.regex(r.stderr, line(file, 2), r.stderr);
  t.regex(r.stderr, /\bmodules\b/);
});

test('the top level is not a mapping', async (t) => {
  const { r } = await refused(t, '- uname\n- hide\n');
  t.regex(r.stderr, /modules/);
});

test('unknown module name: the message lists the built-in modules', async (t) => {
  const { r, file } = await refused(t, 'modules:\n  - uname: {}\n  - nosuch: { x: 1 }\n');
  t.regex(r.stderr, line(file, 3), r.stderr);
  t.regex(r.stderr, /modules\[1\]/);
  t.regex(r.stderr, /nosuch/);
  t.regex(r.stderr, /uname/);
  t.regex(r.stderr, /hide/);
});

test('hide with paths: relative/path names the key path and its line', async (t) => {
  const { r, file } = await refused(t, '# comment\nmodules:\n  - hide:\n      paths: relative/path\n');
  t.regex(r.stderr, line(file, 4), r.stderr);
  t.regex(r.stderr, /modules\[0\]\.hide\.paths/);
});

test('hide with a relative path in a block list: the line of the paths key or of the bad item', async (t) => {
  // line 3: "paths:", line 4: "- /ok" (fine), line 5: "- rel" (the problem)
  const { r, file } = await refused(t, 'modules:\n  - hide:\n      paths:\n        - /ok\n        - rel\n');
  t.regex(r.stderr, /modules\[0\]\.hide\.paths/);
  t.true(line(file, 3).test(r.stderr) || line(file, 5).test(r.stderr), `expected line 3 (paths:) or 5 (- rel): ${r.stderr}`);
});

test('hide: cannot hide /', async (t) => {
  const { r, file } = await refused(t, 'modules:\n  - hide: { paths: [/] }\n');
  t.regex(r.stderr, line(file, 2), r.stderr);
  t.regex(r.stderr, /modules\[0\]\.hide\.paths/);
});

test('unknown option key', async (t) => {
  const { r, file } = await refused(t, 'modules:\n  - uname:\n      nodename: x\n      nodenam: y\n');
  t.regex(r.stderr, line(file, 4), r.stderr);
  t.regex(r.stderr, /modules\[0\]\.uname\.nodenam\b/);
});

test('uname: a value longer than the kernel field', async (t) => {
  const { r, file } = await refused(t, `modules:\n  - uname: { nodename: ${'x'.repeat(70)} }\n`);
  t.regex(r.stderr, line(file, 2), r.stderr);
  t.regex(r.stderr, /modules\[0\]\.uname\.nodename/);
});

test('unknown top-level key: the line of that key', async (t) => {
  const a = await refused(t, '# c\nmodulez: []\n');
  t.regex(a.r.stderr, line(a.file, 2), a.r.stderr);
  t.regex(a.r.stderr, /modulez/);
  // A key whose value is a block below it: still the key's line.
  const b = await refused(t, '# c\n\nmodulez:\n  - uname: {}\n');
  t.regex(b.r.stderr, /modulez/);
  t.regex(b.r.stderr, line(b.file, 3), b.r.stderr);
});

test('a list item that is neither a name nor a single-key mapping', async (t) => {
  const { r, file } = await refused(t, 'modules:\n  - uname\n  - [a, b]\n');
  t.regex(r.stderr, line(file, 3), r.stderr);
  t.regex(r.stderr, /modules\[1\]/);
});

test('a module file that does not exist / does not export a module', async (t) => {
  const a = await refused(t, 'modules:\n  - ./no-such-module.mjs\n');
  t.regex(a.r.stderr, line(a.file, 2), a.r.stderr);
  t.regex(a.r.stderr, /no-such-module\.mjs/);
  const dir = makeTempDir('badmod-');
  fs.writeFileSync(path.join(dir, 'notamodule.mjs'), 'export const x = 1;\n');
  const b = await refused(t, `modules:\n  - ${dir}/notamodule.mjs\n`);
  t.regex(b.r.stderr, line(b.file, 2), b.r.stderr);
  t.regex(b.r.stderr, /notamodule\.mjs/);
});

test("a module whose setup() throws: refused, the command does not run", async (t) => {
  const dir = makeTempDir('setupfail-');
  fs.writeFileSync(path.join(dir, 'failing.mjs'), `export default { name: 'failing', setup() { throw new Error('no way'); } };\n`);
  const marker = path.join(dir, 'ran');
  const r = await vviewRun(['touch', marker], { t, config: writeConfig(`modules:\n  - ${dir}/failing.mjs\n`) });
  t.is(r.status, 2, describe(r));
  t.false(fs.existsSync(marker), 'the command ran although a module failed to set up');
  t.regex(r.stderr, /failing/);
  t.regex(r.stderr, /no way/);
});

test('a missing config file', async (t) => {
  const dir = makeTempDir('nocfg-');
  const marker = path.join(dir, 'ran');
  const r = await vviewRun(['touch', marker], { t, config: path.join(dir, 'missing.yaml') });
  t.is(r.status, 2, describe(r));
  t.false(fs.existsSync(marker));
  t.regex(r.stderr, /missing\.yaml/);
});

test('an empty config is an empty view', async (t) => {
  const dir = makeTempDir('emptycfg-');
  const marker = path.join(dir, 'ran');
  for (const text of ['', '# nothing\n', 'modules:\n', 'modules: []\n']) {
    const r = await vviewRun(['touch', marker], { t, config: writeConfig(text) });
    t.is(r.status, 0, `${JSON.stringify(text)}: ${describe(r)}`);
    t.true(fs.existsSync(marker));
    fs.rmSync(marker);
  }
});

test('command line errors: exit 2, nothing runs', async (t) => {
  const dir = makeTempDir('cli-');
  const marker = path.join(dir, 'ran');
  const cases: string[][] = [
    ['run'],
    ['run', '--'],
    ['run', '--config'],
    ['run', '--bogus', '--', 'touch', marker],
    ['bogus-verb', 'touch', marker],
    ['run', `--trace=${dir}/no/such/dir/trace.txt`, '--', 'touch', marker],
  ];
  for (const args of cases) {
    const r = await vview(args, { t });
    t.is(r.status, 2, `vview ${args.join(' ')}: ${describe(r)}`);
    t.not(r.stderr, '', `vview ${args.join(' ')} explains`);
    t.false(fs.existsSync(marker), `vview ${args.join(' ')} ran the command`);
  }
  const h = await vview(['--help'], { t });
  t.is(h.status, 0);
  t.regex(h.stdout, /usage: vview run/);
});
