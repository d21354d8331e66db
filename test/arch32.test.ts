/**
 * 32-bit programs. The routing table and the seccomp filter are x86-64's;
 * with any module loaded, i386 and x32 syscalls would fail with ENOSYS and the
 * program die of it (SIGSEGV, no message). vview refuses their exec instead:
 * a message on stderr and ENOEXEC, so a shell says "Exec format error" and
 * gives 126, and vview run of one exits 126. The empty view runs them.
 * Pinned here for a static and a dynamic binary (gcc -m32, from gcc-multilib).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, describe, makeTempDir, vview } from './helpers.js';

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C', TZ: 'UTC', HOME: '/' };

/** The two binaries, or why there are none (no 32-bit toolchain). */
const BUILT = await (async (): Promise<{ static: string; dynamic: string } | string> => {
  const dir = makeTempDir('arch32-');
  const src = path.join(dir, 'hello32.c');
  fs.writeFileSync(src, '#include <stdio.h>\nint main(void) { puts("hello from i386"); return 3; }\n');
  const out = { static: path.join(dir, 'hello32-static'), dynamic: path.join(dir, 'hello32') };
  try {
    await promisify(execFile)('cc', ['-m32', '-static', '-o', out.static, src]);
    await promisify(execFile)('cc', ['-m32', '-o', out.dynamic, src]);
  } catch (e) {
    return `cc -m32 fails here (install gcc-multilib): ${((e as { stderr?: string }).stderr ?? String(e)).split('\n')[0]}`;
  }
  return out;
})();

for (const kind of ['static', 'dynamic'] as const) {
  const name = `a 32-bit ${kind} binary is refused at exec under a module (message, exit 126) and runs in the empty view`;
  (typeof BUILT === 'string' ? test.skip : test)(typeof BUILT === 'string' ? `${name} (skipped: ${BUILT})` : name, async (t) => {
    const bin = (BUILT as { static: string; dynamic: string })[kind];
    const config = path.join(ROOT, 'configs', 'uname.yaml');
    const direct = await vview(['run', '--config', config, '--', bin], { t, env: ENV });
    t.is(direct.status, 126, describe(direct));
    t.regex(direct.stderr, /a 32-bit program; with modules loaded, vview runs x86-64 programs only/);
    t.is(direct.stdout, '');

    const inShell = await vview(['run', '--mount', '/m=memfs', '--', 'sh', '-c', `"${bin}"; echo "status $?"`], { t, env: ENV });
    t.is(inShell.status, 0, describe(inShell));
    t.is(inShell.stdout, 'status 126\n');
    t.regex(inShell.stderr, /Exec format error/);

    const empty = await vview(['run', '--', bin], { t, env: ENV });
    t.is(empty.status, 3, describe(empty));
    t.is(empty.stdout, 'hello from i386\n');
  });
}

test('with a module loaded, the exec of an x86-64 program is checked in native code: no stop into JavaScript for it (--stats)', async (t) => {
  const r = await vview(['run', '--stats', '--config', path.join(ROOT, 'configs', 'hide.yaml'), '--', '/bin/sh', '-c', '/bin/true; /bin/true'], { t, env: ENV });
  t.is(r.status, 0, describe(r));
  t.regex(r.stderr, /, 0 handed to JavaScript,/, describe(r));
});
