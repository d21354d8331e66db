'use strict';
// vview's Node entry: bin/vview execs it (bin/vview.js, for `node bin/vview.js`,
// calls start() too).
//
// Start-up is most of a short command's time under vview, so this runs the
// CLI from dist/vview.cjs, all of it bundled into one file by
// scripts/bundle.mjs (the packages it uses are in dist/vendor/, loaded when
// needed), compiled with the V8 code cache made next to each file at build
// time (FILE.cache): no module resolution, no parsing, no compiling of what
// the cache holds. Without the cache, or when V8 refuses it
// (another Node: `npm run build` makes it again), the bundle is compiled as
// usual. If the bundle is missing or older than a file it was made from
// (dist/src rebuilt by tsc alone), the CLI runs unbundled from
// dist/src/cli.js: slower to start, never stale.
//
// This file is CommonJS on purpose: an ES module entry costs Node's ESM
// loader a few more milliseconds.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');

const ROOT = path.join(__dirname, '..');
const BUNDLE = path.join(ROOT, 'dist', 'vview.cjs');
const INPUTS = `${BUNDLE}.json`;

/** The bundle is there and none of the dist/ files it was made from changed after it. */
function fresh() {
  let inputs;
  let made;
  try {
    inputs = JSON.parse(fs.readFileSync(INPUTS, 'utf8')).inputs;
    made = fs.statSync(BUNDLE).mtimeMs;
  } catch {
    return false;
  }
  if (!Array.isArray(inputs)) return false;
  for (const rel of inputs) {
    const st = fs.statSync(path.join(ROOT, rel), { throwIfNoEntry: false });
    if (!st || st.mtimeMs > made) return false;
  }
  return true;
}

const loaded = new Map(); // file -> { exports, script }

/**
 * A file of the bundle (dist/vview.cjs, dist/vendor/*.cjs) compiled, from its
 * code cache (FILE.cache) when V8 takes it, and run as CommonJS. Its require()
 * loads dist/vendor/ files the same way.
 */
function load(file, useCache = true) {
  let m = loaded.get(file);
  if (m) return m.exports;
  let cachedData;
  if (useCache) {
    try {
      cachedData = fs.readFileSync(`${file}.cache`);
    } catch {
      /* compiled without it */
    }
  }
  const script = new vm.Script(wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  const real = createRequire(file);
  const dir = path.dirname(file);
  const req = (id) => (id.startsWith('./vendor/') ? load(path.join(dir, id), useCache) : real(id));
  req.resolve = real.resolve;
  req.cache = real.cache;
  m = { exports: {}, script };
  const module = { exports: m.exports, id: file, filename: file, loaded: false };
  loaded.set(file, m);
  script.runInThisContext()(module.exports, req, module, file, dir);
  m.exports = module.exports;
  module.loaded = true;
  return m.exports;
}

/**
 * Writes the code cache of each file of the bundle (scripts/bundle.mjs runs
 * this in a plain `node`, so that V8's flags match the launcher's): the code
 * of each file's top level, of what `vview modules` runs (it loads the
 * built-in modules) and of the YAML parser.
 */
async function writeCodeCache() {
  const { main } = load(BUNDLE, false);
  await main(['modules']);
  const vendor = path.join(path.dirname(BUNDLE), 'vendor');
  for (const f of fs.readdirSync(vendor)) if (f.endsWith('.cjs')) load(path.join(vendor, f), false);
  // And the YAML parser's code, which every --config run uses.
  load(path.join(vendor, 'yaml.cjs'), false).parseDocument('modules:\n  - hide: { paths: [/x] }\n', { lineCounter: undefined });
  for (const [file, { script }] of loaded) {
    const tmp = `${file}.cache.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
    fs.renameSync(tmp, `${file}.cache`);
  }
}

function start(argv) {
  // import() inside the bundle (a config's module file, tsx) goes through this
  // file's, which has Node's loader (src/vm/outside.ts).
  globalThis[Symbol.for('vview.import')] = (specifier) => import(specifier);
  const main = fresh() ? load(BUNDLE).main : undefined;
  const done = main ? Promise.resolve().then(() => main(argv)) : import('../dist/src/cli.js').then((m) => m.main(argv));
  done.then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`vview: internal error: ${err && err.stack ? err.stack : err}\n`);
      process.exit(125);
    },
  );
}

module.exports = { start, writeCodeCache };

if (require.main === module) start(process.argv.slice(2));
