/**
 * Bundles the CLI (dist/src/cli.js, as tsc wrote it, and the packages it uses)
 * into dist/vview.cjs, records what it was made from (dist/vview.cjs.json),
 * and has a plain `node` write the V8 code cache of it (dist/vview.cjs.cache).
 * bin/vview.cjs runs it; see there. Run by `npm run build` and `npm install`
 * (prepare), after tsc.
 *
 * One file in CommonJS because only a vm.Script takes a code cache on Node 20
 * (module.enableCompileCache is Node 22). What a run may not need stays out of
 * the start-up path: the CLI imports the config reader, the built-in modules
 * and child_process dynamically, and esbuild turns a dynamic import of a
 * bundled module into a lazy initializer, so their code is parsed only when
 * first called. import.meta.url is the bundle's URL. tsx and the module files a
 * config names are not bundled: they are imported at run time
 * (src/vm/outside.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.join(ROOT, 'dist', 'vview.cjs');

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ['dist/src/cli.js'],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['tsx'],
  define: { 'import.meta.url': '__vview_import_meta_url' },
  banner: { js: 'var __vview_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  metafile: true,
  logLevel: 'warning',
});

// What bin/vview.cjs checks before it runs the bundle: that no file of dist/
// it was made from is newer than it (tsc rewrites them all). Packages change
// only with an npm install, which runs this again.
const inputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('dist/')).sort();
fs.writeFileSync(`${BUNDLE}.json`, JSON.stringify({ inputs }) + '\n');

fs.rmSync(`${BUNDLE}.cache`, { force: true });
const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).writeCodeCache()', path.join(ROOT, 'bin', 'vview.cjs')], {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: '' },
});
if (r.status !== 0) {
  process.stderr.write('bundle: could not write the code cache (vview starts without it)\n');
}
const kb = (f) => `${(fs.statSync(f).size / 1024).toFixed(0)} KiB`;
process.stdout.write(
  `bundle: ${path.relative(ROOT, BUNDLE)} (${kb(BUNDLE)}, ${inputs.length} files of dist/)` +
    (fs.existsSync(`${BUNDLE}.cache`) ? `, code cache ${kb(`${BUNDLE}.cache`)}` : '') +
    '\n',
);
