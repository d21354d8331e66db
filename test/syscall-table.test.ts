import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { SYSCALL_SPECS } from '../src/vm/syscalls/table.js';
import { refusalOf } from '../src/vm/syscalls/classes.js';
import { X86_64_SYSCALLS, type X86_64SyscallName } from '../src/vm/arch/x86_64/syscalls.js';
import type { ArgKind, FlagBit, SyscallSpec } from '../src/vm/syscalls/spec.js';

const UNISTD_64 = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

const names = Object.keys(X86_64_SYSCALLS) as X86_64SyscallName[];
const specs = Object.entries(SYSCALL_SPECS) as [X86_64SyscallName, SyscallSpec][];

const INTEGER_KINDS: ReadonlySet<ArgKind> = new Set(['int', 'uint', 'hex', 'atflags', 'oflags']);
const ERRNOS = new Set(['ENOSYS', 'EPERM', 'EACCES', 'EINVAL', 'EOPNOTSUPP']);

test('syscall numbers are unique non-negative integers of the 64-bit ABI', (t) => {
  const byNumber = new Map<number, string>();
  for (const name of names) {
    const nr = X86_64_SYSCALLS[name];
    t.true(Number.isInteger(nr) && nr >= 0, `${name}: ${nr}`);
    // 512..547 is the x32 range; it must not leak into the 64-bit table.
    t.false(nr >= 512 && nr <= 547, `${name} = ${nr} is an x32 number`);
    t.is(byNumber.get(nr), undefined, `${name} and ${byNumber.get(nr)} share number ${nr}`);
    byNumber.set(nr, name);
  }
  t.true(names.length > 370);
});

test('numbers match the uapi header for every name it defines', (t) => {
  // The only check of the numbers against the kernel's own list: without the
  // header (Debian package linux-libc-dev, which build-essential brings) it fails.
  if (!existsSync(UNISTD_64)) {
    t.fail(`${UNISTD_64} is missing: install linux-libc-dev (build-essential brings it; .ci/run installs it)`);
    return;
  }
  const header = readFileSync(UNISTD_64, 'utf8');
  let count = 0;
  for (const m of header.matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) {
    const [, name, nr] = m;
    count++;
    t.true(Object.hasOwn(X86_64_SYSCALLS, name), `${name} (${nr}) from the header is missing`);
    t.is(X86_64_SYSCALLS[name as X86_64SyscallName] as number, Number(nr), name);
  }
  t.true(count > 300, `only ${count} definitions parsed from ${UNISTD_64}`);
});

test('known post-header syscall numbers', (t) => {
  t.is(X86_64_SYSCALLS.uretprobe, 335);
  t.is(X86_64_SYSCALLS.cachestat, 451);
  t.is(X86_64_SYSCALLS.fchmodat2, 452);
  t.is(X86_64_SYSCALLS.mseal, 462);
  t.is(X86_64_SYSCALLS.setxattrat, 463);
  t.is(X86_64_SYSCALLS.removexattrat, 466);
  t.is(X86_64_SYSCALLS.open_tree_attr, 467);
  t.is(X86_64_SYSCALLS.file_getattr, 468);
  t.is(X86_64_SYSCALLS.file_setattr, 469);
});

test('every syscall has a spec and every spec names a syscall', (t) => {
  for (const name of names) t.truthy(SYSCALL_SPECS[name], `${name} has no spec`);
  for (const [name] of specs) t.true(Object.hasOwn(X86_64_SYSCALLS, name), `spec for unknown ${name}`);
  t.is(specs.length, names.length);
});

test('at most six arguments', (t) => {
  for (const [name, spec] of specs) t.true(spec.args.length <= 6, name);
});

function checkFlag(t: ExecutionContext, name: string, spec: SyscallSpec, f: FlagBit | undefined, what: string) {
  if (f === undefined) return;
  t.true(f.arg >= 0 && f.arg < spec.args.length, `${name}: ${what}.arg ${f.arg} out of range`);
  t.true(INTEGER_KINDS.has(spec.args[f.arg]), `${name}: ${what}.arg ${f.arg} has kind ${spec.args[f.arg]}`);
  t.true(Number.isInteger(f.bit) && f.bit > 0 && (f.bit & (f.bit - 1)) === 0, `${name}: ${what}.bit ${f.bit} is not one bit`);
}

