/**
 * Issue 3, acceptance: real programs working inside a virtual subtree, with
 * their output compared with the same work done natively in a real temporary
 * directory. Only what must differ is normalized: the work directory's own
 * path (shown as $W), and the real output directory ($OUT).
 *
 * This file is the memfs mount (`--mount /scratch=memfs`, or a `vfs` module
 * in a config). test/bind.test.ts runs the same program scenarios in a bind
 * mount by setting `globalThis.vviewMountKind = 'bind'` and importing this
 * file; the memfs-only tests (files, persist, SIGTERM, config errors) are
 * registered for memfs only.
 *
 * The view runs as the unprivileged user whenever possible (setpriv to nobody
 * when the suite runs as root): that is how users run it. A few tests also
 * run as root, as CI does.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  IS_ROOT, NOBODY, canRunUnprivileged, compileFixture, describe, makeTempDir, native, replaceAll, sideBySideScript, startVview, vview,
  writeConfig, type RunResult,
} from './helpers.js';

export type MountKind = 'memfs' | 'bind';
const KIND: MountKind = (globalThis as { vviewMountKind?: MountKind }).vviewMountKind ?? 'memfs';

let asUser = false;
test.before(async () => {
  asUser = await canRunUnprivileged();
});

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env: { ...process.env, PATH: SAFE_PATH } });
    return true;
  } catch {
    return false;
  }
}

/** PATH for the scripts: the same interpreters for root and nobody (root's pyenv is not nobody's). */
const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

/** A home directory readable by everyone, with nothing in it (git, python look there). */
const HOME = makeTempDir('home-');

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: SAFE_PATH,
    HOME,
    LC_ALL: 'C',
    LANG: 'C',
    TZ: 'UTC',
    GIT_CONFIG_NOSYSTEM: '1',
    PYTHONDONTWRITEBYTECODE: '',
    TERM: 'dumb',
  };
  return env;
}

/** Changes a tree's owner to the unprivileged user (when the view runs as that user). */
function giveToUser(dir: string): void {
  if (IS_ROOT && asUser) execFileSync('chown', ['-R', '-h', `${NOBODY}:${NOBODY}`, dir]);
}

// ---- the input tree --------------------------------------------------------------

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * DIR/tree: regular files of several modes and sizes (empty, 300 KiB binary),
 * names with spaces and 150 characters, nested and empty directories, a sticky
 * directory, relative, directory, dangling and absolute symlinks, a hard link
 * pair, a fifo; every mtime fixed. DIR/src.tar: the tree archived natively.
 */
function makeTree(dir: string): void {
  const t = path.join(dir, 'tree');
  const f = (p: string, content: string | Buffer, mode = 0o644) => {
    fs.writeFileSync(path.join(t, p), content);
    fs.chmodSync(path.join(t, p), mode);
  };
  fs.mkdirSync(path.join(t, 'dir1/nested/deeper'), { recursive: true });
  fs.mkdirSync(path.join(t, 'emptydir'));
  fs.mkdirSync(path.join(t, 'sticky'));
  f('file1', 'one\n');
  f('exec.sh', '#!/bin/sh\necho hi\n', 0o755);
  f('private', 'secret\n', 0o600);
  f('readonly', 'ro\n', 0o444);
  f('empty', '');
  f('with space.txt', 'spaces\n');
  f('dir1/a.c', 'int a(void) { return 1; }\n');
  f('dir1/b.h', '#define B 2\n');
  f('dir1/nested/deeper/leaf.c', 'int leaf;\n');
  f(`dir1/${'n'.repeat(150)}`, 'long name\n');
  f('big.bin', bytes(300 * 1024 + 7, 42));
  f('sticky/inside', 'x');
  fs.symlinkSync('file1', path.join(t, 'link-rel'));
  fs.symlinkSync('dir1/nested', path.join(t, 'link-dir'));
  fs.symlinkSync('does-not-exist', path.join(t, 'link-dangling'));
  fs.symlinkSync('/etc/hostname', path.join(t, 'link-abs'));
  fs.linkSync(path.join(t, 'file1'), path.join(t, 'dir1/hard2'));
  execFileSync('mkfifo', ['-m', '0640', path.join(t, 'fifo')]);
  // Times: files first, then directories deepest first (a change inside moves a directory's mtime).
  let n = 0;
  const walk = (p: string): string[] => {
    const out: string[] = [];
    for (const e of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) out.push(...walk(q));
      out.push(q);
    }
    return out;
  };
  for (const p of walk(t)) {
    const when = 1_000_000_000 + 86_400 * ++n + 0.25;
    if (fs.lstatSync(p).isSymbolicLink()) fs.lutimesSync(p, when, when);
    else fs.utimesSync(p, when, when);
  }
  fs.chmodSync(path.join(t, 'sticky'), 0o1777);
  fs.utimesSync(t, 1_500_000_000, 1_500_000_000);
  giveToUser(t);
  execFileSync('tar', ['--sort=name', '-cf', path.join(dir, 'src.tar'), '-C', dir, 'tree']);
  fs.chmodSync(path.join(dir, 'src.tar'), 0o644);
}

let treeDir: string | undefined;
/** The shared, read-only input: IN/tree and IN/src.tar (made once per worker). */
function inputDir(): string {
  if (!treeDir) {
    treeDir = makeTempDir('in-');
    makeTree(treeDir);
  }
  return treeDir;
}

// ---- the mount and the comparison ---------------------------------------------------

interface Mount {
  /** The work directory as the view sees it. */
  viewW: string;
  flags: string[];
  /** bind: the host directory behind it. */
  hostDir?: string;
}

/** A fresh mount of this file's kind. */
function freshMount(): Mount {
  if (KIND === 'memfs') return { viewW: '/scratch', flags: ['--mount', '/scratch=memfs'] };
  const src = makeTempDir('bind-src-', { shared: true });
  giveToUser(src);
  return { viewW: '/bound', flags: ['--bind', `${src}:/bound`], hostDir: src };
}

/** Shell functions for the scripts: L lists a tree sorted (type, mode, link
 * count, then the size of files and the target of symlinks; a directory's
 * size belongs to the file system); S checksums its files. */
const PRELUDE = [
  'set -u',
  "L() { find \"$@\" \\( -type d -printf '%p d %#m n%n\\n' \\) -o \\( -type l -printf '%p l %#m n%n -> %l\\n' \\) -o -printf '%p %y %#m n%n s%s\\n' | LC_ALL=C sort; }",
  "S() { find \"$@\" -type f -exec sha256sum {} + | LC_ALL=C sort -k2; }",
  'cd "$W" && mkdir work && cd work || exit 99',
  '',
].join('\n');

interface Scenario {
  /** Run as root (only when the suite runs as root) instead of the unprivileged user. */
  root?: boolean;
  timeout?: number;
  /** More vview flags (another mount). */
  flags?: string[];
  /** Patterns the native output must match: the script really did its work. */
  expect?: RegExp[];
  /** bind: how the host directory is compared with the native one afterwards ('names' when files embed their own path). */
  hostCheck?: 'full' | 'names';
  /** More variables for the script, each side's own (normalized like $W). */
  vars?: { view: Record<string, string>; native: Record<string, string> };
}

/**
 * Runs PRELUDE + SCRIPT in $W/work: in the view ($W is the mount) and natively
 * ($W a real temp dir). $IN is the shared input, $OUT a real directory of each
 * side's own. Asserts the native run succeeded, then that the view's stdout,
 * stderr and status are the native ones. For a bind mount, the host directory
 * must then hold what the native run left.
 */
async function compare(t: ExecutionContext, script: string, o: Scenario = {}) {
  const m = freshMount();
  const nativeW = makeTempDir('native-w-', { shared: true });
  giveToUser(nativeW);
  const outV = makeTempDir('out-v-', { shared: true });
  const outN = makeTempDir('out-n-', { shared: true });
  const unprivileged = o.root ? false : asUser;
  if (o.root && !IS_ROOT) {
    t.log('not root: running as the current user');
  }
  const IN = inputDir();
  const r = await sideBySideScript(t, PRELUDE + script, {
    viewFlags: [...m.flags, ...(o.flags ?? [])],
    viewVars: { W: m.viewW, OUT: outV, IN, ...o.vars?.view },
    nativeVars: { W: nativeW, OUT: outN, IN, ...o.vars?.native },
    env: baseEnv(),
    unprivileged,
    timeout: o.timeout ?? 100_000,
  });
  t.is(r.native.status, 0, `the native run failed (the test is wrong): ${describe(r.native)}`);
  for (const re of o.expect ?? []) t.regex(r.nativeOut, re, 'the native run did not do its work (the test is wrong)');
  t.is(r.viewOut, r.nativeOut, 'stdout differs from the native run');
  t.is(r.viewErr, r.nativeErr, 'stderr differs from the native run');
  t.is(r.view.status, r.native.status, describe(r.view));
  t.deepEqual(r.view.leftovers, []);
  if (m.hostDir) {
    // What the view did in the bind mount is in the host directory.
    const cmd = o.hostCheck === 'names' ? 'find . -printf "%p %y\\n" | LC_ALL=C sort' : 'L . && S .';
    const list = (d: string) => native(['sh', '-c', PRELUDE.split('\n').slice(0, 3).join('\n') + `\ncd "$0" && ${cmd}`, d], { t, env: baseEnv() });
    const [h, n] = await Promise.all([list(m.hostDir), list(nativeW)]);
    t.is(replaceAll(h.stdout, { [m.viewW]: '$W', [outV]: '$OUT' }), replaceAll(n.stdout, { [nativeW]: '$W', [outN]: '$OUT' }), 'the bind source on the host differs from the native directory');
  }
  return { ...r, outV, outN, mount: m, nativeW };
}

