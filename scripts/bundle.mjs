/**
 * Bundles the CLI for start-up (bin/vview.cjs runs it; see there). Run by
 * `npm run build` and `npm install` (prepare), after tsc:
 *
 *   dist/vview.cjs             dist/src/cli.js as tsc wrote it, with all of vview's own code
 *   dist/vendor/yaml.cjs       the packages it uses, each in one file of its own, loaded
 *   dist/vendor/memfs.cjs        when first needed (a config file; a vfs mount)
 *   dist/vview.cjs.json        the dist/ files the bundle was made from
 *   dist/**.cache              the V8 code cache of each, written by a plain `node`
 *
 * CommonJS, because only a vm.Script takes a code cache on Node 20
 * (module.enableCompileCache is Node 22). What a run may not need stays out of
 * the start-up path: the CLI imports the config reader, the built-in modules
 * and child_process dynamically, and esbuild turns a dynamic import of a
 * bundled module into a lazy initializer. import.meta.url is the bundle's URL.
 * tsx and the module files a config names are not bundled: they are imported
 * at run time (src/vm/outside.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const BUNDLE = path.join(DIST, 'vview.cjs');
const VENDOR = ['yaml', 'memfs'];

const common = { absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };

for (const f of fs.readdirSync(DIST)) if (/^vview\.cjs/.test(f)) fs.rmSync(path.join(DIST, f));
fs.rmSync(path.join(DIST, 'vendor'), { recursive: true, force: true });

for (const name of VENDOR) {
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: ROOT, loader: 'js' },
    outfile: path.join(DIST, 'vendor', `${name}.cjs`),
  });
}

const result = await build({
  ...common,
  entryPoints: ['dist/src/cli.js'],
  outfile: BUNDLE,
  external: ['tsx'],
  plugins: [
    {
      // import fs from 'node:fs' in each of 20 files would copy the module's
      // 100 properties 20 times at start-up (esbuild's __toESM): one shared
      // stub per builtin instead, with the names vview imports from it.
      name: 'builtins',
      setup(b) {
        const named = new Map();
        const walk = (dir) => {
          for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const f = path.join(dir, e.name);
            if (e.isDirectory()) walk(f);
            else if (f.endsWith('.js'))
              for (const m of fs.readFileSync(f, 'utf8').matchAll(/^import\s+(?:\w+\s*,\s*)?\{([^}]*)\}\s*from\s*'(node:[\w/]+)'/gm))
                for (const n of m[1].split(',').map((x) => x.trim().split(/\s+as\s+/)[0]).filter(Boolean))
                  named.set(m[2], new Set([...(named.get(m[2]) ?? []), n]));
          }
        };
        walk(path.join(DIST, 'src'));
        b.onResolve({ filter: /^node:/ }, (args) =>
          args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin' },
        );
        b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
          const names = [...(named.get(args.path) ?? [])];
          return {
            contents:
              `const m = require(${JSON.stringify(args.path)});\nexport default m;\n` +
              (names.length ? `export const ${names.map((n) => `${n} = m.${n}`).join(', ')};\n` : ''),
            loader: 'js',
          };
        });
      },
    },
    {
      name: 'vendor',
      // import 'yaml' (also a dynamic one) becomes a bundled stub that requires
      // ./vendor/yaml.cjs, so that it stays lazy and is never a real import().
      setup(b) {
        b.onResolve({ filter: new RegExp(`^(${VENDOR.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'vendor' }));
        b.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
          contents: `module.exports = require(${JSON.stringify(`./vendor/${args.path}.cjs`)});`,
          loader: 'js',
        }));
        b.onResolve({ filter: /^\.\/vendor\// }, (args) => ({ path: args.path, external: true }));
      },
    },
  ],
  define: { 'import.meta.url': '__vview_import_meta_url' },
  banner: { js: 'var __vview_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  metafile: true,
});

// What bin/vview.cjs checks before it runs the bundle: that no file of dist/
// it was made from is newer than it (tsc rewrites them all). Packages change
// only with an npm install, which runs this again.
const inputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('dist/')).sort();
fs.writeFileSync(`${BUNDLE}.json`, JSON.stringify({ inputs }) + '\n');

const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).writeCodeCache()', path.join(ROOT, 'bin', 'vview.cjs')], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, NODE_OPTIONS: '' },
});
if (r.status !== 0) process.stderr.write('bundle: could not write the code caches (vview starts without them)\n');
const kib = (f) => (fs.existsSync(f) ? `${(fs.statSync(f).size / 1024).toFixed(0)} KiB` : 'none');
for (const f of [BUNDLE, ...VENDOR.map((n) => path.join(DIST, 'vendor', `${n}.cjs`))])
  process.stdout.write(`bundle: ${path.relative(ROOT, f)} ${kib(f)}, code cache ${kib(`${f}.cache`)}\n`);
