/**
 * The architecture layer on the TypeScript side: syscall numbers by name and
 * back. Only x86-64 today; an aarch64 table plugs in here (and in native/arch/).
 */
import { X86_64_SYSCALLS, type X86_64SyscallName } from './x86_64/syscalls.js';

export type SyscallName = X86_64SyscallName;

export interface Arch {
  name: string;
  numbers: Readonly<Record<SyscallName, number>>;
  names: ReadonlyMap<number, SyscallName>;
}

function build(name: string, numbers: Readonly<Record<SyscallName, number>>): Arch {
  const names = new Map<number, SyscallName>();
  for (const [n, nr] of Object.entries(numbers) as [SyscallName, number][]) names.set(nr, n);
  return { name, numbers, names };
}

export function currentArch(): Arch {
  if (process.arch !== 'x64') throw new Error(`vview: architecture ${process.arch} is not supported yet (x86-64 only)`);
  return x86_64;
}

const x86_64 = build('x86_64', X86_64_SYSCALLS);
