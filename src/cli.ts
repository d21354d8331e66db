/**
 * The command line: `vview run`, `vview modules`, `vview new-module NAME`
 * (see USAGE). The application layer: it gives the core the built-in modules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViewConfig } from './vm/config.js';
import { run, SetupError } from './vm/monitor.js';

// Start-up: `vview run -- cmd` with no module loads only the core (monitor,
// router, native). The config reader (yaml), the built-in modules (memfs,
// node:net, ...) and child_process are imported when a run needs them.
const builtinModules = async () => (await import('./modules/index.js')).BUILTIN_MODULES;
const isConfigError = async (e: unknown) => e instanceof (await import('./vm/config.js')).ConfigError;

const USAGE = `usage: vview run [--config view.yaml] [--mount PATH=memfs[:STATE]] [--bind SRC:DST[:ro]]
                 [--fakeroot | --fakeroot-state FILE] [--offline] [--trace[=FILE]] [--stats]
                 [--no-join] [--] command [args...]
       vview modules            list the built-in modules
       vview new-module NAME    write a module skeleton (module, view, test) into ./NAME/
       vview --version | --help

  -c, --config FILE   the view: modules and their options (YAML)
  --mount PATH=memfs[:STATE]   an in-memory tree at PATH (the vfs module), kept in STATE across runs
  --bind SRC:DST[:ro|:rw]   the directory SRC shown at DST (the bind module); :ro read-only, :rw (default) writable
  --fakeroot      fake root: the fakeroot module with uid 0, gid 0
  --fakeroot-state FILE   the same, its recorded ownership kept in FILE across runs
  --offline       no network: as a net module with mode offline (see vview modules)
  --trace[=FILE]  one line per call a module handled (to stderr, or FILE)
  --stats         at exit, calls routed per module and syscall, time in handlers
  --no-join       inside a view: trace the command here, through the outer view's ptrace
                  emulation, instead of joining the outer monitor as a layer (also VVIEW_NO_JOIN=1)
  Options that take a value also take it as --option=VALUE; --mount and --bind can be repeated.
`;

function fail(msg: string, code = 2): never {
  fs.writeSync(2, `vview: ${msg}\n`);
  process.exit(code);
}

/** --mount PATH=memfs[:STATE] */
function mountSpec(spec: string): { name: string; options: Record<string, unknown> } {
  const m = /^([^=]+)=memfs(?::(.+))?$/.exec(spec);
  if (!m) fail(`--mount ${spec}: expected PATH=memfs or PATH=memfs:STATE-FILE`);
  return { name: 'vfs', options: { mount: m[1], ...(m[2] ? { persist: m[2] } : {}) } };
}