const who = (o: Scenario = {}) => (o.root && IS_ROOT ? ' (as root)' : '');

// ---- program scenarios ----------------------------------------------------------------

for (const o of [{}, { root: true }] as Scenario[]) {
  if (o.root && !IS_ROOT) continue;
  test(`${KIND}: tar -x then tar -c round trip gives the same archive and tree${who(o)}`, async (t) => {
    const r = await compare(
      t,
      [
        'mkdir x && tar -xf "$IN/src.tar" -C x && echo extracted',
        'tar --sort=name -cf "$OUT/out.tar" -C x tree && tar --sort=name -cf y.tar -C x tree && cmp y.tar "$OUT/out.tar" && echo same-archive',
        'tar -tvf y.tar --numeric-owner --full-time',
        'L x && S x',
        'mkdir z && tar -xpf y.tar -C z && diff -r --no-dereference -x fifo x z && test -p z/tree/fifo && echo identical',
        'tar -df y.tar -C z && echo no-differences',
        'tar --sort=name -czf "$OUT/out.tgz" -C z tree && tar -tzf "$OUT/out.tgz" | LC_ALL=C sort | head -5',
      ].join('\n'),
      { ...o, expect: [/^extracted$/m, /^same-archive$/m, /^identical$/m, /^no-differences$/m] },
    );
    // The archive written into the real directory is byte for byte the native one.
    t.true(fs.readFileSync(path.join(r.outV, 'out.tar')).equals(fs.readFileSync(path.join(r.outN, 'out.tar'))), 'out.tar differs');
  });
}

test(`${KIND}: cp -a into, inside and out of the mount keeps modes, links and nanosecond times`, async (t) => {
  await compare(
    t,
    [
      'cp -a "$IN/tree" t1 && cp -a t1 t2 && cp -a t2 "$OUT/back" && cp -a "$OUT/back" t3',
      'for d in t1 t2 "$OUT/back" t3; do echo "== $d"; (cd "$d" && L . && S . && find . -printf "%p %T@\\n" | LC_ALL=C sort); done',
      'cp -r t1 plain && L plain | head -20',
      'cp --reflink=auto --sparse=always t1/big.bin sparse.bin && cmp sparse.bin t1/big.bin && echo sparse-copy-ok',
      'yes 0123456789abcdef | head -c 20000000 > large && cp large large2 && cat large2 | sha256sum && sha256sum < large && ls -l large2 | awk "{print \\$5}"',
    ].join('\n'),
    { expect: [/^sparse-copy-ok$/m, /^== t3$/m] },
  );
});

test(`${KIND}: mv within the mount, out to a real directory and back (EXDEV fallback)`, async (t) => {
  await compare(
    t,
    [
      'cp -a "$IN/tree" a && mv a b && mkdir c && mv b c/ && mv c/b/file1 c/renamed && mv c/renamed c/b/dir1/',
      'mv c/b/dir1 c/dir1moved && mv -T c/dir1moved/nested c/n2 && L c',
      'echo over > c/victim && echo new > c/newer && mv -f c/newer c/victim && cat c/victim && ls c',
      'mv c "$OUT/c" && ls -A && L "$OUT/c"',
      'mv "$OUT/c" back && L back && ls -A "$OUT" && (cd back && find . ! -newermt @1600000000 -printf "%p %T@\\n" | LC_ALL=C sort)',
      'mkdir -p x/y && mv x x/y/ ; echo "rc=$?"',
      'mv nothere elsewhere; echo "rc=$?"',
    ].join('\n'),
  );
});

for (const o of [{}, { root: true }] as Scenario[]) {
  if (o.root && !IS_ROOT) continue;
  test(`${KIND}: rm -rf of deep, wide and write-protected trees${who(o)}`, async (t) => {
    await compare(
      t,
      [
        'mkdir -p r/a/b/c/d && i=0 && while [ $i -lt 300 ]; do i=$((i+1)); echo $i > r/a/f$i; done',
        'ln -s ../.. r/a/b/up && ln -s /etc r/etc && mkfifo r/a/b/p && cp -a "$IN/tree" r/a/b/c/ && chmod 0500 r/a/b/c/d',
        'rm -rf r; echo "rc=$?"; ls -A; test -e /etc/hostname && echo etc-intact',
        'mkdir -p q/ro/sub && touch q/ro/x q/ro/sub/y && chmod 555 q/ro',
        'rm -rf q 2>&1 | sed "s/^rm: //"; ls -A q/ro 2>&1',
        'chmod 755 q/ro && rm -rf q && ls -A; echo "rc=$?"',
        'mkdir keep && touch keep/a && rm -r keep/a keep && ls -A',
        'rm -f nothere; echo "rc=$?"; rm nothere; echo "rc=$?"; mkdir dd; rm dd; echo "rc=$?"; rmdir dd && ls -A',
      ].join('\n'),
      { ...o, expect: [/^etc-intact$/m] },
    );
  });
}

test(`${KIND}: find with names, types, sizes, times, links, depth and -exec`, async (t) => {
  await compare(
    t,
    [
      'cp -a "$IN/tree" t && cd t',
      'find . | LC_ALL=C sort',
      'echo "-- name"; find . -name "*.c" | LC_ALL=C sort',
      'echo "-- type"; for y in f d l p; do echo "$y: $(find . -type $y | LC_ALL=C sort | tr "\\n" " ")"; done',
      'echo "-- broken"; find -L . -type l | LC_ALL=C sort',
      'echo "-- empty"; find . -empty | LC_ALL=C sort',
      'echo "-- perm"; find . -perm -u+x -type f | LC_ALL=C sort; find . -perm -1000 | LC_ALL=C sort',
      'echo "-- size"; find . -size +100k; find . -size -1c -type f | LC_ALL=C sort',
      'echo "-- newer"; find . -newer dir1/a.c -type f | LC_ALL=C sort',
      'echo "-- mtime"; find . -mtime +3650 -type f | wc -l',
      'echo "-- links"; find . -links 2 -type f | LC_ALL=C sort; find . -samefile file1 | LC_ALL=C sort',
      'echo "-- inum"; find . -inum "$(stat -c %i file1)" | LC_ALL=C sort',
      'echo "-- maxdepth"; find . -maxdepth 1 -type d | LC_ALL=C sort; find . -mindepth 3 | LC_ALL=C sort',
      'echo "-- depth"; find . -depth -type d | LC_ALL=C sort',
      'echo "-- exec"; find . -type f -name "*.[ch]" -exec wc -c {} \\; | LC_ALL=C sort -k2',
      'echo "-- prune"; find . -path ./dir1 -prune -o -type f -print | LC_ALL=C sort',
      'echo "-- xdev"; find . -xdev -type d | LC_ALL=C sort',
      'echo "-- delete"; cp -a dir1 gone && find gone -delete && ls -d gone 2>&1; echo "rc=$?"',
    ].join('\n'),
    { expect: [/^-- delete$/m, /^\.\/dir1\/hard2$/m] },
  );
});

test(`${KIND}: ls -laR (names, types, modes, link counts, sizes, times)`, async (t) => {
  await compare(
    t,
    [
      // t's parent gets a fixed time too: ls -la shows it as "..".
      'mkdir top && cp -a "$IN/tree" top/t && touch -d @1500000000 top && cd top',
      // Inode numbers are not shown; a directory's size and the "total" blocks belong to the file system.
      'ls -laR --time-style=+%s t | awk \'/^total /{next} /^d/{$5="-"} {$1=$1; print}\'',
      'ls -lan --time-style=+%s t | awk \'/^total /{next} /^d/{$5="-"} {$1=$1; print}\'',
      'ls -R t; ls -1F t; ls -1d t/*; ls -lL --time-style=+%s t/link-rel t/link-dir | awk \'/^total /{next} /^d/{$5="-"} {$1=$1; print}\'',
      'ls -lt --time-style=+%s t | awk \'/^total /{next} /^d/{$5="-"} {$1=$1; print}\'',
      'ls -lS t | awk \'/^total /{next} /^d/{next} {print $5, $NF}\'',
      'ls -lc t >/dev/null && echo ctime-ok',
      'ls t/nothere; echo "rc=$?"',
    ].join('\n'),
  );
});

