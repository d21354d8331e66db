/**
 * A single file bound over a file (`--bind FILE:PATH[:ro]`, what PRoot users
 * do first: `-b ./myhosts:/etc/hosts`): the view reads and writes the source,
 * the host path behind the mount point is untouched, the mount point cannot be
 * removed or renamed (EBUSY, as for a real bind mount of a file), and a mount
 * point the host lacks is a regular file in its parent's listing.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { IS_ROOT, NOBODY, canRunUnprivileged, describe, makeTempDir, vview } from './helpers.js';

let asUser = false;
test.before(async () => {
  asUser = await canRunUnprivileged();
});

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC', HOME: '/' };

/** A directory with src ("view\n") and target ("host\n"), owned by the view's user. */
function files(): { dir: string; src: string; target: string } {
  const dir = makeTempDir('bind-file-', { shared: true });
  const src = path.join(dir, 'src');
  const target = path.join(dir, 'target');
  fs.writeFileSync(src, 'view\n', { mode: 0o644 });
  fs.writeFileSync(target, 'host\n', { mode: 0o644 });
  if (IS_ROOT && asUser) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  return { dir, src, target };
}

const run = (t: ExecutionContext, bind: string, script: string) =>
  vview(['run', '--bind', bind, '--', 'sh', '-c', script], { t, env: ENV, unprivileged: asUser, cwd: '/' });

test('a read-only file bind: the view reads the source; every write is EROFS; both host files are unchanged', async (t) => {
  const { src, target } = files();
  const r = await run(
    t,
    `${src}:${target}:ro`,
    `cat ${target}; stat -c '%s %F' ${target}; exec 3<${target}; readlink /proc/self/fd/3; ` +
      `(echo x >> ${target}) 2>&1 | sed 's/.*: //'; truncate -s 0 ${target} 2>&1 | sed 's/.*: //'; ` +
      `chmod 600 ${target} 2>&1 | sed 's/.*: //'; cat ${target}/x 2>&1 | sed 's/.*: //'`,
  );
  t.is(r.stdout, `view\n5 regular file\n${target}\nRead-only file system\nRead-only file system\nRead-only file system\nNot a directory\n`, describe(r));
  t.is(fs.readFileSync(src, 'utf8'), 'view\n');
  t.is(fs.readFileSync(target, 'utf8'), 'host\n');
  t.is(fs.statSync(src).mode & 0o777, 0o644);
});

test('a writable file bind: writes land in the source; the mount point cannot be removed or renamed (EBUSY)', async (t) => {
  const { dir, src, target } = files();
  const r = await run(
    t,
    `${src}:${target}`,
    `echo more >> ${target}; cat ${target}; ` +
      `rm ${target} 2>&1 | sed 's/.*: //'; mv ${target} ${dir}/moved 2>&1 | sed 's/.*: //'; ` +
      `mv ${dir}/nothing-here ${target} 2>&1 | sed 's/.*: //'; ls ${dir}`,
  );
  t.is(r.stdout, `view\nmore\nDevice or resource busy\nDevice or resource busy\nNo such file or directory\nsrc\ntarget\n`, describe(r));
  t.is(fs.readFileSync(src, 'utf8'), 'view\nmore\n');
  t.is(fs.readFileSync(target, 'utf8'), 'host\n');
});

test('a file bound at a path the host lacks is a regular file in its parent listing', async (t) => {
  const { dir, src } = files();
  const at = path.join(dir, 'new-name');
  const r = await run(t, `${src}:${at}:ro`, `cat ${at}; ls ${dir}; find ${dir} -type f -name new-name; ls -l ${at} | cut -c1`);
  t.is(r.stdout, `view\nnew-name\nsrc\ntarget\n${at}\n-\n`, describe(r));
  t.false(fs.existsSync(at));
});

test('a file cannot be shown over a directory, nor a directory over a file', async (t) => {
  const { dir, src, target } = files();
  const a = await run(t, `${src}:${dir}`, 'true');
  t.is(a.status, 2, describe(a));
  t.regex(a.stderr, /cannot show a file over a directory/);
  const b = await run(t, `${dir}:${target}`, 'true');
  t.is(b.status, 2, describe(b));
  t.regex(b.stderr, /cannot show a directory over a file/);
});
