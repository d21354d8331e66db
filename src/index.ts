/** The public API for module authors and embedders. */
export {
  defineModule, ret, errno, forward, rewrite, RESTART, SyscallError, OptionError,
  type Action, type ExitHook, type Handler, type Handlers, type ModuleContext, type ModuleDefinition,
  type ModuleInstance, type PerProcess, type SyscallCall, type SyscallExit, type TraceeMemory,
  type CallPath, type CallFd, type SyscallName, type ErrnoName,
} from './vm/module.js';
export { run, exitStatus, type RunOptions } from './vm/monitor.js';
export { loadConfigFile, resolveConfig, ConfigError, type ViewConfig } from './vm/config.js';