test(`${KIND}: du: apparent sizes, inodes, a fully written 1 MiB file`, async (t) => {
  await compare(
    t,
    [
      'cp -a "$IN/tree" t && head -c 1048576 /dev/zero | tr "\\0" "x" > t/mib',
      // Directory sizes are the file system's own: only files are compared by size.
      'du -abl t | while read -r s p; do if [ -d "$p" ] && [ ! -L "$p" ]; then echo "$p dir"; else echo "$p $s"; fi; done | LC_ALL=C sort',
      'du --inodes -al t | LC_ALL=C sort -k2',
      'du -s --inodes t',
      'du -k t/mib; du -k --apparent-size t/mib; du -sh t/mib; du -b t/big.bin',
      'du -sk --apparent-size t/dir1/nested/deeper/leaf.c',
    ].join('\n'),
    { expect: [/^1024\tt\/mib$/m] },
  );
});

test(`${KIND}: ln -s chains, directory links, links leaving and entering the mount`, async (t) => {
  await compare(
    t,
    [
      'echo data > f && ln -s f l1 && ln -s l1 l2 && ln -s l2 l3 && cat l3 && readlink l3 && readlink -f l3 && realpath l3',
      'mkdir -p d/e && ln -s ../l3 d/up && cat d/up && ln -s d/e de && ln -s ../../f de/back && cat de/back && cat d/e/back',
      'ln -sf f l1 && readlink l1 && ln -sfn d de && readlink de && ls de',
      'ln -s loop1 loop2 && ln -s loop2 loop1 && cat loop1; echo "rc=$?"',
      'ln -s nothere dangling && cat dangling; echo "rc=$?"; ls -l dangling | awk "{print \\$1, \\$NF}"',
      'ln -s "$W/work/f" abs && cat abs && readlink abs && readlink -f abs',
      'echo outside > "$OUT/outfile" && ln -s "$OUT/outfile" out && cat out && readlink -f out && echo appended >> out && cat "$OUT/outfile"',
      'ln -s "$W/work/f" "$OUT/in" && cat "$OUT/in" && readlink -f "$OUT/in" && echo via-outside >> "$OUT/in" && cat f',
      'ln -s "$W/work/d" "$OUT/indir" && ls "$OUT/indir" && touch "$OUT/indir/made-through-link" && ls d',
      'ln -s "$W/work/nothere-yet" "$OUT/dangling-in" && echo created > "$OUT/dangling-in" && cat nothere-yet',
      'ln f hard && ln hard hard2 && stat -c "%n %h %s" f hard hard2 && rm f && cat hard2',
      'stat -c "%n %F %N" l1 l2 l3 de abs out && stat -c "%n %s" l1 l2 l3 de',
      'ls -l l1 l2 l3 | awk "{print \\$1, \\$(NF-2), \\$(NF-1), \\$NF}"',
      'cd de && pwd && pwd -P && cd -P ../de && pwd',
    ].join('\n'),
    { expect: [/^via-outside$/m, /^created$/m] },
  );
});

test(`${KIND}: concurrent writers: O_APPEND from two processes, a reader following a growing file`, async (t) => {
  await compare(
    t,
    [
      'i=0; (while [ $i -lt 1000 ]; do i=$((i+1)); echo "a$i" >> log; done) & j=0; (while [ $j -lt 1000 ]; do j=$((j+1)); echo "b$j" >> log; done) & wait',
      'wc -l < log && LC_ALL=C sort log | sha256sum && grep -c "^a" log && grep -c "^b" log',
      'python3 - <<\'EOF\'\nimport os, subprocess\nw = open("grow", "w")\nr = subprocess.Popen(["sh", "-c", "while [ ! -s done ]; do sleep 0.01; done; cat grow"], stdout=subprocess.PIPE, text=True)\nfor i in range(200):\n    w.write("line %d\\n" % i); w.flush()\nopen("done", "w").write("1")\nout = r.communicate()[0]\nprint(len(out.splitlines()), out.splitlines()[-1])\nEOF',
      // A fifo in the mount between two processes; tail -f (inotify) following a file another process appends to.
      'mkfifo p && (echo through-fifo > p &) && cat p',
      // No step waits for time: the writer appends once the reader has shown the
      // first line (tail is following by then); the reader stops reading once it
      // has seen the appended line, and tail, writing to a closed pipe, ends of
      // SIGPIPE (141). timeout 60 only bounds a tail that never sees the line.
      'echo first > followed && mkfifo seen tailed',
      '(read -r x < seen && echo appended-later >> followed) &',
      'timeout 60 tail -n +1 -f followed > tailed & tp=$!',
      'a=0; while IFS= read -r l; do echo "$l"; case $l in first) a=1; echo go > seen;; appended-later) break;; esac; done < tailed',
      '[ $a = 1 ] || echo go > seen',
      'wait $tp; echo "tail: $?"; wait',
    ].join('\n'),
    { expect: [/^2000$/m, /^200 line 199$/m, /^through-fifo$/m, /^appended-later$/m], hostCheck: 'names' },
  );
});

for (const o of [{}, { root: true }] as Scenario[]) {
  if (o.root && !IS_ROOT) continue;
  test(`${KIND}: make -j2 of a generated C project in the mount, then the binary runs from there${who(o)}`, async (t) => {
    const N = 20;
    const r = await compare(
      t,
      [
        'mkdir proj && cd proj',
        `i=0; while [ $i -lt ${N} ]; do printf '#include "common.h"\\nlong f%d(long x) { long s = 0; for (long j = 0; j < x; j++) s += (j * %d) %% %d; return s + %d; }\\n' $i $((i+3)) $((i+7)) $((i*i)) > f$i.c; i=$((i+1)); done`,
        `i=0; : > common.h; while [ $i -lt ${N} ]; do echo "long f$i(long);" >> common.h; i=$((i+1)); done`,
        `{ echo '#include <stdio.h>'; echo '#include "common.h"'; echo 'int main(int argc, char **argv) { long t = 0;'; i=0; while [ $i -lt ${N} ]; do echo "  t += f$i($((1000+i)));"; i=$((i+1)); done; printf '%s\\n' '  printf("%s %ld\\n", argv[0], t); return 0; }'; } > main.c`,
        `printf 'OBJS = main.o %s\\napp: $(OBJS)\\n\\t$(CC) -o $@ $(OBJS)\\n%%.o: %%.c common.h\\n\\t$(CC) -O1 -c -o $@ $<\\nclean:\\n\\trm -f app *.o\\n' "$(i=0; while [ $i -lt ${N} ]; do printf 'f%d.o ' $i; i=$((i+1)); done)" > Makefile`,
        'make -j2 2>&1 | LC_ALL=C sort',
        './app && "$W/work/proj/app" && (cd .. && proj/app)',
        'make; make -q && echo up-to-date',
        // Times come from the file system: make must see f3.c newer than its object and nothing else.
        'touch -d @1000000000 *.c common.h Makefile *.o app && touch -d @1000000100 f3.c && make && ./app',
        'make clean && ls && make -s -j2 && ls | wc -l && ./app',
        'file_count=$(find . -name "*.o" | wc -l) && echo "objects: $file_count"',
      ].join('\n'),
      { ...o, timeout: 110_000 },
    );
    // The native run built and ran it (else the comparison proves little).
    t.regex(r.nativeOut, /^\.\/app -?\d+\n\$W\/work\/proj\/app -?\d+\nproj\/app -?\d+\n/m);
    t.regex(r.nativeOut, /^objects: 21$/m);
  });
}

