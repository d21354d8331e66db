// The __NAME__ module in a real view: `node --test` (or `node __NAME__.test.mjs`).
// VVIEW=/path/to/bin/vview picks another vview than the one that made this file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const VVIEW = process.env.VVIEW ?? __VVIEW__;
const here = path.dirname(fileURLToPath(import.meta.url));

/** `vview run --config view.yaml -- sh -c SCRIPT` in this directory. */
function inView(script) {
  const r = spawnSync(VVIEW, ['run', '--config', path.join(here, 'view.yaml'), '--', 'sh', '-c', script], {
    cwd: here,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return r;
}

test('files under dir can be read', () => {
  const r = inView('cat protected/hello.txt');
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.status, 0);
});

test('changes under dir are refused with EROFS, and the process says so at exit', () => {
  const r = inView('echo x > protected/new; echo x >> protected/hello.txt; rm protected/hello.txt; echo done');
  assert.equal(r.stdout, 'done\n');
  assert.equal(r.stderr.match(/Read-only file system/g)?.length, 3, r.stderr);
  // sh was refused 2 changes; rm (as many as it tried) is another process.
  assert.match(r.stderr, /__NAME__: process \d+: 2 change\(s\) under .* refused/);
  assert.equal(r.stderr.match(/__NAME__: process \d+: \d+ change\(s\)/g)?.length, 2, r.stderr);
  assert.equal(fs.existsSync(path.join(here, 'protected', 'new')), false);
  assert.equal(fs.readFileSync(path.join(here, 'protected', 'hello.txt'), 'utf8'), 'hello\n');
});

test('outside dir the view changes nothing', () => {
  const r = inView('echo out > outside.txt && cat outside.txt && rm outside.txt');
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.status, 0);
});
