/**
 * One description, no hand-kept mirrors: the values native code was compiled
 * with (native/generated/, from scripts/gen-native.ts) agree with the
 * TypeScript sources, the committed headers are what the generator writes
 * today, and every path syscall is classified.
 */
import test from 'ava';
import fs from 'node:fs';
import { generate } from '../scripts/gen-native.js';
import { native } from '../src/vm/native.js';
import { EffectCode, EventType, LastMode, OPEN_CHANGE_FLAGS, ResumeKind, RouteBits, StatKindCode } from '../src/vm/abi.js';
import { currentArch, type SyscallName } from '../src/vm/arch/index.js';
import { SYSCALL_SPECS } from '../src/vm/syscalls/table.js';
import { pathSyscalls, syscallsWith } from '../src/vm/syscalls/classes.js';
import { isReadOnlyOpen, O_CREAT, O_TRUNC, O_TMPFILE, O_WRONLY } from '../src/vm/syscalls/open.js';

const flag = (f: { arg: number; bit: number } | undefined): [number, number] => (f ? [f.arg, f.bit] : [-1, 0]);

test('the committed native headers are what the generator writes from the TypeScript sources', (t) => {
  for (const [file, text] of Object.entries(generate())) {
    t.true(fs.existsSync(file), `${file} is missing: run npm run gen`);
    t.is(fs.readFileSync(file, 'utf8'), text, `${file} is stale: run npm run gen`);
  }
});

test('the addon was built with the values of src/vm/abi.ts', (t) => {
  const abi = native().abi();
  t.deepEqual(abi.EventType, { ...EventType });
  t.deepEqual(abi.ResumeKind, { ...ResumeKind });
  t.deepEqual(abi.RouteBits, { ...RouteBits });
  t.is(abi.openChanges, OPEN_CHANGE_FLAGS);
});

test('native code reads the same syscall description as TypeScript, number by number', (t) => {
  const { numbers } = currentArch();
  const table = native().abi().syscalls;
  t.is(table.length, Object.keys(numbers).length);
  for (const row of table) {
    const name = row.name as SyscallName;
    const spec = SYSCALL_SPECS[name];
    t.truthy(spec, `${row.name} (native) is not in the TypeScript table`);
    t.is(numbers[name], row.nr, name);
    t.is(row.effect, spec.effect ? EffectCode[spec.effect] : 0, `${name}: effect`);
    t.is(row.statKind, spec.stat ? StatKindCode[spec.stat] : 0, `${name}: stat kind`);
    t.is(row.accessMode, spec.accessMode ?? -1, `${name}: access mode argument`);
    t.deepEqual(row.fds, spec.fds ?? [], `${name}: fd arguments`);
    t.deepEqual(
      row.paths,
      (spec.paths ?? []).map((p) => ({
        arg: p.arg,
        dirfd: p.dirfd ?? -1,
        last: LastMode[p.last],
        flags: p.flags ?? -1,
        nofollow: flag(p.nofollowFlag),
        follow: flag(p.followFlag),
        emptyPath: flag(p.emptyPathFlag),
        nullMeansFd: !!p.nullMeansFd,
      })),
      `${name}: path arguments`,
    );
  }
});

test('every path syscall has an effect, and so does every fd call that reads or changes metadata', (t) => {
  const missing = pathSyscalls().filter((n) => !SYSCALL_SPECS[n].effect);
  t.deepEqual(missing, [], `path syscalls without an effect: ${missing.join(', ')}`);
  for (const n of ['fstat', 'fchmod', 'fchown', 'fsetxattr', 'fremovexattr', 'fgetxattr', 'flistxattr', 'fstatfs', 'ftruncate', 'fallocate', 'fchdir'] as SyscallName[])
    t.truthy(SYSCALL_SPECS[n].effect, `${n} has no effect`);
  // The calls a read-only view must refuse are classified as changes, not queries.
  for (const n of ['setxattrat', 'removexattrat', 'file_setattr', 'setxattr', 'lsetxattr', 'removexattr', 'lremovexattr', 'fchmodat2', 'utimensat', 'truncate'] as SyscallName[])
    t.is(SYSCALL_SPECS[n].effect, 'attr', n);
  for (const n of ['getxattrat', 'listxattrat', 'file_getattr', 'statx', 'newfstatat', 'faccessat2', 'readlinkat'] as SyscallName[])
    t.is(SYSCALL_SPECS[n].effect, 'query', n);
  t.deepEqual(syscallsWith('open').sort(), ['creat', 'open', 'openat', 'openat2']);
});

test('one mask decides whether an open changes something, here and in native code', (t) => {
  t.true(isReadOnlyOpen(0));
  for (const f of [O_WRONLY, 2, O_CREAT, O_TRUNC, O_TMPFILE | O_WRONLY]) t.false(isReadOnlyOpen(f), `flags 0${f.toString(8)}`);
  t.is(native().abi().openChanges, OPEN_CHANGE_FLAGS);
});
