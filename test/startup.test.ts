/**
 * Start-up stays lean (issue 15): what a run loads, not how long it takes
 * (timings are the bench's). A view with no module loads neither the config
 * reader's YAML parser nor the built-in modules' packages, nor Node's
 * child_process, crypto or net; a bind loads no vfs or net code. When the
 * bundle (dist/vview.cjs) is as new as dist/src, the run comes from it: Node's
 * ES module loader is never started.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, ROOT, describe, makeTempDir, vviewRun } from './helpers.js';

const PRELOAD = path.join(FIXTURES, 'loaded-builtins.cjs');
/** Files of the YAML parser and of memfs: dist/vendor/{yaml,memfs}.cjs bundled, node_modules/... unbundled. */
const PACKAGES = /\/(yaml|memfs|@jsonjoy\.com)[./]/;

/** The builtins vview's Node loaded (process.moduleLoadList, "NativeModule " taken off) and the files it read. */
async function loaded(t: Parameters<Parameters<typeof test>[1]>[0], cmd: string[], flags: string[] = []): Promise<{ mods: Set<string>; files: string[] }> {
  const out = path.join(makeTempDir('loaded-'), 'list.json');
  const r = await vviewRun(cmd, {
    t,
    flags,
    env: { ...process.env, NODE_OPTIONS: `--require ${PRELOAD}`, VVIEW_TEST_LOADED: out },
  });
  t.is(r.status, 0, describe(r));
  const { builtins, files } = JSON.parse(fs.readFileSync(out, 'utf8')) as { builtins: string[]; files: string[] };
  return { mods: new Set(builtins.map((m) => m.replace(/^NativeModule /, ''))), files };
}

/** bin/vview.cjs's own check: the bundle is there and no dist/ file it was made from is newer. */
function bundleFresh(): boolean {
  const bundle = path.join(ROOT, 'dist', 'vview.cjs');
  try {
    const { inputs } = JSON.parse(fs.readFileSync(`${bundle}.json`, 'utf8')) as { inputs: string[] };
    const made = fs.statSync(bundle).mtimeMs;
    return inputs.every((f) => (fs.statSync(path.join(ROOT, f), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= made);
  } catch {
    return false;
  }
}

test('an empty view loads no child_process, crypto, net or YAML parser; from a fresh bundle, no ES module loader', async (t) => {
  const { mods, files } = await loaded(t, ['true']);
  for (const m of ['child_process', 'crypto', 'net']) t.false(mods.has(m), `${m} was loaded`);
  t.deepEqual(files.filter((f) => PACKAGES.test(f)), [], 'a package the run does not need was read');
  if (bundleFresh()) {
    t.false(mods.has('internal/modules/esm/module_job'), 'the CLI ran unbundled although the bundle is fresh');
    t.false(mods.has('stream'), 'stream was loaded');
  } else t.log('dist/vview.cjs is missing or older than dist/src (npm run build makes it): the unbundled run was checked');
});

test('a bind loads neither the vfs store (memfs, crypto) nor the YAML parser', async (t) => {
  const dir = makeTempDir('bind-');
  fs.writeFileSync(path.join(dir, 'f'), 'x');
  const { mods, files } = await loaded(t, ['cat', '/startup-bind/f'], ['--bind', `${dir}:/startup-bind`]);
  t.false(mods.has('crypto'), 'crypto was loaded');
  t.deepEqual(files.filter((f) => PACKAGES.test(f)), [], 'a package the run does not need was read');
});

test('a vfs mount reads memfs; a config file reads the YAML parser (the checks above see them)', async (t) => {
  const vfs = await loaded(t, ['true'], ['--mount', '/startup-vfs=memfs']);
  t.true(vfs.files.some((f) => PACKAGES.test(f)), JSON.stringify(vfs.files));
  const config = path.join(makeTempDir('cfg-'), 'view.yaml');
  fs.writeFileSync(config, 'modules:\n  - uname: { nodename: startup }\n');
  const y = await loaded(t, ['true'], ['--config', config]);
  t.true(y.files.some((f) => PACKAGES.test(f)), JSON.stringify(y.files));
});