test(`${KIND}: git init, add, commit, log, branch, gc, fsck and clone across the boundary`, async (t) => {
  if (!has('git')) {
    t.fail('git is not installed (.ci/run installs the Debian package git)');
    return;
  }
  const g = 'git -c user.name=Tester -c user.email=t@example.org -c init.defaultBranch=main -c gc.auto=0 -c core.pager=cat';
  await compare(
    t,
    [
      'export GIT_AUTHOR_DATE="2005-04-07T22:13:13Z" GIT_COMMITTER_DATE="2005-04-07T22:13:13Z"',
      `g() { ${g} "$@"; }`,
      'g init -q repo && cd repo && echo hi > a && mkdir d && echo x > d/b && ln -s a sl && printf "#!/bin/sh\\n" > run.sh && chmod +x run.sh',
      'g add . && g commit -q -m first && g log --format="%H %an %s"',
      'g config --local -l | LC_ALL=C sort',
      'g status --porcelain; g ls-files -s; g cat-file -p "HEAD^{tree}"',
      'echo more >> a && g diff --stat && g commit -q -am second && g log --oneline | wc -l',
      'g checkout -q -b feature && echo f > f && g add f && g commit -q -m third && g checkout -q main && ls && g merge -q --ff-only feature && ls',
      'g mv a renamed && g rm -q d/b && g commit -q -m fourth && g log --format="%H %s" --name-status',
      'g gc -q && g fsck --full --strict 2>&1 && g count-objects -v | grep -E "^(count|in-pack|packs)"',
      'g tag -a v1 -m "tag one" && g describe && g log --format=%H -1 v1',
      'g stash list; echo dirty >> renamed && g stash -q && g stash list | wc -l && g stash pop -q && g diff --stat',
      'g clone -q . "$OUT/clone" && g -C "$OUT/clone" log --format="%H %s" && cd .. && g clone -q "$OUT/clone" again && g -C again log --format=%H -1',
      'g clone -q --no-local repo third && g -C third fsck 2>&1 && g -C third log --format=%H -1',
    ].join('\n'),
    { timeout: 110_000, hostCheck: 'names', expect: [/fourth/, /^v1$/m] },
  );
});

test(`${KIND}: sqlite3 creates and queries a database (WAL, locks between processes)`, async (t) => {
  if (!has('sqlite3')) {
    t.fail('sqlite3 is not installed (.ci/run installs the Debian package sqlite3)');
    return;
  }
  const py = [
    'import sqlite3, subprocess',
    'c = sqlite3.connect("db", timeout=0, isolation_level=None)',
    'c.execute("begin exclusive"); c.execute("insert into t(b) values (\'locked\')")',
    'r = subprocess.run(["sqlite3", "db", "insert into t(b) values (\'other\')"], capture_output=True, text=True)',
    'print("while locked:", r.returncode, r.stderr.strip())',
    'c.execute("commit")',
    'r = subprocess.run(["sqlite3", "db", "insert into t(b) values (\'other\'); select count(*) from t;"], capture_output=True, text=True)',
    'print("after commit:", r.returncode, r.stdout.strip(), r.stderr.strip())',
    'c.close()',
  ].join('\n');
  await compare(
    t,
    [
      'sqlite3 db "create table t(a integer primary key, b text); insert into t(b) values (\'x\'),(\'y\'); select * from t;"',
      'sqlite3 db "with recursive n(i) as (select 1 union all select i+1 from n where i < 20000) insert into t(b) select printf(\'row %d\', i) from n; select count(*), sum(length(b)) from t;"',
      'sqlite3 db "pragma journal_mode=wal;" && sqlite3 db "insert into t(b) values (\'wal\'); select count(*) from t;"',
      `python3 - <<'EOF'\n${py}\nEOF`,
      'sqlite3 db "pragma integrity_check; pragma wal_checkpoint(truncate);" | head -1',
      'sqlite3 db "pragma journal_mode=delete;" && ls',
      'sqlite3 db ".dump" | sha256sum',
      'sqlite3 db "vacuum; select count(*) from t;" && sqlite3 db "pragma page_count;" >/dev/null && echo vacuumed',
      'cp db "$OUT/db" && sqlite3 "$OUT/db" "select b from t order by a desc limit 2;"',
    ].join('\n'),
    { timeout: 110_000, expect: [/^while locked: [1-9]\d* .*database is locked/m, /^after commit: 0 /m, /^vacuumed$/m] },
  );
});

test(`${KIND}: python3 writes and reads files (text, binary, json, mkstemp, walk, copytree, mmap, utime)`, async (t) => {
  const py = String.raw`
import os, json, shutil, tempfile, pathlib, mmap, errno
os.makedirs('p/q/r', exist_ok=True)
with open('p/a.txt', 'w') as f: f.write('hello\n' * 100)
with open('p/a.txt', 'a') as f: f.write('tail')
with open('p/b.bin', 'wb') as f: f.write(bytes(range(256)) * 10)
print(repr(open('p/a.txt').read()[-10:]), len(open('p/b.bin', 'rb').read()))
with open('p/a.txt', 'r+') as f:
    f.seek(6); f.write('HELLO'); f.seek(0); print(repr(f.readline()), f.tell())
json.dump({'k': [1, 2, 3]}, open('p/j.json', 'w')); print(json.load(open('p/j.json')))
fd, name = tempfile.mkstemp(dir='p', prefix='tmp'); os.write(fd, b'x'); os.close(fd); os.replace(name, 'p/replaced')
with tempfile.TemporaryDirectory(dir='.') as td:
    open(os.path.join(td, 'in-tmp'), 'w').write('t'); print('tmpdir entries', os.listdir(td))
print(sorted(os.listdir('p')))
for root, dirs, files in sorted(os.walk('.')): print(root, sorted(dirs), sorted(files))
os.symlink('a.txt', 'p/soft')
shutil.copytree('p', 'p2', symlinks=True); shutil.rmtree('p2/q'); print(sorted(os.listdir('p2')))
shutil.copy2('p/b.bin', 'copied.bin'); print(os.stat('copied.bin').st_mtime_ns == os.stat('p/b.bin').st_mtime_ns)
print(sorted(str(x) for x in pathlib.Path('.').rglob('*')))
st = os.stat('p/a.txt'); print(oct(st.st_mode), st.st_size, st.st_nlink)
os.utime('p/a.txt', ns=(1_000_000_000_123_456_789, 1_100_000_000_987_654_321)); st = os.stat('p/a.txt'); print(st.st_atime_ns, st.st_mtime_ns)
os.truncate('p/a.txt', 5); print(repr(open('p/a.txt').read()))
os.link('p/a.txt', 'p/hard'); print(os.readlink('p/soft'), os.stat('p/hard').st_nlink, os.path.samefile('p/hard', 'p/a.txt'))
print(os.getcwd()); print(os.path.realpath('p/soft')); print(os.path.abspath('p'))
with os.scandir('p') as it: print(sorted((e.name, e.is_dir(), e.is_file(), e.is_symlink()) for e in it))
with open('p/b.bin', 'r+b') as f:
    m = mmap.mmap(f.fileno(), 0); m[0:5] = b'MMAP!'; m.flush(); m.close()
print(open('p/b.bin', 'rb').read(6))
os.chmod('p/hard', 0o600); print(oct(os.stat('p/a.txt').st_mode & 0o777))
for call in (lambda: os.rmdir('p'), lambda: open('p/missing'), lambda: os.mkdir('p'), lambda: os.unlink('p/q'), lambda: open('p/a.txt/x')):
    try: call()
    except OSError as e: print(errno.errorcode[e.errno], os.path.basename(e.filename or ''))
os.rename('p', 'renamed'); print(os.path.exists('p'), os.path.isdir('renamed'))
open('mod.py', 'w').write('VALUE = 41 + 1\n')
import sys; sys.path.insert(0, os.getcwd()); import mod; print('import from the mount:', mod.VALUE, os.path.basename(mod.__file__))
import py_compile; py_compile.compile('mod.py', cfile='mod.pyc'); print('compiled', os.path.getsize('mod.pyc') > 0)
print(sorted(os.listdir('.')))
`;
  await compare(t, `python3 - <<'EOF'\n${py}\nEOF\necho "rc=$?"`, { hostCheck: 'names', expect: [/^rc=0$/m] });
});

test(`${KIND}: cd, pwd -P, /bin/pwd and readlink /proc/self/cwd print the virtual path`, async (t) => {
  await compare(
    t,
    [
      'mkdir -p a/b && ln -s a/b lnk && echo inb > a/b/f',
      'cd a/b && pwd -P && pwd && /bin/pwd && readlink /proc/self/cwd && ls -l /proc/self/cwd | sed "s/.* -> //" && realpath . && cat f',
      'python3 -c "import os; print(os.getcwd()); print(os.path.realpath(\'.\'))"',
      'bash -c \'pwd -P; echo "$PWD"; cd ..; pwd -P\'',
      'sh -c \'exec readlink /proc/$$/cwd\'',
      'cd "$W/work/lnk" && pwd -P && pwd -L && /bin/pwd && readlink /proc/self/cwd && cd .. && pwd -P',
      'cd "$W/work" && pwd -P && cd "$W" && pwd -P && readlink /proc/self/cwd && ls -d work',
      'cd "$W/work/a/b" && exec 3< f && readlink /proc/self/fd/3 && readlink /proc/$$/fd/3',
    ].join('\n'),
    { expect: [/^inb$/m] },
  );
});

