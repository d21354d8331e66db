/** What an open-family call asks for, beyond its raw arguments. */
import type { SyscallCall } from '../module.js';

export const O_ACCMODE = 3;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_TMPFILE = 0o20000000 | 0o200000; // __O_TMPFILE | O_DIRECTORY
const __O_TMPFILE = 0o20000000;

/**
 * The open flags that make an open change something: write access, create,
 * truncate, an unnamed temporary file. An open with none of them only reads.
 * Native code decides with the same mask (generated into native/generated/abi.h).
 */
export const OPEN_CHANGES = O_ACCMODE | O_CREAT | O_TRUNC | __O_TMPFILE;

/**
 * The open flags of open, openat, openat2 (read from its struct open_how; a
 * bad pointer throws SyscallError('EFAULT'), as the kernel answers) and creat
 * (O_CREAT|O_WRONLY|O_TRUNC); 0 for any other call.
 */
export function openFlags(call: SyscallCall): number {
  switch (call.name) {
    case 'open':
      return call.int(1);
    case 'openat':
      return call.int(2);
    case 'openat2':
      return Number(call.mem.read(call.ptr(2), 8).readBigUInt64LE(0) & 0xffffffffn);
    case 'creat':
      return O_CREAT | O_WRONLY | O_TRUNC;
    default:
      return 0;
  }
}

/** An open that neither writes, creates nor truncates. */
export const isReadOnlyOpen = (flags: number) => (flags & OPEN_CHANGES) === 0;