test('path, dirfd, flag and fd indices are in range and agree with the arg kinds', (t) => {
  for (const [name, spec] of specs) {
    for (const p of spec.paths ?? []) {
      t.true(p.arg >= 0 && p.arg < spec.args.length, `${name}: path arg ${p.arg} out of range`);
      t.is(spec.args[p.arg], 'path', `${name}: paths[].arg ${p.arg}`);
      if (p.dirfd !== undefined) {
        t.true(p.dirfd >= 0 && p.dirfd < spec.args.length, `${name}: dirfd ${p.dirfd} out of range`);
        t.is(spec.args[p.dirfd], 'dirfd', `${name}: paths[].dirfd ${p.dirfd}`);
      }
      checkFlag(t, name, spec, p.nofollowFlag, 'nofollowFlag');
      checkFlag(t, name, spec, p.followFlag, 'followFlag');
      checkFlag(t, name, spec, p.emptyPathFlag, 'emptyPathFlag');
      // A flag can only change the default it is the opposite of.
      if (p.nofollowFlag) t.is(p.last, 'follow', `${name}: nofollowFlag on a '${p.last}' path`);
      if (p.followFlag) t.is(p.last, 'nofollow', `${name}: followFlag on a '${p.last}' path`);
      if (p.last === 'open' || p.last === 'openhow') {
        t.not(p.flags, undefined, `${name}: '${p.last}' path without flags index`);
        const f = p.flags ?? -1;
        t.true(f >= 0 && f < spec.args.length, `${name}: flags index ${f} out of range`);
        t.is(spec.args[f], p.last === 'open' ? 'oflags' : 'ptr', `${name}: flags index kind`);
      } else {
        t.is(p.flags, undefined, `${name}: flags index on a '${p.last}' path`);
      }
      if (p.emptyPathFlag || p.nullMeansFd) t.not(p.dirfd, undefined, `${name}: empty/NULL path needs a dirfd`);
    }
    const pathArgs = (spec.paths ?? []).map((p) => p.arg);
    t.is(new Set(pathArgs).size, pathArgs.length, `${name}: duplicate paths[] entries`);

    const fds = spec.fds ?? [];
    t.is(new Set(fds).size, fds.length, `${name}: duplicate fds`);
    for (const i of fds) {
      t.true(Number.isInteger(i) && i >= 0 && i < spec.args.length, `${name}: fd index ${i} out of range`);
      t.is(spec.args[i], 'fd', `${name}: fds[] index ${i}`);
    }
  }
});

test("every 'path' arg is in paths, every 'fd' arg in fds, every 'dirfd' arg is some path's base", (t) => {
  for (const [name, spec] of specs) {
    const paths = spec.paths ?? [];
    spec.args.forEach((kind, i) => {
      if (kind === 'path') t.true(paths.some((p) => p.arg === i), `${name}: path arg ${i} not in paths`);
      if (kind === 'fd') t.true((spec.fds ?? []).includes(i), `${name}: fd arg ${i} not in fds`);
      if (kind === 'dirfd') t.true(paths.some((p) => p.dirfd === i), `${name}: dirfd arg ${i} is no path's base`);
    });
  }
});

test('refusals are few, carry an errno and a reason', (t) => {
  const refused = specs.filter(([, s]) => s.refuse).map(([n]) => n).sort();
  // README, Limitations: io_uring (ENOSYS), open_by_handle_at, the mount family and chroot (EPERM).
  const mountFamily = ['fsconfig', 'fsmount', 'fsopen', 'fspick', 'mount', 'mount_setattr', 'move_mount', 'open_tree', 'open_tree_attr', 'pivot_root', 'umount2'];
  t.deepEqual(refused, ['chroot', ...mountFamily, 'io_uring_enter', 'io_uring_register', 'io_uring_setup', 'open_by_handle_at'].sort());
  for (const name of ['chroot', ...mountFamily] as X86_64SyscallName[]) t.is(refusalOf(name)?.errno, 'EPERM', name);
  for (const name of mountFamily as X86_64SyscallName[]) t.is(SYSCALL_SPECS[name].refuse, 'mount', `${name}: one named policy`);
  for (const name of refused) {
    const r = refusalOf(name)!;
    t.true(ERRNOS.has(r.errno), `${name}: errno ${r.errno}`);
    t.true(r.why.length > 20, `${name}: why is too short`);
  }
  t.is(refusalOf('io_uring_setup')?.errno, 'ENOSYS');
  t.is(refusalOf('open_by_handle_at')?.errno, 'EPERM');
});

