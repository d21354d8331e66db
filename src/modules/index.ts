/**
 * The built-in modules, by the name a config uses. Each is imported when a
 * view first names it: a bind need not load memfs (vfs) or node:net (net).
 */
import type { ModuleDefinition, ModuleRegistry } from '../index.js';

const def = <T>(m: { default: ModuleDefinition<T> }) => m.default as ModuleDefinition<any>;

export const BUILTIN_MODULES: ModuleRegistry & Record<string, () => Promise<ModuleDefinition<any>>> = {
  uname: () => import('./uname.js').then(def),
  hide: () => import('./hide.js').then(def),
  fakeroot: () => import('./fakeroot/index.js').then(def),
  net: () => import('./net.js').then(def),
  vfs: () => import('./vfs/index.js').then(def),
  bind: () => import('./bind.js').then(def),
};
