'use strict';
// vview's Node entry: bin/vview execs it (bin/vview.js, for `node bin/vview.js`,
// calls start() too).
//
// Start-up is most of a short command's time under vview, so this runs the
// CLI from dist/vview.cjs, all of it bundled into one file by
// scripts/bundle.mjs, compiled with the V8 code cache made next to it at
// build time (dist/vview.cjs.cache): no module resolution, no parsing, no
// compiling of what the cache holds. Without the cache, or when V8 refuses it
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
const CACHE = `${BUNDLE}.cache`;
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

/** The bundle compiled (from cachedData when V8 takes it) and its top level run: its exports. */
function load(cachedData) {
  const script = new vm.Script(wrap(fs.readFileSync(BUNDLE, 'utf8')), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE));
  return { exports: module.exports, script };
}

/**
 * Writes dist/vview.cjs.cache (scripts/bundle.mjs runs this in a plain `node`,
 * so that V8's flags match the launcher's): the code of the bundle's top level
 * and of what it runs at load.
 */
function writeCodeCache() {
  const { script } = load(undefined);
  const tmp = `${CACHE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o644 });
  fs.renameSync(tmp, CACHE);
}

function start(argv) {
  // import() inside the bundle (a config's module file, tsx) goes through this
  // file's, which has Node's loader (src/vm/outside.ts).
  globalThis[Symbol.for('vview.import')] = (specifier) => import(specifier);
  let main;
  if (fresh()) {
    let cachedData;
    try {
      cachedData = fs.readFileSync(CACHE);
    } catch {
      /* compiled without it */
    }
    main = load(cachedData).exports.main;
  }
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
