/**
 * Sets of syscalls derived from the one description (table.ts): every
 * consumer — the router, mounts, hide, net, native code through the generated
 * header — asks here instead of keeping its own list of names, so a call added
 * to the table is classified everywhere at once.
 */
import type { SyscallName } from '../arch/index.js';
import { SYSCALL_SPECS } from './table.js';
import { REFUSALS, type Effect, type SyscallSpec } from './spec.js';

export type { Effect, StatKind, Refusal } from './spec.js';

const ENTRIES = Object.entries(SYSCALL_SPECS) as [SyscallName, SyscallSpec][];

/** The description of one syscall. */
export function specOf(name: SyscallName): SyscallSpec {
  return SYSCALL_SPECS[name];
}

/** What the call does to the objects it names (see Effect), if classified. */
export function effectOf(name: SyscallName): Effect | undefined {
  return SYSCALL_SPECS[name]?.effect;
}

/** The syscalls with one of these effects (path and fd calls alike). */
export function syscallsWith(...effects: Effect[]): SyscallName[] {
  return ENTRIES.filter(([, s]) => s.effect !== undefined && effects.includes(s.effect)).map(([n]) => n);
}

/** The syscalls that take a path argument. */
export function pathSyscalls(): SyscallName[] {
  return ENTRIES.filter(([, s]) => s.paths?.length).map(([n]) => n);
}

/** Effects that change the tree whatever the flags (the open family depends on its flags). */
export const CHANGES: readonly Effect[] = ['create', 'remove', 'rename', 'link', 'attr'];

/** Whether the call changes what it names whatever its flags (an open is judged by its flags). */
export function changes(name: SyscallName): boolean {
  const e = effectOf(name);
  return e !== undefined && CHANGES.includes(e);
}

/** Effects that make a name exist (a hidden name cannot be made without touching the real file). */
export const MAKES_NAME: readonly Effect[] = ['create', 'rename', 'link'];

/** The refusal policy of a call, with its errno and reason, if it has one. */
export function refusalOf(name: SyscallName): { errno: string; why: string } | undefined {
  const r = SYSCALL_SPECS[name]?.refuse;
  return r ? REFUSALS[r] : undefined;
}