test('spot checks: open family', (t) => {
  t.deepEqual(SYSCALL_SPECS.openat, {
    effect: 'open',
    args: ['dirfd', 'path', 'oflags', 'mode'],
    paths: [{ arg: 1, dirfd: 0, last: 'open', flags: 2 }],
  });
  t.deepEqual(SYSCALL_SPECS.open.paths, [{ arg: 0, last: 'open', flags: 1 }]);
  t.deepEqual(SYSCALL_SPECS.openat2.paths, [{ arg: 1, dirfd: 0, last: 'openhow', flags: 2 }]);
  t.is(SYSCALL_SPECS.openat2.fds, undefined);
  t.deepEqual(SYSCALL_SPECS.creat.paths, [{ arg: 0, last: 'follow' }]);
});

test('spot checks: renameat2, linkat, symlinkat', (t) => {
  t.deepEqual(SYSCALL_SPECS.renameat2, {
    effect: 'rename',
    args: ['dirfd', 'path', 'dirfd', 'path', 'hex'],
    paths: [
      { arg: 1, dirfd: 0, last: 'nofollow' },
      { arg: 3, dirfd: 2, last: 'nofollow' },
    ],
  });
  t.deepEqual(SYSCALL_SPECS.linkat.paths, [
    {
      arg: 1,
      dirfd: 0,
      last: 'nofollow',
      followFlag: { arg: 4, bit: 0x400 },
      emptyPathFlag: { arg: 4, bit: 0x1000 },
    },
    { arg: 3, dirfd: 2, last: 'nofollow' },
  ]);
  t.deepEqual(SYSCALL_SPECS.symlinkat.args, ['str', 'dirfd', 'path']);
  t.deepEqual(SYSCALL_SPECS.symlinkat.paths, [{ arg: 2, dirfd: 1, last: 'nofollow' }]);
});

test('spot checks: stat family', (t) => {
  t.deepEqual(SYSCALL_SPECS.statx, {
    effect: 'query',
    stat: 'statx',
    args: ['dirfd', 'path', 'atflags', 'hex', 'ptr'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 2, bit: 0x100 },
        emptyPathFlag: { arg: 2, bit: 0x1000 },
      },
    ],
  });
  t.deepEqual(SYSCALL_SPECS.newfstatat.args, ['dirfd', 'path', 'ptr', 'atflags']);
  t.deepEqual(SYSCALL_SPECS.stat.paths, [{ arg: 0, last: 'follow' }]);
  t.deepEqual(SYSCALL_SPECS.lstat.paths, [{ arg: 0, last: 'nofollow' }]);
  t.deepEqual(SYSCALL_SPECS.fstat.fds, [0]);
  // The raw syscalls have three arguments; the flags of the libc wrappers are emulated.
  t.is(SYSCALL_SPECS.faccessat.args.length, 3);
  t.is(SYSCALL_SPECS.fchmodat.args.length, 3);
  t.true(SYSCALL_SPECS.utimensat.paths?.[0]?.nullMeansFd);
});

test('spot checks: exec', (t) => {
  t.deepEqual(SYSCALL_SPECS.execve, { effect: 'exec', args: ['path', 'strv', 'strv'], paths: [{ arg: 0, last: 'follow' }] });
  t.deepEqual(SYSCALL_SPECS.execveat, {
    effect: 'exec',
    args: ['dirfd', 'path', 'strv', 'strv', 'atflags'],
    paths: [
      {
        arg: 1,
        dirfd: 0,
        last: 'follow',
        nofollowFlag: { arg: 4, bit: 0x100 },
        emptyPathFlag: { arg: 4, bit: 0x1000 },
      },
    ],
  });
});

test('spot checks: fds', (t) => {
  t.deepEqual(SYSCALL_SPECS.read, { args: ['fd', 'ptr', 'size'], fds: [0] });
  t.deepEqual(SYSCALL_SPECS.mmap, { args: ['ptr', 'size', 'hex', 'hex', 'fd', 'hex'], fds: [4] });
  t.deepEqual(SYSCALL_SPECS.epoll_ctl.fds, [0, 2]);
  t.deepEqual(SYSCALL_SPECS.splice.fds, [0, 2]);
  t.deepEqual(SYSCALL_SPECS.copy_file_range.fds, [0, 2]);
  t.deepEqual(SYSCALL_SPECS.sendfile.fds, [0, 1]);
  t.deepEqual(SYSCALL_SPECS.kill, { args: ['pid', 'signal'] });
  t.is(SYSCALL_SPECS.close_range.fds, undefined);
  t.is(SYSCALL_SPECS.poll.fds, undefined);
});
