/** The public API for module authors and embedders. */
export {
  defineModule, ret, errno, forward, rewrite, RESTART, SyscallError, OptionError,
  type Action, type ExitHook, type Handler, type Handlers, type ModuleContext, type ModuleDefinition,
  type ModuleInstance, type PerProcess, type SyscallCall, type SyscallExit, type TraceeMemory,
  type CallPath, type CallFd, type SyscallName, type ErrnoName,
} from './vm/module.js';
export { mountFileSystem, type MountOptions } from './vm/fs/mount.js';
export { nodeFsAdapter, type NodeFsLike } from './vm/fs/nodefs.js';
export { fsError, type FileSystem, type FsAttr, type FsStatfs, type FileType } from './vm/fs/types.js';
export { run, exitStatus, type RunOptions } from './vm/monitor.js';
export { loadConfigFile, resolveConfig, ConfigError, type ViewConfig, type ModuleEntry, type ModuleRegistry } from './vm/config.js';
