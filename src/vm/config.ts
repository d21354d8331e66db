/**
 * The view configuration: a YAML file listing modules and their options.
 *
 *   modules:
 *     - uname: { nodename: sandbox }
 *     - hide: { paths: [/etc/shadow] }
 *     - ./my-module.js: { any: options }
 *
 * A bad config is refused before anything runs, naming file, line and key.
 */
import fs from 'node:fs';
import { Module, register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Document, LineCounter } from 'yaml';
import { OptionError, type ModuleDefinition } from './module.js';
import { importOutside } from './outside.js';

export class ConfigError extends Error {}

/**
 * The modules a config may name without a file path, by that name. The core
 * knows none of its own: the application (src/cli.ts) passes the built-in
 * ones (src/modules/index.ts); an embedder passes whatever it likes. An entry
 * is a definition, or a function that loads it, called when a config first
 * names it (the built-in ones: a view loads only the modules it uses).
 */
export type ModuleRegistry = Readonly<Record<string, ModuleDefinition<any> | (() => Promise<ModuleDefinition<any>>)>>;

/** The definition a registry entry names (loaded if it is a loader). */
export async function registryEntry(registry: ModuleRegistry, name: string): Promise<ModuleDefinition<unknown> | undefined> {
  const known = Object.hasOwn(registry, name) ? registry[name] : undefined;
  return typeof known === 'function' ? ((await known()) as ModuleDefinition<unknown>) : known;
}

export interface ModuleEntry {
  ref: string; // as written
  def: ModuleDefinition<unknown>;
  options: unknown;
  name: string;
  /** Where the entry comes from, for messages: "view.yaml:4: modules[1]", "--mount /x=memfs". */
  where?: string;
  /** The module's file, when it was loaded from one (not built in): its setup and close have deadlines. */
  file?: string;
}

/** How long a module loaded from a file may take, in seconds (0: no limit). */
export interface Deadlines {
  /** Loading the file (a top-level await) and its setup(), each. */
  setup: number;
  /** Its close() at the end of the view. */
  close: number;
}

export const DEFAULT_DEADLINES: Deadlines = { setup: 10, close: 10 };

export interface ViewConfig {
  file?: string;
  modules: ModuleEntry[];
  /** Default DEFAULT_DEADLINES; the config's `deadlines` key. */
  deadlines?: Deadlines;
}

/** The largest config file read, in bytes. */
export const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Resolves like `promise`, or rejects with `message` after `seconds` (0: no
 * limit). The timer keeps the process alive meanwhile: a promise that never
 * settles would otherwise let Node exit quietly, with status 0.
 */
export function withDeadline<T>(promise: Promise<T>, seconds: number, message: string): Promise<T> {
  if (!seconds) return promise;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(message)), seconds * 1000);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export class DeadlineError extends Error {}

type KeyPath = (string | number)[];