test(`${KIND}: a shared library built into the mount is linked (-L, -rpath) and dlopen()ed`, async (t) => {
  await compare(
    t,
    [
      'mkdir lib && cd lib',
      "printf 'int vfs_answer(void) { return 42; }\\nconst char *vfs_name(void) { return \"libv\"; }\\n' > v.c",
      "printf '#define _GNU_SOURCE\\n#include <stdio.h>\\n#include <dlfcn.h>\\nint vfs_answer(void);\\nint main(int argc, char **argv) {\\n printf(\"linked: %%d\\\\n\", vfs_answer());\\n void *h = dlopen(argv[1], RTLD_NOW);\\n if (!h) { printf(\"dlopen: %%s\\\\n\", dlerror()); return 1; }\\n int (*f)(void) = (int (*)(void))dlsym(h, \"vfs_answer\");\\n Dl_info i; dladdr((void *)f, &i);\\n printf(\"dlopen: %%d from %%s\\\\n\", f(), i.dli_fname);\\n return 0; }\\n' > main.c",
      'cc -shared -fPIC -o libv.so v.c && cc -o main main.c -L. -lv -Wl,-rpath,"$PWD" -ldl && echo built',
      './main "$PWD/libv.so" && ./main ./libv.so && (cd / && "$W/work/lib/main" "$W/work/lib/libv.so")',
      'ldd ./main | grep libv | sed "s/ (0x.*//"',
      'cc -o main2 main.c -L. -lv -ldl && LD_LIBRARY_PATH="$PWD" ./main2 libv.so; echo "rc=$?"',
      'LD_LIBRARY_PATH=. ./main2 libv.so',
      'python3 -c "import ctypes, os; l = ctypes.CDLL(os.path.abspath(\'libv.so\')); print(\'ctypes:\', l.vfs_answer())"',
      'cp libv.so "$OUT/" && ./main "$OUT/libv.so"',
    ].join('\n'),
    { hostCheck: 'names', expect: [/^linked: 42$/m, /^ctypes: 42$/m] },
  );
});

test(`${KIND}: execve of binaries and #! scripts in the mount; $0 and /proc/self/exe are virtual paths`, async (t) => {
  const staticBin = await compileFixture('static_info', { static: true });
  await compare(
    t,
    [
      'mkdir bin && cp /bin/echo bin/myecho && bin/myecho hi && "$W/work/bin/myecho" abs && (cd bin && ./myecho rel)',
      'printf \'#!/bin/sh\\necho "0=$0 1=$1"\\n\' > bin/s.sh && chmod +x bin/s.sh',
      'bin/s.sh a && "$W/work/bin/s.sh" b && PATH="$W/work/bin:$PATH" s.sh c && (cd bin && ./s.sh d) && sh bin/s.sh e',
      'cp /bin/sh bin/mysh && printf "#!%s\\necho \\"interp \\$0\\"\\n" "$W/work/bin/mysh" > bin/t.sh && chmod +x bin/t.sh && bin/t.sh && "$W/work/bin/t.sh"',
      'printf \'#!/usr/bin/env python3\\nimport sys, os\\nprint("py", sys.argv[0], os.path.basename(__file__))\\n\' > bin/p.py && chmod +x bin/p.py && bin/p.py && "$W/work/bin/p.py"',
      'cp /bin/readlink bin/rl && bin/rl /proc/self/exe && "$W/work/bin/rl" /proc/self/exe && (cd bin && ./rl -f /proc/self/exe)',
      'printf \'#!%s\\n\' "$W/work/bin/rl" > bin/rlscript && chmod +x bin/rlscript && bin/rlscript /proc/self/exe',
      // fexecve (execveat with AT_EMPTY_PATH) of a virtual binary.
      'python3 -c \'import os; fd = os.open("bin/rl", os.O_RDONLY); os.execve(fd, ["rl", "/proc/self/exe"], {})\'',
      `cp "${staticBin}" bin/static && bin/static x | head -3`,
      'printf "not executable\\n" > bin/noexec && bin/noexec; echo "rc=$?"',
      'bin; echo "rc=$?"',
      'printf "#!/nonexistent/interp\\n" > bin/bad && chmod +x bin/bad && bin/bad; echo "rc=$?"',
      // A running binary of the mount cannot be written to.
      // (Written once it runs: its comm is the binary's name after the exec.)
      'cp /bin/sleep bin/sl && { bin/sl 1000 & p=$!; until grep -qx sl /proc/$p/comm 2>/dev/null; do sleep 0.01; done; echo x > bin/sl; echo "write to a running binary: $?"; kill $p; }',
      'cp bin/myecho "$OUT/realecho" && cd bin && "$OUT/realecho" from-real-dir && exec ./myecho exec-replaced-the-shell',
    ].join('\n'),
    { hostCheck: 'names', expect: [/exec-replaced-the-shell/] },
  );
});

// bind.test.ts covers a bind next to a memfs mount.
if (KIND === 'memfs') test(`${KIND}: two mounts in one view: copies and moves between them and a real directory`, async (t) => {
  const w2 = makeTempDir('native-w2-', { shared: true });
  giveToUser(w2);
  await compare(
    t,
    [
      'cp -a "$IN/tree" t && cp -a t "$W2/t" && mv "$W2/t" "$W2/u" && mv t/exec.sh "$W2/u/moved" && ln -s "$W2/u" tou && ls tou | head -3',
      'cd "$W2" && L u && S u && find u ! -newermt @1600000000 -printf "%p %T@\\n" | LC_ALL=C sort && mv u "$OUT/u" && ls -A && L "$OUT/u" | wc -l',
    ].join('\n'),
    { flags: ['--mount', '/second=memfs'], vars: { view: { W2: '/second' }, native: { W2: w2 } } },
  );
});

// ---- memfs only -----------------------------------------------------------------------

