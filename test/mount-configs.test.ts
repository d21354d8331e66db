/**
 * The example views for mounts in configs/ work as the README says.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, describe, makeTempDir, vview } from './helpers.js';

test('configs/scratch.yaml: a tree kept across runs, this directory read-only at /src', async (t) => {
  // A copy, so that its state file lands in a temp directory, not in the repository.
  const dir = makeTempDir('scratch-cfg-');
  fs.copyFileSync(path.join(ROOT, 'configs', 'scratch.yaml'), path.join(dir, 'scratch.yaml'));
  const config = path.join(dir, 'scratch.yaml');
  const first = await vview(['run', '--config', config, '--', 'sh', '-c', 'cat /scratch/README; ls /src; echo more >> /scratch/README; touch /src/x'], { t, cwd: dir });
  t.is(first.stdout, 'hello\nscratch.yaml\n', describe(first));
  t.regex(first.stderr, /touch: .*\/src\/x.*Read-only file system/);
  t.true(fs.existsSync(path.join(dir, 'scratch-state.json')));
  t.false(fs.existsSync(path.join(dir, 'x')));
  const second = await vview(['run', '--config', config, '--', 'cat', '/scratch/README'], { t, cwd: dir });
  t.is(second.stdout, 'hello\nmore\n', describe(second));
});

test('configs/envfs.yaml: a file system written as a module, read-only', async (t) => {
  const config = path.join(ROOT, 'configs', 'envfs.yaml');
  const r = await vview(['run', '--config', config, '--', 'sh', '-c', 'cat /env/VVIEW_TEST_VAR; ls /env | grep -c VVIEW_TEST_VAR; echo x > /env/new'], {
    t,
    env: { ...process.env, VVIEW_TEST_VAR: 'it works' },
  });
  t.is(r.stdout, 'it works\n1\n', describe(r));
  t.regex(r.stderr, /Read-only file system/);
});