function keyText(p: KeyPath): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${k}` : k;
  return s;
}

/** Where a problem is: "file:line: key: message". */
class Locator {
  constructor(
    private readonly file: string,
    private readonly doc?: Document,
    private readonly lines?: LineCounter,
    private readonly yaml?: typeof import('yaml'),
  ) {}
  error(key: KeyPath, message: string): ConfigError {
    return new ConfigError(`${this.where(key)}: ${message}`);
  }

  /** "file:line: key" */
  where(key: KeyPath): string {
    let where = this.file;
    if (this.doc && this.lines && this.yaml) {
      const { isMap, isScalar, isSeq } = this.yaml;
      // Walk the key path; report the line of the deepest key (a mapping key, or a
      // list item), not of its value, which may start on a later line.
      let node: unknown = this.doc.contents;
      let at: [number, number, number] | undefined = (node as { range?: [number, number, number] })?.range;
      for (const k of key) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && p.key.value === k);
          if (!pair) break;
          at = (pair.key as { range?: [number, number, number] }).range ?? at;
          node = pair.value;
        } else if (isSeq(node) && typeof k === 'number' && node.items[k]) {
          node = node.items[k];
          at = (node as { range?: [number, number, number] }).range ?? at;
        } else break;
      }
      if (at) where += `:${this.lines.linePos(at[0]).line}`;
    }
    return key.length ? `${where}: ${keyText(key)}` : where;
  }
}

/** Reads and checks a YAML config; module names are looked up in `registry`. */
export async function loadConfigFile(file: string, registry: ModuleRegistry): Promise<ViewConfig> {
  let text: string;
  try {
    text = readLimited(file, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: cannot read the config: ${(e as Error).message}`);
  }
  // Imported here: the API (src/index.ts) re-exports this file, and a view
  // without a config file (vview run --bind ...) need not load a YAML parser.
  const yaml = await import('yaml');
  const lines = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const loc = new Locator(file, doc, lines, yaml);
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    throw new ConfigError(`${file}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  // An alias (*name) repeats an anchored node: nested, a few lines expand to
  // billions of nodes. A view never needs one.
  let alias: { range?: [number, number, number] | null } | undefined;
  yaml.visit(doc, { Alias: (_, node) => { alias = node; return yaml.visit.BREAK; } });
  if (alias) {
    const at = alias.range ? `:${lines.linePos(alias.range[0]).line}` : '';
    throw new ConfigError(`${file}${at}: YAML aliases (*name) are not accepted in a view config; write the value out`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 0 }) as unknown;
  } catch (e) {
    throw new ConfigError(`${file}: invalid YAML: ${(e as Error).message}`);
  }
  return resolve(raw, path.dirname(path.resolve(file)), registry, loc, file);
}

/**
 * Checks a config already parsed (the YAML's value): module names are looked
 * up in `registry`, module files and relative paths in options are relative
 * to `baseDir`, and messages name `file` (default "<config>").
 */
export function resolveConfig(raw: unknown, opts: { baseDir: string; registry: ModuleRegistry; file?: string }): Promise<ViewConfig> {
  return resolve(raw, opts.baseDir, opts.registry, new Locator(opts.file ?? '<config>'), opts.file);
}

async function resolve(raw: unknown, baseDir: string, registry: ModuleRegistry, at: Locator, file?: string): Promise<ViewConfig> {
  if (raw === null || raw === undefined) return { file, modules: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw at.error([], 'expected a mapping with a `modules` list');
  for (const k of Object.keys(raw)) if (k !== 'modules' && k !== 'deadlines') throw at.error([k], 'unknown key (expected `modules` or `deadlines`)');
  const deadlines = { ...DEFAULT_DEADLINES };
  const d = (raw as { deadlines?: unknown }).deadlines;
  if (d !== undefined && d !== null) {
    if (typeof d !== 'object' || Array.isArray(d)) throw at.error(['deadlines'], 'expected a mapping with `setup` and/or `close` (seconds)');
    for (const [k, v] of Object.entries(d)) {
      if (k !== 'setup' && k !== 'close') throw at.error(['deadlines', k], 'unknown key (expected `setup` or `close`)');
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 86400) throw at.error(['deadlines', k], 'expected a number of seconds from 0 (no limit) to 86400');
      deadlines[k] = v;
    }
  }
  const list = (raw as { modules?: unknown }).modules;
  if (list === undefined || list === null) return { file, modules: [], deadlines };
  if (!Array.isArray(list)) throw at.error(['modules'], 'expected a list of modules');
  const modules: ModuleEntry[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as unknown;
    let ref: string;
    let options: unknown;
    if (typeof item === 'string') {
      ref = item;
      options = undefined;
    } else if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length === 1) {
      ref = Object.keys(item)[0];
      options = (item as Record<string, unknown>)[ref];
    } else {
      throw at.error(['modules', i], 'expected a module name, or `name: { options }`');
    }
    const def = await findModule(ref, baseDir, registry, (m) => at.error(['modules', i], m), deadlines.setup);
    const moduleFile = Object.hasOwn(registry, ref) ? undefined : path.resolve(baseDir, ref);
    let parsed: unknown = options;
    if (def.options) {
      try {
        parsed = def.options(options ?? {}, { baseDir });
      } catch (e) {
        if (e instanceof OptionError) throw at.error(['modules', i, ref, ...e.key], e.message);
        throw at.error(['modules', i, ref], (e as Error).message);
      }
    }
    modules.push({ ref, def, options: parsed, name: def.name, where: at.where(['modules', i]), ...(moduleFile && { file: moduleFile }) });
  }
  return { file, modules, deadlines };
}

async function findModule(
  ref: string, baseDir: string, registry: ModuleRegistry, err: (m: string) => ConfigError, deadline = DEFAULT_DEADLINES.setup,
): Promise<ModuleDefinition<unknown>> {
  const known = await registryEntry(registry, ref);
  if (known) return known;
  if (!ref.includes('/') && !/\.(m?js|ts|mts)$/.test(ref))
    throw err(`unknown module "${ref}" (built-in modules: ${Object.keys(registry).join(', ')}; or give a file path)`);
  const file = path.resolve(baseDir, ref);
  if (!fs.existsSync(file)) throw err(`module file ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    await resolveVview();
    const load = async (): Promise<Record<string, unknown>> => {
      if (/\.[mc]?ts$/.test(file)) {
        // TypeScript modules load through tsx (ESM or CommonJS, as Node would decide).
        const { tsImport } = await importOutside<typeof import('tsx/esm/api')>('tsx/esm/api');
        return (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
      }
      return importOutside(pathToFileURL(file).href);
    };
    // A top-level await that never settles.
    mod = await withDeadline(load(), deadline, `loading did not finish within ${deadline} s (a top-level await that never settles?; the config's deadlines.setup)`);
  } catch (e) {
    throw err(`cannot load module ${file}: ${(e as Error).message}`);
  }
  let def = (mod.default ?? mod.module) as (ModuleDefinition<unknown> & { default?: ModuleDefinition<unknown> }) | undefined;
  // A CommonJS-compiled module (a .ts file Node treats as CommonJS) nests it once more.
  if (def && typeof def.setup !== 'function' && def.default) def = def.default;
  if (!def || typeof def.setup !== 'function' || typeof def.name !== 'string')
    throw err(`${file} does not export a module (export default defineModule({ name, setup }))`);
  return def;
}

