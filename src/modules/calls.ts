/** Decoding shared by the built-in modules: what a call asks for, beyond its raw arguments. */
import type { SyscallCall } from '../vm/module.js';

export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;

/**
 * The open flags of open, openat and openat2 (read from its struct open_how;
 * a bad pointer throws SyscallError('EFAULT'), as the kernel answers); 0 for
 * any other call.
 */
export function openFlags(call: SyscallCall): number {
  switch (call.name) {
    case 'open':
      return call.int(1);
    case 'openat':
      return call.int(2);
    case 'openat2':
      return Number(call.mem.read(call.ptr(2), 8).readBigUInt64LE(0) & 0xffffffffn);
    default:
      return 0;
  }
}

/** An open that neither writes, creates nor truncates. */
export const isReadOnlyOpen = (flags: number) => (flags & O_ACCMODE) === 0 && (flags & (O_CREAT | O_TRUNC)) === 0;