/** --bind SRC:DST[:ro] */
function bindSpec(spec: string): { name: string; options: Record<string, unknown> } {
  const parts = spec.split(':');
  const ro = parts.length === 3 && (parts[2] === 'ro' || parts[2] === 'rw');
  if (!(parts.length === 2 || ro) || !parts[0] || !parts[1]) fail(`--bind ${spec}: expected SRC:DST or SRC:DST:ro`);
  return { name: 'bind', options: { from: parts[0], to: parts[1], readonly: parts[2] === 'ro' } };
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '-h' || verb === '--help' || verb === 'help') {
    fs.writeSync(verb === undefined ? 2 : 1, USAGE);
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version') {
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    fs.writeSync(1, `vview ${pkg.version}\n`);
    return 0;
  }
  if (verb === 'modules') {
    for (const [name, load] of Object.entries(await builtinModules())) fs.writeSync(1, `${name.padEnd(10)} ${(await load()).description ?? ''}\n`);
    return 0;
  }
  if (verb === 'new-module') {
    if (rest.length !== 1) fail(`new-module takes one NAME\n${USAGE}`);
    return newModule(rest[0]);
  }
  if (verb !== 'run') fail(`unknown command "${verb}"\n${USAGE}`);

  let configFile: string | undefined;
  let trace: string | boolean = false;
  let stats = false;
  let noJoin = false;
  let fakeroot: { state?: string } | undefined;
  let offline = false;
  const extra: { flag: string; name: string; options: Record<string, unknown> }[] = [];
  let i = 0;
  for (; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    if (a === '--config' || a === '-c') {
      if (i + 1 >= rest.length) fail('--config needs a file');
      configFile = rest[++i];
    } else if (a.startsWith('--config=')) configFile = a.slice(9);
    else if (a === '--trace') trace = true;
    else if (a.startsWith('--trace=')) trace = a.slice(8);
    else if (a === '--stats') stats = true;
    else if (a === '--no-join') noJoin = true;
    else if (a === '--fakeroot') fakeroot ??= {};
    else if (a === '--fakeroot-state' || a.startsWith('--fakeroot-state=')) {
      if (a === '--fakeroot-state' && i + 1 >= rest.length) fail('--fakeroot-state needs a file');
      fakeroot = { state: a === '--fakeroot-state' ? rest[++i] : a.slice('--fakeroot-state='.length) };
    }
    else if (a === '--offline') offline = true;
    else if (a === '--mount' || a.startsWith('--mount=') || a === '--bind' || a.startsWith('--bind=')) {
      const flag = a.startsWith('--mount') ? '--mount' : '--bind';
      if (!a.includes('=') && i + 1 >= rest.length) fail(`${flag} needs an argument`);
      const spec = a.includes('=') ? a.slice(flag.length + 1) : rest[++i];
      extra.push({ flag: `${flag} ${spec}`, ...(flag === '--mount' ? mountSpec(spec) : bindSpec(spec)) });
    }
    else fail(`unknown option ${a}\n${USAGE}`);
  }
  const command = rest.slice(i);
  if (command.length === 0) fail(`no command given\n${USAGE}`);

  let config: ViewConfig = { modules: [] };
  const withModules = configFile !== undefined || offline || extra.length > 0 || fakeroot !== undefined;
  const BUILTIN_MODULES = withModules ? await builtinModules() : ({} as Awaited<ReturnType<typeof builtinModules>>);
  if (withModules) (await import('./vm/children.js')).watchOwnChildren(); // before modules load: they (and tsx) may spawn
  try {
    if (configFile) config = await (await import('./vm/config.js')).loadConfigFile(configFile, BUILTIN_MODULES);
    if (offline) config = (await import('./modules/net.js')).withOffline(config);
  } catch (e) {
    if (offline || (await isConfigError(e))) fail((e as Error).message);
    throw e;
  }
  for (const x of extra) {
    const def = await BUILTIN_MODULES[x.name]();
    let options: unknown;
    try {
      options = def.options!(x.options, { baseDir: process.cwd() });
    } catch (e) {
      const key = (e as { key?: (string | number)[] }).key;
      fail(`${x.flag}: ${key?.length ? `${key.join('.')}: ` : ''}${(e as Error).message}`);
    }
    config.modules.push({ ref: x.name, def, options, name: x.name, where: x.flag });
  }
  if (fakeroot) {
    if (config.modules.some((m) => m.name === 'fakeroot')) fail('--fakeroot: the config already has a fakeroot module');
    const def = await BUILTIN_MODULES.fakeroot();
    let options: unknown;
    try {
      options = def.options!(fakeroot, { baseDir: process.cwd() });
    } catch (e) {
      fail(`--fakeroot${fakeroot.state !== undefined ? '-state' : ''}: ${(e as Error).message}`);
    }
    config.modules.push({ ref: 'fakeroot', def, options, name: 'fakeroot' });
  }
  let traceFd: number | undefined;
  if (trace === true) traceFd = 2;
  else if (typeof trace === 'string') {
    try {
      traceFd = fs.openSync(trace, 'w', 0o600);
    } catch (e) {
      fail(`cannot open the trace file: ${(e as Error).message}`);
    }
  }
  try {
    return await run({ command, config, traceFd, stats, noJoin });
  } catch (e) {
    if (e instanceof SetupError) fail(e.message, e.exitCode);
    if (await isConfigError(e)) fail((e as Error).message);
    fail((e as Error).message, 125);
  }
}

// ---- vview new-module NAME ------------------------------------------------------

/** This package's directory (the one with its package.json), from dist/src/ or src/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'vview') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the vview package directory');
    dir = up;
  }
}

/**
 * Writes ./NAME/ from templates/module/: the module (NAME.ts, importing only
 * 'vview'), a view that loads it (view.yaml), its test (NAME.test.mjs, for
 * `node --test`: it runs this vview on the view), package.json. Never
 * overwrites: an existing ./NAME is refused.
 */
function newModule(name: string): number {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name))
    fail(`new-module ${JSON.stringify(name)}: expected a name of letters, digits, "-" and "_", starting with a letter`);
  const root = packageRoot();
  const from = path.join(root, 'templates', 'module');
  const to = path.resolve(name);
  try {
    fs.mkdirSync(to); // fails if anything is there: nothing is overwritten
  } catch (e) {
    fail(`new-module: ./${name} ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'already exists; not overwriting it' : `cannot be made: ${(e as Error).message}`}`);
  }
  const rename: Record<string, string> = { 'module.ts': `${name}.ts`, 'module.test.mjs': `${name}.test.mjs` };
  const vview = JSON.stringify(path.join(root, 'bin', 'vview'));
  const written: string[] = [];
  const copy = (src: string, dst: string) => {
    for (const e of fs.readdirSync(src, { withFileTypes: true })) {
      const out = path.join(dst, rename[e.name] ?? e.name);
      if (e.isDirectory()) {
        fs.mkdirSync(out);
        copy(path.join(src, e.name), out);
        continue;
      }
      const text = fs.readFileSync(path.join(src, e.name), 'utf8').replaceAll('__NAME__', name).replaceAll('__VVIEW__', vview);
      fs.writeFileSync(out, text, { flag: 'wx', mode: 0o644 });
      written.push(path.relative(process.cwd(), out));
    }
  };
  copy(from, to);
  fs.writeSync(
    1,
    `vview: made ./${name}/:\n${written.sort().map((f) => `  ${f}\n`).join('')}` +
      `Try it:\n  cd ${name} && node --test\n` +
      `  cd ${name} && vview run --config view.yaml -- sh -c 'cat protected/hello.txt; touch protected/new'\n`,
  );
  return 0;
}