// ---- import ... from 'vview' in a module file ----------------------------------

/** Where the runtime leaves its API for the module files' 'vview' (see resolveVview). */
const API_KEY = 'vview.api';
const BRIDGE_URL = 'vview:api';

/**
 * Module hooks (they run on Node's loader thread): the bare specifier 'vview'
 * resolves to BRIDGE_URL, a module whose exports are the runtime's own API,
 * taken from where resolveVview() left it. So does the package's own entry
 * file imported by its path (`own`, dist/src/index.js): the runtime may be
 * the bundle (bin/vview.cjs), not that file. tsx may tag the URL with its
 * namespace query (it does for every import of a module it loaded); every
 * such copy exports the same objects.
 */
const HOOKS = `
let names = [];
let own = '';
export function initialize(data) { names = data.names; own = data.own; }
export async function resolve(specifier, context, next) {
  if (specifier === 'vview') return { url: ${JSON.stringify(BRIDGE_URL)}, format: 'module', shortCircuit: true };
  const r = await next(specifier, context);
  if (own && r.url.split('?')[0] === own) return { url: ${JSON.stringify(BRIDGE_URL)}, format: 'module', shortCircuit: true };
  return r;
}
export function load(url, context, next) {
  if (url !== ${JSON.stringify(BRIDGE_URL)} && !url.startsWith(${JSON.stringify(BRIDGE_URL + '?')})) return next(url, context);
  const source = 'const api = globalThis[Symbol.for(' + JSON.stringify(${JSON.stringify(API_KEY)}) + ')];\\n'
    + 'export const { ' + names.join(', ') + ' } = api;\\n';
  return { format: 'module', source, shortCircuit: true };
}
`;

/** dist/src/index.js of this package, from dist/src/vm/, dist/ (the bundle) or src/vm/. */
function ownEntry(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'dist', 'src', 'index.js');
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/** The key under which require('vview') finds the API in require.cache. */
const CJS_KEY = 'vview:api';

let vviewResolves: Promise<void> | undefined;

/**
 * Makes `import { defineModule } from 'vview'` work in a module file anywhere,
 * whether or not vview is installed next to it, and always gives it the
 * runtime that loads it: the very objects the runtime uses (SyscallError,
 * OptionError and RESTART are compared by identity), never a second copy of
 * the package.
 *
 * - ESM (.mjs, .js, and .mts or .ts that tsx loads as an ES module): a
 *   resolve and load hook registered with node:module's register().
 * - CommonJS (a .ts file that tsx compiles to CommonJS because no package.json
 *   above it says "type": "module"; its imports become require() calls, which
 *   those hooks do not see): the name resolves to a require.cache entry that
 *   holds the API. The key is not an absolute path, so tsx does not append
 *   its namespace to it.
 */
function resolveVview(): Promise<void> {
  vviewResolves ??= (async () => {
    // A literal specifier: in the bundle (bin/vview.cjs) it is the bundle's own copy.
    const api = (await import('../index.js')) as Record<string, unknown>;
    (globalThis as Record<symbol, unknown>)[Symbol.for(API_KEY)] = api;
    const own = ownEntry();
    register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { names: Object.keys(api), own: own ? pathToFileURL(own).href : '' } });
    const M = Module as unknown as {
      _resolveFilename(request: string, ...rest: unknown[]): string;
      _cache: Record<string, unknown>;
      new (id: string): { exports: unknown; loaded: boolean; filename: string };
    };
    const cached = new M(CJS_KEY);
    cached.exports = api;
    cached.loaded = true;
    cached.filename = CJS_KEY;
    M._cache[CJS_KEY] = cached;
    const resolveFilename = M._resolveFilename;
    M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
      if (request === 'vview') return CJS_KEY;
      const file = resolveFilename.call(this, request, ...rest);
      return file === own ? CJS_KEY : file;
    };
  })();
  return vviewResolves;
}

/** The file's text, refused with a ConfigError past `max` bytes (a config that is /dev/zero, or a log). */
function readLimited(file: string, max: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    while (n < buf.length) {
      const k = fs.readSync(fd, buf, n, buf.length - n, null);
      if (k <= 0) break;
      n += k;
    }
    if (n > max) throw new ConfigError(`${file}:1: the config is larger than ${max / 1024} KiB; refusing to read it (is it a view config?)`);
    return buf.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}
