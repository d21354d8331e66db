/** strace-like rendering of a call and its result, from the classification table. */
import os from 'node:os';
import { SYSCALL_SPECS } from './table.js';
import type { ArgKind } from './spec.js';
import type { SyscallName } from '../arch/index.js';
import { errnoMessage, errnoName } from '../errno.js';

const O_FLAGS: [number, string][] = [
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o400, 'O_NOCTTY'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'], [0o10000, 'O_DSYNC'], [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'], [0o2000000, 'O_CLOEXEC'], [0o4000000, 'O_SYNC'], [0o10000000, 'O_PATH'],
  [0o20000000, 'O_TMPFILE'], [0o40000, 'O_DIRECT'], [0o100000, 'O_LARGEFILE'],
];
const AT_FLAGS: [number, string][] = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR|AT_EACCESS'], [0x400, 'AT_SYMLINK_FOLLOW'],
  [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH'],
];
const SIGNALS = new Map<number, string>();
for (const [name, n] of Object.entries(os.constants.signals)) if (!SIGNALS.has(n)) SIGNALS.set(n, name);

function bits(v: number, table: [number, string][], base?: string): string {
  const out: string[] = base ? [base] : [];
  let rest = v;
  for (const [bit, name] of table) {
    if ((v & bit) === bit && bit !== 0) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push('0x' + rest.toString(16));
  return out.length ? out.join('|') : '0';
}

function quote(s: string, max = 256): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  return JSON.stringify(cut) + (cut.length < s.length ? '...' : '');
}

export interface MemReader {
  readString(addr: bigint): string | undefined;
  readPointer(addr: bigint): bigint | undefined;
}

export function formatArg(kind: ArgKind, v: bigint, mem: MemReader): string {
  const i32 = Number(BigInt.asIntN(32, v));
  switch (kind) {
    case 'int':
    case 'fd':
    case 'pid':
      return String(i32);
    case 'dirfd':
      return i32 === -100 ? 'AT_FDCWD' : String(i32);
    case 'uint':
    case 'size':
      return BigInt.asUintN(64, v).toString();
    case 'mode':
      return '0' + (Number(v) & 0o7777).toString(8);
    case 'oflags': {
      const acc = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][i32 & 3];
      return bits(i32 & ~3, O_FLAGS, acc);
    }
    case 'atflags':
      return bits(i32, AT_FLAGS);
    case 'signal':
      return SIGNALS.get(i32) ?? String(i32);
    case 'path':
    case 'str': {
      if (v === 0n) return 'NULL';
      const s = mem.readString(v);
      return s === undefined ? '0x' + v.toString(16) : quote(s);
    }
    case 'strv': {
      if (v === 0n) return 'NULL';
      const items: string[] = [];
      for (let i = 0; i < 32; i++) {
        const p = mem.readPointer(v + BigInt(i * 8));
        if (p === undefined) return '0x' + v.toString(16);
        if (p === 0n) return '[' + items.join(', ') + ']';
        items.push(quote(mem.readString(p) ?? '?', 64));
      }
      return '[' + items.join(', ') + ', ...]';
    }
    case 'hex':
    case 'ptr':
    default:
      return v === 0n && kind === 'ptr' ? 'NULL' : '0x' + BigInt.asUintN(64, v).toString(16);
  }
}

export function formatCall(name: SyscallName, args: readonly bigint[], mem: MemReader): string {
  const spec = SYSCALL_SPECS[name];
  let kinds = spec.args;
  // Like strace: open's mode means something only with O_CREAT or O_TMPFILE.
  const flagsAt = kinds.indexOf('oflags');
  if (flagsAt >= 0 && kinds[flagsAt + 1] === 'mode' && !(Number(args[flagsAt] ?? 0n) & (0o100 | 0o20000000)))
    kinds = kinds.slice(0, flagsAt + 1);
  const parts = kinds.map((k, i) => formatArg(k, args[i] ?? 0n, mem));
  return `${name}(${parts.join(', ')})`;
}

export function formatResult(r: number | bigint): string {
  const n = Number(r);
  if (n < 0 && n >= -4095) return `-1 ${errnoName(-n)} (${errnoMessage(-n)})`;
  return n > 0xffff && n > 0 ? '0x' + n.toString(16) : String(n);
}
