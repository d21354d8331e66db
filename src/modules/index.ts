/** The built-in modules, by the name a config uses. */
import type { ModuleDefinition } from '../vm/module.js';
import uname from './uname.js';
import hide from './hide.js';
import fakeroot from './fakeroot/index.js';
import net from './net.js';
import vfs from './vfs/index.js';
import bind from './bind.js';

export const BUILTIN_MODULES: Record<string, ModuleDefinition<any>> = {
  uname,
  hide,
  fakeroot,
  net,
  vfs,
  bind,
};
