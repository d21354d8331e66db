/**
 * fakeroot inside a vfs or bind mount: after chown, files and directories
 * there are renamed, linked, changed and removed by absolute path as by a
 * relative one (fakeroot's answer used to send the call to the kernel with
 * the view's path: ENOENT, and `rm -rf` exiting 0 with the directory left),
 * and `dpkg --root` installs into such a mount. Each is compared with the
 * same script under the real `fakeroot` in a host directory.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, makeTempDir, native, vview } from './helpers.js';

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C', TZ: 'UTC', HOME: '/' };

const has = (tool: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const FAKEROOT = has('fakeroot');
const DPKG = has('dpkg') && has('dpkg-deb');

/** Changes by absolute path after chown; then the tree as ls -ln would show it, without times. */
const SCRIPT = `
T="$1"
mkdir "$T/d"; touch "$T/d/f" "$T/g"; mkdir -p "$T/e/x"; touch "$T/e/x/y"
chown 5:6 "$T/d/f" "$T/g" "$T/d"; chown -R 7:8 "$T/e"
mv "$T/g" "$T/h"; echo mv=$?
ln "$T/h" "$T/h2"; echo ln=$?
chmod 600 "$T/h"; echo chmod=$?
rm "$T/d/f"; echo rm=$?
rmdir "$T/d"; echo rmdir=$?
rm -rf "$T/e"; echo rmrf=$?
cd "$T" && find . -printf '%M %U %G %n %s %p\\n' | sort
`;

async function underFakeroot(t: ExecutionContext, script: string, ...args: string[]): Promise<string> {
  const dir = makeTempDir('fakeroot-ref-');
  const r = await native(['fakeroot', '--', 'sh', '-c', script, 'sh', dir, ...args], { t, env: ENV });
  t.is(r.status, 0, describe(r));
  return r.stdout;
}

const title = (s: string) => (FAKEROOT ? s : `${s} (skipped: fakeroot is not installed)`);

for (const kind of ['vfs', 'bind'] as const) {
  (FAKEROOT ? test : test.skip)(title(`--fakeroot in a ${kind} mount: rename, link, chmod, rm and rm -rf by absolute path after chown, as under fakeroot`), async (t) => {
    const mountArgs = kind === 'vfs' ? ['--mount', '/s=memfs'] : ['--bind', `${makeTempDir('fr-bind-')}:/s`];
    const [r, want] = await Promise.all([
      vview(['run', '--fakeroot', ...mountArgs, '--', 'sh', '-c', SCRIPT, 'sh', '/s'], { t, env: ENV }),
      underFakeroot(t, SCRIPT),
    ]);
    t.is(r.status, 0, describe(r));
    t.is(r.stderr, '', 'no warning (write-back of rmdir & co)');
    t.is(r.stdout, want);
    t.regex(r.stdout, /^rmrf=0$/m);
    t.notRegex(r.stdout, /\.\/e/, 'rm -rf removed the directory');
  });
}

/** A small package: a directory, a file, an executable, owned by root in the archive. */
function makeDeb(): string {
  const dir = makeTempDir('deb-');
  const root = path.join(dir, 'pkg');
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/share/hello-vview'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), 'Package: hello-vview\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: test package\n');
  fs.writeFileSync(path.join(root, 'usr/share/hello-vview/a'), 'hi\n', { mode: 0o644 });
  fs.writeFileSync(path.join(root, 'usr/bin/hello-vview'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  const deb = path.join(dir, 'hello.deb');
  execFileSync('dpkg-deb', ['--root-owner-group', '-b', root, deb], { stdio: 'ignore' });
  return deb;
}

const DPKG_SCRIPT = `
T="$1"; DEB="$2"
mkdir -p "$T/var/lib/dpkg/updates" "$T/var/lib/dpkg/info" && touch "$T/var/lib/dpkg/status"
dpkg --root="$T" --force-not-root -i "$DEB" >/dev/null; echo install=$?
dpkg --root="$T" -l hello-vview | tail -n 1
cd "$T" && find usr -printf '%M %U %G %n %s %p\\n' | sort
`;

const dpkgReady = FAKEROOT && DPKG;
for (const kind of ['vfs', 'bind'] as const) {
  const name = `dpkg --root into a ${kind} mount under --fakeroot: dpkg -l and the installed tree as under fakeroot`;
  (dpkgReady ? test : test.skip)(dpkgReady ? name : `${name} (skipped: needs fakeroot, dpkg and dpkg-deb)`, async (t) => {
    const deb = makeDeb();
    const mountArgs = kind === 'vfs' ? ['--mount', '/target=memfs'] : ['--bind', `${makeTempDir('dpkg-bind-')}:/target`];
    const [r, want] = await Promise.all([
      vview(['run', '--fakeroot', ...mountArgs, '--', 'sh', '-c', DPKG_SCRIPT, 'sh', '/target', deb], { t, env: ENV }),
      underFakeroot(t, DPKG_SCRIPT, deb),
    ]);
    t.is(r.status, 0, describe(r));
    t.regex(r.stdout, /^install=0$/m, describe(r));
    t.regex(r.stdout, /^ii +hello-vview +1\.0/m);
    t.is(r.stdout, want);
  });
}
