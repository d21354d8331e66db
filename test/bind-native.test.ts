/**
 * What native code does alone in a bind (issue 15: fewer and cheaper stops),
 * checked against the host: a name relative to a directory of the mount is
 * given to the kernel as it is (find's fstatat/openat from a directory fd),
 * and in a writable bind the opens that create, write or truncate are done
 * without JavaScript. What must still come to the module does: EROFS in a
 * read-only bind, EOPNOTSUPP for O_TMPFILE, symlinks to view paths.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { describe, makeTempDir, native, vview } from './helpers.js';

const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C' };

/** d/{a,b}, d/e/f, links: rel -> d/a, up -> ../d (from s/), abs -> /nb/d/e (a view path), dangling. */
function tree(): string {
  const src = makeTempDir('bn-src-');
  fs.mkdirSync(path.join(src, 'd', 'e'), { recursive: true });
  fs.mkdirSync(path.join(src, 's'));
  for (const f of ['d/a', 'd/b', 'd/e/f']) fs.writeFileSync(path.join(src, f), `${f}\n`);
  fs.symlinkSync('d/a', path.join(src, 'rel'));
  fs.symlinkSync('../d', path.join(src, 's', 'up'));
  fs.symlinkSync('/nb/d/e', path.join(src, 'abs'));
  fs.symlinkSync('nowhere', path.join(src, 'dangling'));
  return src;
}

test('find over a bind lists what find lists on the source, following links or not', async (t) => {
  const src = tree();
  for (const opts of [[], ['-L']]) {
    const v = await vview(['run', '--bind', `${src}:/nb`, '--', 'find', ...opts, '/nb', '-printf', '%P %y %Y\\n'], { t, env: ENV });
    t.is(v.status, 0, describe(v));
    const lines = new Set(v.stdout.split('\n').filter(Boolean));
    const n = await native(['find', ...opts, src, '-printf', '%P %y %Y\\n'], { t, env: ENV });
    const want = new Set(n.stdout.split('\n').filter(Boolean));
    // abs -> /nb/d/e: a view path, so a directory in the view and dangling on the host.
    const absView = [...lines].filter((l) => l.startsWith('abs')).sort();
    t.deepEqual(absView, opts.length ? ['abs d d', 'abs/f f f'] : ['abs l d'], describe(v));
    for (const set of [lines, want]) for (const l of [...set]) if (l.startsWith('abs')) set.delete(l);
    t.deepEqual([...lines].sort(), [...want].sort(), `find ${opts.join(' ')}`);
  }
});

test('names relative to a directory fd in a bind: "..", symlinks and view paths resolve as in the view', async (t) => {
  const src = tree();
  // cd into the mount, then relative names with "..", through links, and a view path link.
  const script = 'cd /nb/s && cat up/a ../rel ../d/e/../b && cat ../abs/f && ls ../abs && cd .. && ls -d dangling && test ! -e dangling && echo ok';
  const v = await vview(['run', '--bind', `${src}:/nb`, '--', 'sh', '-c', script], { t, env: ENV });
  t.is(v.stdout, 'd/a\nd/a\nd/b\nd/e/f\nf\ndangling\nok\n', describe(v));
});

test('a writable bind creates, appends and truncates files without JavaScript; the host has them', async (t) => {
  const src = makeTempDir('bn-w-');
  fs.writeFileSync(path.join(src, 'old'), 'old content\n');
  const script = 'echo one > /nb/new && echo two >> /nb/new && : > /nb/old && mkdir /nb/dir && echo three > /nb/dir/f && cat /nb/new /nb/dir/f && wc -c < /nb/old';
  const v = await vview(['run', '--stats', '--bind', `${src}:/nb`, '--', 'sh', '-c', script], { t, env: ENV });
  t.is(v.stdout, 'one\ntwo\nthree\n0\n', describe(v));
  t.is(fs.readFileSync(path.join(src, 'new'), 'utf8'), 'one\ntwo\n');
  t.is(fs.readFileSync(path.join(src, 'dir', 'f'), 'utf8'), 'three\n');
  t.is(fs.statSync(path.join(src, 'old')).size, 0);
  t.regex(v.stderr, /no call reached a module/, describe(v));
  t.regex(v.stderr, /mounts: \d+ calls rewritten to their host path in native code/, describe(v));
});

test('what the module still answers: EROFS in a read-only bind, EOPNOTSUPP for O_TMPFILE', async (t) => {
  const src = makeTempDir('bn-ro-');
  fs.writeFileSync(path.join(src, 'f'), 'x\n');
  const ro = await vview(['run', '--bind', `${src}:/nb:ro`, '--', 'sh', '-c', 'echo y > /nb/f; echo y > /nb/g; cat /nb/f'], { t, env: ENV });
  t.regex(ro.stderr, /\/nb\/f: Read-only file system/, describe(ro));
  t.regex(ro.stderr, /\/nb\/g: Read-only file system/, describe(ro));
  t.is(ro.stdout, 'x\n');
  t.false(fs.existsSync(path.join(src, 'g')));
  const py = "import os\ntry:\n  os.open('/nb', os.O_TMPFILE | os.O_WRONLY)\nexcept OSError as e:\n  print(e.errno)\n";
  const tmp = await vview(['run', '--bind', `${src}:/nb`, '--', 'python3', '-c', py], { t, env: ENV });
  t.is(tmp.stdout, '95\n', describe(tmp));
});