if (KIND === 'memfs') {
  /** A config with one vfs module; FILE in a directory of its own (persist paths are relative to it). */
  function vfsConfig(body: string, dir = makeTempDir('cfg-', { shared: true })): { file: string; dir: string } {
    const file = path.join(dir, 'view.yaml');
    fs.writeFileSync(file, `modules:\n  - vfs:\n${body.replace(/^/gm, '      ')}\n`, { mode: 0o644 });
    giveToUser(dir);
    return { file, dir };
  }

  const runIn = (t: ExecutionContext, config: string, script: string, extra: { timeout?: number } = {}) =>
    vview(['run', '--config', config, '--', 'sh', '-c', script], { t, env: baseEnv(), unprivileged: asUser, cwd: '/', ...extra });

  test('memfs: files: initial content (nested paths), the mount need not exist on the host', async (t) => {
    t.false(fs.existsSync('/scratch-init'), 'the mount point exists on the host: pick another name');
    const { file } = vfsConfig('mount: /scratch-init\nfiles:\n  README: "hello\\n"\n  a/b/c.txt: "deep\\n"\n  empty: ""');
    const r = await runIn(t, file, 'cd /scratch-init && cat README a/b/c.txt && find . | LC_ALL=C sort && stat -c "%n %F %s" README empty && stat -c "%n %F" a a/b && test -d /scratch-init && echo is-dir');
    t.is(r.stdout, 'hello\ndeep\n.\n./README\n./a\n./a/b\n./a/b/c.txt\n./empty\nREADME regular file 6\nempty regular empty file 0\na directory\na/b directory\nis-dir\n', describe(r));
    t.is(r.status, 0);
    t.false(fs.existsSync('/scratch-init'), 'the mount point was created on the host');
  });

  test('memfs: from: a host directory or a saved state to start from; the host directory is never written', async (t) => {
    const seedParent = makeTempDir('seed-', { shared: true });
    const seed = path.join(seedParent, 'seed');
    fs.mkdirSync(path.join(seed, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(seed, 'a'), 'from the seed\n', { mode: 0o640 });
    fs.writeFileSync(path.join(seed, 'sub/b'), 'b\n');
    fs.symlinkSync('sub/b', path.join(seed, 'lb'));
    fs.utimesSync(path.join(seed, 'a'), 1_111_111_111, 1_111_111_111);
    giveToUser(seedParent);
    const before = execFileSync('find', [seed, '-printf', '%p %y %m %s %T@\n']).toString();
    // files are added after from; null is a directory.
    const { file, dir } = vfsConfig(`mount: /scratch\nfrom: ${seed}\nfiles:\n  extra: "x\\n"\n  emptydir: null\npersist: ./state.json`);
    const r1 = await runIn(t, file, 'cd /scratch && cat a sub/b lb extra && stat -c "%n %a %Y" a && stat -c "%n %F" emptydir && echo changed > a && rm sub/b && touch new');
    t.is(r1.stdout, 'from the seed\nb\nb\nx\na 640 1111111111\nemptydir directory\n', describe(r1));
    t.is(execFileSync('find', [seed, '-printf', '%p %y %m %s %T@\n']).toString(), before, 'the from directory was changed');
    // The saved state is a valid from: a second config starts from it (and leaves it as it is).
    const state = path.join(dir, 'state.json');
    const saved = fs.readFileSync(state);
    const { file: file2 } = vfsConfig(`mount: /other\nfrom: ${state}`);
    const r2 = await runIn(t, file2, 'cd /other && cat a && ls -A . sub && echo more >> a');
    t.is(r2.stdout, 'changed\n.:\na\nemptydir\nextra\nlb\nnew\nsub\n\nsub:\n', describe(r2));
    t.true(fs.readFileSync(state).equals(saved), 'the from state file was changed');
  });

  test('memfs: the mount point is a directory (stat, test -d, cd) and is not created on the host', async (t) => {
    const parent = makeTempDir('mp-parent-', { shared: true });
    fs.writeFileSync(path.join(parent, 'real'), 'r');
    const r = await vview(['run', '--mount', `${parent}/virt=memfs`, '--', 'sh', '-c', `cd ${parent} && test -d virt && echo is-dir; stat -c "%n %F" virt; cd virt && pwd -P`], {
      t, env: baseEnv(), unprivileged: asUser,
    });
    t.is(r.stdout, `is-dir\nvirt directory\n${parent}/virt\n`, describe(r));
    t.false(fs.existsSync(path.join(parent, 'virt')), 'the mount point was created on the host');
  });

  test('memfs: the mount point is listed in its parent directory (ls, ls -d */)', async (t) => {
    const parent = makeTempDir('mp-list-', { shared: true });
    fs.writeFileSync(path.join(parent, 'real'), 'r');
    const r = await vview(['run', '--mount', `${parent}/virt=memfs`, '--', 'sh', '-c', `cd ${parent} && ls && ls -d */`], {
      t, env: baseEnv(), unprivileged: asUser,
    });
    // As with a real mount point, which is always a directory of its parent.
    t.is(r.stdout, 'real\nvirt\nvirt/\n', describe(r));
  });

  test('memfs: a mount over an existing host directory hides its content', async (t) => {
    const d = makeTempDir('shadowed-', { shared: true });
    fs.writeFileSync(path.join(d, 'host-file'), 'host\n');
    const r = await vview(['run', '--mount', `${d}=memfs`, '--', 'sh', '-c', `ls -A ${d}; echo new > ${d}/virtual; cat ${d}/virtual; ls -A ${d}`], {
      t, env: baseEnv(), unprivileged: asUser,
    });
    t.is(r.stdout, 'new\nvirtual\n', describe(r));
    t.deepEqual(fs.readdirSync(d), ['host-file'], 'the host directory was changed');
  });

  test('memfs: persistence across two runs (config, persist relative to the config), compared with the native tree', async (t) => {
    const { file, dir } = vfsConfig('mount: /scratch\npersist: ./state.json');
    const IN = inputDir();
    const create = [
      'cd /scratch || exit 9',
      `cp -a "${IN}/tree" t`,
      'mkdir -p e/f && printf "\\000\\001\\377binary" > e/bin && : > e/empty && chmod 0600 e/empty && ln -s ../t/file1 e/f/link && chmod 0750 e/f',
      'touch -h -d @1234567890.5 e/f/link && touch -d @1234567890.25 e/bin e/empty e/f e && echo done',
    ].join('\n');
    const listing = [
      'set -u',
      "L() { find \"$@\" \\( -type d -printf '%p d %#m n%n %T@\\n' \\) -o -printf '%p %y %#m n%n s%s %l %T@\\n' | LC_ALL=C sort; }",
      'S() { find "$@" -type f -exec sha256sum {} + | LC_ALL=C sort -k2; }',
      'L t e; S t e',
    ].join('\n');
    const r1 = await runIn(t, file, create);
    t.is(r1.stdout, 'done\n', describe(r1));
    const state = path.join(dir, 'state.json');
    t.true(fs.existsSync(state), 'state.json was not written');
    t.deepEqual(fs.readdirSync(dir).sort(), ['state.json', 'view.yaml'], 'a temp file was left next to the state');
    // Keep the first state file's inode allocated, so its number cannot be reused by a later one.
    const hold = path.join(makeTempDir('hold-'), 'first-state');
    fs.linkSync(state, hold);
    const ino1 = fs.statSync(state).ino;
    const r2 = await runIn(t, file, `cd /scratch && ${listing}`);
    t.is(r2.status, 0, describe(r2));
    // The same work natively.
    const nd = makeTempDir('persist-native-', { shared: true });
    giveToUser(nd);
    const n1 = await native(['sh', '-c', create.replace('cd /scratch', `cd ${nd}`)], { t, env: baseEnv(), unprivileged: asUser });
    t.is(n1.status, 0, describe(n1));
    const n2 = await native(['sh', '-c', `cd ${nd} && ${listing}`], { t, env: baseEnv(), unprivileged: asUser });
    t.is(r2.stdout, n2.stdout, 'the tree read back in the second run is not the tree the first run made');
    // A third run changes something: the state file is replaced (temp file + rename), not rewritten in place.
    const r3 = await runIn(t, file, 'echo third > /scratch/third && rm -r /scratch/t/dir1');
    t.is(r3.status, 0, describe(r3));
    t.not(fs.statSync(state).ino, ino1, 'state.json was rewritten in place, not replaced atomically');
    t.deepEqual(fs.readdirSync(dir).sort(), ['state.json', 'view.yaml']);
    const r4 = await runIn(t, file, 'cat /scratch/third; ls /scratch/t | grep -c dir1');
    t.is(r4.stdout, 'third\n0\n', describe(r4));
  });

  /** Makes a tree with create in a persisted mount, reads it back with check in a second run: the same as natively, as the user. */
  const persistedLikeNative = async (t: ExecutionContext, prefix: string, create: string, check: string) => {
    const { file } = vfsConfig('mount: /scratch\npersist: ./state.json');
    const r1 = await runIn(t, file, create);
    t.is(r1.stdout, 'done\n', describe(r1));
    t.is(r1.stderr, '', 'vview reported a problem while saving');
    const r2 = await runIn(t, file, check);
    const nd = makeTempDir(prefix, { shared: true });
    giveToUser(nd);
    const n1 = await native(['sh', '-c', create.replace('cd /scratch', `cd ${nd}`)], { t, env: baseEnv(), unprivileged: asUser });
    t.is(n1.stdout, 'done\n', describe(n1));
    const n2 = await native(['sh', '-c', check.replace('cd /scratch', `cd ${nd}`)], { t, env: baseEnv(), unprivileged: asUser });
    t.is(r2.stdout, n2.stdout, describe(r2));
    t.is(r2.status, n2.status);
  };

  test('memfs: persist: files the user cannot read or write (modes 000, 0200, 0400, a 0500 directory) keep content and mode', async (t) => {
    const create = [
      'cd /scratch || exit 9',
      'echo secret > none && chmod 000 none && echo wo > wonly && chmod 200 wonly && echo ro > ronly && chmod 400 ronly',
      'mkdir -p locked/in && echo deep > locked/in/f && chmod 500 locked && echo done',
    ].join('\n');
    const check = 'cd /scratch && stat -c "%n %a %s" none wonly ronly locked/in/f && stat -c "%n %a" locked && chmod 600 none wonly && cat none wonly ronly locked/in/f; chmod 700 locked';
    await persistedLikeNative(t, 'persist-modes-', create, check);
  });

  // The store learns of these names at the end, from directories the user
  // cannot list or cross any more (it used to lose the content silently).
  test('memfs: persist: files in directories the user made unreadable or unsearchable (000, 0300, 0600) keep content and mode', async (t) => {
    const create = [
      'cd /scratch || exit 9',
      'mkdir -p none wx/deeper ro && echo a > none/f && echo b > wx/deeper/g && echo c > ro/h',
      'chmod 000 none && chmod 300 wx/deeper wx && chmod 600 ro && echo done',
    ].join('\n');
    const check = 'cd /scratch && stat -c "%n %a" none wx ro && chmod 700 none wx ro && stat -c "%n %a" wx/deeper && chmod 700 wx/deeper && cat none/f wx/deeper/g ro/h';
    await persistedLikeNative(t, 'persist-dirmodes-', create, check);
  });

  // Not implemented (README, vfs limitations): the store has no extended attributes, so persist drops them.
  test.failing('memfs: persist keeps user.* extended attributes (cp -a, tar --xattrs and rsync -X carry them)', async (t) => {
    const { file } = vfsConfig('mount: /scratch\npersist: ./state.json');
    const r1 = await runIn(t, file, 'python3 -c \'import os; open("/scratch/f", "w").write("x"); os.setxattr("/scratch/f", "user.k", b"value"); os.mkdir("/scratch/d"); os.setxattr("/scratch/d", "user.dir", b"dv"); print(os.getxattr("/scratch/f", "user.k"))\'');
    t.is(r1.stdout, "b'value'\n", describe(r1));
    const r2 = await runIn(t, file, 'python3 -c \'import os; print(os.listxattr("/scratch/f"), os.getxattr("/scratch/d", "user.dir"))\'');
    t.is(r2.stdout, "['user.k'] b'dv'\n", describe(r2));
  });

  // The store is told of changes at fsync and at the end only (mirror.ts, lazy
  // write-back): names replaced, linked, moved and removed by native calls
  // must still be saved as the tree the processes left, hard links included.
  test('memfs: persist keeps what renames over names, rm + a new file, hard links and moved directories left', async (t) => {
    const { file } = vfsConfig('mount: /scratch\npersist: ./state.json');
    const first = [
      'cd /scratch || exit 9',
      'mkdir -p d/sub z && echo a > a && echo b > b && echo same > c && echo keep > z/keep && echo s > d/sub/s && ln z/keep z/keep2',
      'touch -d @1000000000 a b c z/keep d/sub/s d/sub d z && echo done',
    ].join('\n');
    const second = [
      'cd /scratch || exit 9',
      'echo "new a, longer" > a.tmp && mv a.tmp a',
      'rm c && echo SAME > c && touch -d @1000000000 c',
      'ln z/keep 0first && ln z/keep y',
      'echo replaced > k.tmp && mv k.tmp z/keep2',
      'mv d/sub moved && mv b moved/b && rmdir d',
      'echo n > n1 && ln n1 moved/n2',
      // Times that a native run can have too (the directories' after their entries changed).
      'find . -type f -exec touch -d @1000000000 {} + && touch -d @1000000000 moved z . && echo done',
    ].join('\n');
    const listing = [
      // (The root's mode is the native temp directory's: its time only.)
      "stat -c '. %Y' . && find . -mindepth 1 -printf '%p %y %#m n%n s%s %T@\\n' | LC_ALL=C sort",
      'find . -type f -exec sha256sum {} + | LC_ALL=C sort -k2',
      // Which names are one file: the inode numbers of the view differ from
      // the native ones, so print the groups.
      "find . -type f -links +1 -printf '%i %p\\n' | LC_ALL=C sort | awk '{ if ($1 != i) { if (l) print l; l = $2; i = $1 } else l = l \" \" $2 } END { print l }' | LC_ALL=C sort",
    ].join('\n');
    t.is((await runIn(t, file, first)).stdout, 'done\n');
    const r2 = await runIn(t, file, second);
    t.is(r2.stdout, 'done\n', describe(r2));
    const r3 = await runIn(t, file, `cd /scratch && ${listing}`);
    t.is(r3.status, 0, describe(r3));
    const nd = makeTempDir('persist-ids-native-', { shared: true });
    giveToUser(nd);
    for (const step of [first, second]) {
      const n = await native(['sh', '-c', step.replace('cd /scratch', `cd ${nd}`)], { t, env: baseEnv(), unprivileged: asUser });
      t.is(n.stdout, 'done\n', describe(n));
    }
    const n3 = await native(['sh', '-c', `cd ${nd} && ${listing}`], { t, env: baseEnv(), unprivileged: asUser });
    t.is(r3.stdout, n3.stdout);
    t.regex(r3.stdout, /\.\/0first \.\/y \.\/z\/keep\n/);
  });

  test('memfs: persist: a missing state file starts empty and is created; --mount CLI stays in memory, or in :STATE', async (t) => {
    const { file, dir } = vfsConfig('mount: /scratch\npersist: sub/state.json');
    fs.mkdirSync(path.join(dir, 'sub'), { mode: 0o777 });
    giveToUser(dir);
    const r = await runIn(t, file, 'ls -A /scratch; echo x > /scratch/x');
    t.is(r.stdout, '', describe(r));
    t.is(r.status, 0);
    t.true(fs.existsSync(path.join(dir, 'sub/state.json')));
    const again = await runIn(t, file, 'cat /scratch/x');
    t.is(again.stdout, 'x\n', describe(again));
    const cli1 = await vview(['run', '--mount', '/scratch=memfs', '--', 'sh', '-c', 'echo y > /scratch/y'], { t, env: baseEnv(), unprivileged: asUser });
    t.is(cli1.status, 0, describe(cli1));
    const cli2 = await vview(['run', '--mount', '/scratch=memfs', '--', 'sh', '-c', 'ls -A /scratch'], { t, env: baseEnv(), unprivileged: asUser });
    t.is(cli2.stdout, '', describe(cli2));
    // --mount PATH=memfs:STATE keeps it (the file relative to the current directory).
    const cwd = makeTempDir('cli-state-', { shared: true });
    giveToUser(cwd);
    const s1 = await vview(['run', '--mount', '/scratch=memfs:state.json', '--', 'sh', '-c', 'echo kept > /scratch/k'], { t, env: baseEnv(), unprivileged: asUser, cwd });
    t.is(s1.status, 0, describe(s1));
    t.true(fs.existsSync(path.join(cwd, 'state.json')));
    const s2 = await vview(['run', '--mount', '/scratch=memfs:state.json', '--', 'cat', '/scratch/k'], { t, env: baseEnv(), unprivileged: asUser, cwd });
    t.is(s2.stdout, 'kept\n', describe(s2));
  });

  test('memfs: data written by a process is in the store when it exits, on fsync, and at the end (persist)', async (t) => {
    const { file, dir } = vfsConfig('mount: /scratch\npersist: ./state.json');
    // A writer killed by SIGKILL after its writes: nothing it wrote is lost.
    const script = [
      'cd /scratch',
      'python3 -c "import os; f = open(\'killed\', \'w\'); f.write(\'written before SIGKILL\\n\'); f.flush(); os.kill(os.getpid(), 9)"',
      'echo "status $?"',
      'python3 -c "import os; fd = os.open(\'synced\', os.O_CREAT | os.O_WRONLY, 0o644); os.write(fd, b\'synced\\n\'); os.fsync(fd); os.kill(os.getpid(), 9)"',
      'sh -c \'exec 3>held; echo "held open" >&3; sleep 0.2\' & wait',
      'echo appended >> killed',
    ].join('\n');
    const r = await runIn(t, file, script);
    t.is(r.stdout, 'status 137\n', describe(r));
    const r2 = await runIn(t, file, 'cd /scratch && cat killed synced held');
    t.is(r2.stdout, 'written before SIGKILL\nappended\nsynced\nheld open\n', describe(r2));
    t.true(fs.existsSync(path.join(dir, 'state.json')));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`memfs: ${signal} to vview during heavy writes: vview exits, nothing already written is lost`, async (t) => {
      const { file } = vfsConfig('mount: /scratch\npersist: ./state.json');
      // A writer that reports on stdout after each completed write, files and one growing file.
      const writer = String.raw`
import os, sys
os.chdir('/scratch')
big = open('big', 'wb', buffering=0)
block = bytes(range(256)) * 16
i = 0
while True:
    i += 1
    with open('f%05d' % i, 'w') as f: f.write('content %d\n' % i)
    big.write(block)
    with open('log', 'a') as f: f.write('line %d\n' % i)
    print(i, flush=True)
`;
      const run = startVview(['run', '--config', file, '--', 'python3', '-c', writer], { t, env: baseEnv(), unprivileged: asUser, timeout: 60_000 });
      await run.waitForStdout(/^300$/m, 40_000);
      run.kill(signal);
      const res = await run.result;
      t.false(res.timedOut, `vview did not exit after ${signal}`);
      t.deepEqual(res.leftovers, [], 'processes of the view survived');
      const reported = Math.max(...res.stdout.trim().split('\n').map(Number).filter(Number.isFinite));
      t.true(reported >= 300, res.stdout.slice(-200));
      const check = await runIn(t, file, [
        'cd /scratch',
        `n=${reported}; i=1; missing=0; while [ $i -le $n ]; do f=$(printf "f%05d" $i); [ "$(cat $f 2>/dev/null)" = "content $i" ] || missing=$((missing+1)); i=$((i+1)); done; echo "missing $missing"`,
        `head -n ${reported} log | awk '{ if ($2 != NR) bad++ } END { print "log bad", bad+0, "lines", NR }'`,
        'python3 -c "import sys; d = open(\'big\', \'rb\').read(); b = bytes(range(256)) * 16; n = len(d) // len(b); print(\'big whole blocks ok\', d[:n*len(b)] == b * n, \'blocks\', n >= int(sys.argv[1]))" ' + reported,
      ].join('\n'), { timeout: 60_000 });
      t.is(check.stdout, `missing 0\nlog bad 0 lines ${reported}\nbig whole blocks ok True blocks True\n`, describe(check));
    });
  }

  // ---- config and command-line errors ----

  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  async function refused(t: ExecutionContext, args: string[], cwd?: string): Promise<RunResult> {
    const marker = path.join(makeTempDir('ran-', { shared: true }), 'ran');
    const r = await vview(['run', ...args, '--', 'touch', marker], { t, env: baseEnv(), cwd });
    t.not(r.status, 0, describe(r));
    t.false(fs.existsSync(marker), 'the command ran');
    t.is(r.stdout, '');
    t.regex(r.stderr, /\S/, 'no message');
    return r;
  }

  test('memfs: config: a relative mount path is refused, naming the file, line and key', async (t) => {
    const file = writeConfig('modules:\n  - vfs:\n      mount: scratch\n');
    const r = await refused(t, ['--config', file]);
    t.is(r.status, 2, describe(r));
    t.regex(r.stderr, new RegExp(`${esc(file)}:3\\b`), r.stderr);
    t.regex(r.stderr, /modules\[0\]\.vfs\.mount/);
    t.regex(r.stderr, /absolute/i);
  });

  test('memfs: config: a missing mount, an unknown key, a bad files entry are refused', async (t) => {
    const a = writeConfig('modules:\n  - vfs:\n      files: { a: "x" }\n');
    const ra = await refused(t, ['--config', a]);
    t.regex(ra.stderr, /modules\[0\]\.vfs(\.mount)?\b/, ra.stderr);
    t.regex(ra.stderr, /mount/);
    const b = writeConfig('modules:\n  - vfs:\n      mount: /scratch\n      persit: ./x.json\n');
    const rb = await refused(t, ['--config', b]);
    t.regex(rb.stderr, new RegExp(`${esc(b)}:4\\b`), rb.stderr);
    t.regex(rb.stderr, /modules\[0\]\.vfs\.persit\b/);
    const c = writeConfig('modules:\n  - vfs:\n      mount: /scratch\n      files: { a: 3 }\n');
    const rc = await refused(t, ['--config', c]);
    t.regex(rc.stderr, /modules\[0\]\.vfs\.files/, rc.stderr);
  });

  test('memfs: overlapping mounts are refused, naming both (config and command line)', async (t) => {
    const cases = [
      'modules:\n  - vfs: { mount: /a }\n  - vfs: { mount: /a/b }\n',
      'modules:\n  - vfs: { mount: /a/b }\n  - vfs: { mount: /a }\n',
      'modules:\n  - vfs: { mount: /a }\n  - vfs: { mount: /a/ }\n',
    ];
    for (const y of cases) {
      const file = writeConfig(y);
      const r = await refused(t, ['--config', file]);
      t.is(r.status, 2, describe(r));
      t.regex(r.stderr, /overlap|inside|nested|already/i, r.stderr);
      t.regex(r.stderr, /\/a\/b|\/a\b/);
      // README: "stops vview before the command starts, with the file and the problem named".
      t.true(r.stderr.includes(file), `the message names the config file: ${r.stderr}`);
    }
    const cli = await refused(t, ['--mount', '/a=memfs', '--mount', '/a/b=memfs']);
    t.regex(cli.stderr, /\/a\/b/);
    t.regex(cli.stderr, /overlap|inside|nested|already/i, cli.stderr);
    const same = await refused(t, ['--mount', '/a=memfs', '--mount', '/a=memfs']);
    t.regex(same.stderr, /\/a\b/, same.stderr);
  });

  test('memfs: command line: a relative --mount, an unknown kind, a missing value are refused', async (t) => {
    const rel = await refused(t, ['--mount', 'scratch=memfs']);
    t.regex(rel.stderr, /scratch/);
    t.regex(rel.stderr, /absolute/i, rel.stderr);
    const kind = await refused(t, ['--mount', '/scratch=nosuchfs']);
    t.regex(kind.stderr, /nosuchfs/, kind.stderr);
    const none = await refused(t, ['--mount', '/scratch']);
    t.regex(none.stderr, /--mount/, none.stderr);
    const root = await refused(t, ['--mount', '/=memfs']);
    t.regex(root.stderr, /\//, root.stderr);
  });

  test('memfs: a corrupt, foreign or unreadable persist file is refused with a clear error and left untouched', async (t) => {
    const contents = ['{ not json', '[]', '{"format": "something-else"}', ''];
    for (const content of contents) {
      const { file, dir } = vfsConfig('mount: /scratch\npersist: ./state.json');
      const state = path.join(dir, 'state.json');
      fs.writeFileSync(state, content, { mode: 0o666 });
      giveToUser(dir);
      const before = fs.statSync(state);
      const r = await refused(t, ['--config', file]);
      t.regex(r.stderr, new RegExp(esc(state)), `the message names the file: ${r.stderr}`);
      t.is(fs.readFileSync(state, 'utf8'), content, 'the state file was changed');
      t.is(fs.statSync(state).ino, before.ino, 'the state file was replaced');
      t.deepEqual(fs.readdirSync(dir).sort(), ['state.json', 'view.yaml']);
    }
    if (asUser && IS_ROOT) {
      // Unreadable for the user running vview.
      const { file, dir } = vfsConfig('mount: /scratch\npersist: ./state.json');
      const state = path.join(dir, 'state.json');
      fs.writeFileSync(state, '{}', { mode: 0o600 });
      fs.chownSync(state, 0, 0);
      const marker = path.join(makeTempDir('ran-', { shared: true }), 'ran');
      const r = await vview(['run', '--config', file, '--', 'touch', marker], { t, env: baseEnv(), unprivileged: true });
      t.not(r.status, 0, describe(r));
      t.false(fs.existsSync(marker));
      t.regex(r.stderr, new RegExp(esc(state)), r.stderr);
      t.regex(r.stderr, /EACCES|permission denied/i);
      t.is(fs.readFileSync(state, 'utf8'), '{}');
    }
  });

  test('memfs: the monitor\'s scratch objects are private to the user and removed at exit', async (t) => {
    const tmp = makeTempDir('vview-tmpdir-', { shared: true });
    giveToUser(tmp);
    const env = { ...baseEnv(), TMPDIR: tmp };
    // The tracee holds the object open on fd 3 and waits for a line on stdin,
    // which the test sends only after it has looked at the fd: it cannot exit
    // before (a sleep here raced with a busy machine).
    const run = startVview(['run', '--mount', '/scratch=memfs', '--', 'sh', '-c', 'echo secret > /scratch/f && exec 3</scratch/f && echo "pid $$" && read -r go && echo "got $go"'], {
      t, env, unprivileged: asUser, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let privateDir: string | undefined;
    try {
      const out = await run.waitForStdout(/pid \d+\n/);
      const pid = Number(/pid (\d+)/.exec(out)![1]);
      // Seen from outside the view, the tracee's fd 3 is the backing object.
      const real = fs.readlinkSync(`/proc/${pid}/fd/3`);
      t.log(`fd 3 of the tracee, seen from outside: ${real}`);
      const uid = asUser && IS_ROOT ? NOBODY : process.getuid!();
      if (real.startsWith('/memfd:')) t.log('a memfd: private by construction');
      else {
        t.true(real.startsWith('/'), `fd 3 is neither a memfd nor a file: ${real}`);
        // Some directory above it (not / itself) is private to the user.
        for (let d = path.dirname(real.replace(/ \(deleted\)$/, '')); d !== '/' && d !== '.'; d = path.dirname(d)) {
          const st = fs.statSync(d);
          if ((st.mode & 0o077) === 0 && st.uid === uid) {
            privateDir = d;
            break;
          }
        }
        t.truthy(privateDir, `no directory above ${real} is private to uid ${uid}`);
      }
    } finally {
      run.child.stdin!.on('error', () => {}); // EPIPE: it ended already (then the assertions below say how)
      run.child.stdin!.end('now\n');
    }
    const r = await run.result;
    t.is(r.stdout.replace(/^pid \d+\n/, ''), 'got now\n', describe(r));
    t.is(r.status, 0, describe(r));
    if (privateDir) t.false(fs.existsSync(privateDir), `${privateDir} was left behind`);
    t.deepEqual(fs.readdirSync(tmp), [], 'scratch objects left in TMPDIR');
  });
}
