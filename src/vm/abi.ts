/**
 * The values native code and TypeScript share: written once here, generated
 * into native/generated/abi.h by scripts/gen-native.ts (with the syscall
 * description of src/vm/syscalls/table.ts), and checked by test/abi.test.ts
 * against what the built addon reports. Never restate one of these by hand on
 * either side.
 */
import type { Effect, StatKind } from './syscalls/spec.js';
import { OPEN_CHANGES } from './syscalls/open.js';

/** What the tracer hands to JavaScript (Tracer::next). */
export const EventType = {
  None: 0,
  Done: 1,
  Syscall: 2,
  SyscallExit: 3,
  Spawn: 4,
  Exec: 5,
  Exit: 6,
  /** A child of this process that is not traced (spawned by a module) changed state. */
  Foreign: 7,
  /** An inner `vview run` in the view joined this monitor: a new layer, served over a channel (src/vm/layers.ts). */
  Join: 8,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/**
 * An inner vview's requests to the monitor tracing it (native/tracer.h):
 * prctl(Join.prctl, Join.open, socketFd) -> layer number;
 * prctl(Join.prctl, Join.enter, layer) by its command before exec. Natively
 * the kernel answers EINVAL (no such prctl option).
 */
export const Join = { prctl: 0x76766977, open: 1, enter: 2 } as const;

/** How JavaScript resumes a parked tracee (Tracer::resume). */
export const ResumeKind = {
  Continue: 0,
  Return: 1,
  Restart: 2,
} as const;
export type ResumeKind = (typeof ResumeKind)[keyof typeof ResumeKind];

/** Why a syscall stops (per syscall number in the routing table). */
export const RouteBits = {
  Name: 1,
  Path: 2,
  Fd: 4,
  /** chdir/fchdir: native code drops its cwd cache. */
  Cwd: 8,
  /** A stat-family call shown through the stat view (ModuleContext.showOwnership). */
  Stat: 16,
  /**
   * ptrace, wait4, waitid, seccomp, prctl(PR_SET_SECCOMP): the emulated ptrace
   * of native/ptrace_emu.cc (strace, gdb, a nested vview). Routed always,
   * also in an empty view.
   */
  Emu: 32,
  /**
   * execve, execveat with modules loaded: native code reads the program's ELF
   * class and hands only a 32-bit one to JavaScript (refused there, with a
   * message); any other exec goes on without a stop into JavaScript.
   */
  Exec: 64,
} as const;

/** How the last component of a path argument is resolved (PathArg.last). */
export const LastMode = { follow: 0, nofollow: 1, open: 2, openhow: 3 } as const;

/** Stat kinds as native code numbers them (0: not a stat-family call). */
export const StatKindCode: Record<StatKind, number> = { path: 1, link: 2, fd: 3, at: 4, statx: 5 };

/** Effects as native code numbers them (0: unclassified). */
export const EffectCode: Record<Effect, number> = {
  query: 1, open: 2, create: 3, remove: 4, rename: 5, link: 6, attr: 7, write: 8,
  exec: 9, cwd: 10, root: 11, watch: 12, mount: 13, admin: 14,
};

/** Open flags that make an open change something (see syscalls/open.ts). */
export const OPEN_CHANGE_FLAGS = OPEN_CHANGES;
