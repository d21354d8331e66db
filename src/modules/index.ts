/** The built-in modules, by the name a config uses. */
import type { ModuleDefinition, ModuleRegistry } from '../index.js';
import uname from './uname.js';
import hide from './hide.js';
import fakeroot from './fakeroot/index.js';
import net from './net.js';
import vfs from './vfs/index.js';
import bind from './bind.js';

export const BUILTIN_MODULES: ModuleRegistry & Record<string, ModuleDefinition<any>> = {
  uname,
  hide,
  fakeroot,
  net,
  vfs,
  bind,
};
