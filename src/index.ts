/**
 * The public API for module authors and embedders: `import { ... } from 'vview'`.
 * The built-in modules (src/modules/) use nothing else.
 */
export {
  defineModule, ret, errno, forward, rewrite, RESTART, SyscallError, OptionError,
  type Action, type Awaitable, type ExitHook, type Handler, type Handlers, type ModuleContext, type ModuleDefinition,
  type ModuleInstance, type OptionsEnv, type PerProcess, type ProcessHooks, type SyscallCall, type SyscallExit,
  type TraceeMemory, type CallPath, type CallFd, type SyscallName, type OwnershipView, type ShownOwner, type ShownStat,
} from './vm/module.js';
export { errnoNumber, errnoName, errnoMessage, type ErrnoName } from './vm/errno.js';

// What a syscall does, from the one description of every syscall (src/vm/syscalls/table.ts).
export {
  specOf, effectOf, syscallsWith, pathSyscalls, changes, refusalOf, CHANGES, MAKES_NAME,
  type Effect, type StatKind, type Refusal,
} from './vm/syscalls/classes.js';
export type { SyscallSpec, PathArg, FlagBit, ArgKind, LastComponent } from './vm/syscalls/spec.js';
export {
  openFlags, isReadOnlyOpen, OPEN_CHANGES, O_ACCMODE, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_TMPFILE,
} from './vm/syscalls/open.js';

// File systems.
export { mountFileSystem, type MountOptions } from './vm/fs/mount.js';
export { mountPoint } from './vm/fs/mountpoint.js';
export { nodeFsAdapter, type NodeFsLike } from './vm/fs/nodefs.js';
export {
  fsError, type FileSystem, type ReadOnlyFileSystem, type FileSystemReads, type AnyFileSystem, type FsAttr, type FsStatfs, type FileType,
} from './vm/fs/types.js';

// State files kept across runs: one writer (a lock), atomic saves, sparse copies.
export {
  lockStateFile, writeFileAtomically, writeAll, copySparse, reasonOf, StateFileError, EXIT_SAVE_FAILED, EXIT_STATE_BUSY,
  type StateLock,
} from './vm/statefile.js';

// Running a view (embedders; the CLI is one).
export { run, exitStatus, type RunOptions } from './vm/monitor.js';
export { loadConfigFile, resolveConfig, ConfigError, type ViewConfig, type ModuleEntry, type ModuleRegistry } from './vm/config.js';
