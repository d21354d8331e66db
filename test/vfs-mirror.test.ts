/**
 * The kernel copy of a vfs store told nothing per call (Mirror with lazy
 * write-back, what the vfs module uses): the changes a process makes on the
 * copy, made here directly on the host as native code would let the kernel
 * make them, reach the store at fsync (that file's path) and at the end
 * (everything, compared by identity). Each test checks the store against the
 * host tree: names, types, modes, times, sizes, contents and which names are
 * one file.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemStore } from '../src/modules/vfs/store.js';
import { Mirror } from '../src/vm/fs/mirror.js';

function tempDir(t: ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-mirror-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A store with some content, copied into a lazy mirror under a temp directory. */
async function setup(t: ExecutionContext, files: Record<string, string | null> = {}): Promise<{ store: MemStore; m: Mirror; root: string }> {
  const store = new MemStore();
  store.addFiles(files);
  const root = path.join(tempDir(t), 'tree');
  // A write-back that fails is reported through this: here it fails the test.
  const m = new Mirror(store, root, (w) => { throw new Error(`unexpected warning: ${w}`); }, true);
  await m.materialize();
  return { store, m, root };
}

/** Asserts that the store is the host tree. */
function sameTree(t: ExecutionContext, store: MemStore, root: string): void {
  const hostToStore = new Map<bigint, number>();
  const storeToHost = new Map<number, bigint>();
  const walk = (rel: string) => {
    const host = rel === '/' ? root : root + rel;
    const names = fs.readdirSync(host).sort();
    t.deepEqual(store.readdir(rel).slice().sort(), names, `entries of ${rel}`);
    for (const name of names) {
      const c = rel === '/' ? `/${name}` : `${rel}/${name}`;
      const st = fs.lstatSync(root + c, { bigint: true });
      const a = store.getattr(c);
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
      t.is(a.type, type, `type of ${c}`);
      t.is(a.perm, Number(st.mode & 0o7777n), `mode of ${c}`);
      t.is(a.mtimeNs, st.mtimeNs, `mtime of ${c}`);
      if (type === 'file') {
        t.is(a.size, Number(st.size), `size of ${c}`);
        t.is(store.read(c, 0, 1 << 20).toString(), fs.readFileSync(root + c, 'utf8'), `content of ${c}`);
        // One host file, one store object, both ways.
        const known = hostToStore.get(st.ino);
        if (known === undefined) hostToStore.set(st.ino, a.ino);
        else t.is(a.ino, known, `${c} is not linked to the other names of its host file`);
        const back = storeToHost.get(a.ino);
        if (back === undefined) storeToHost.set(a.ino, st.ino);
        else t.is(back, st.ino, `${c} is linked in the store to a name of another host file`);
      }
      if (type === 'symlink') t.is(store.readlink(c), fs.readlinkSync(root + c), `target of ${c}`);
      if (type === 'dir') walk(c);
    }
  };
  walk('/');
}

test('new files, directories and symlinks made on the copy are in the store after the end', async (t) => {
  const { store, m, root } = await setup(t, { 'old/a': 'a\n' });
  fs.mkdirSync(path.join(root, 'new/deeper'), { recursive: true });
  fs.writeFileSync(path.join(root, 'new/deeper/f'), 'f\n', { mode: 0o640 });
  fs.symlinkSync('deeper/f', path.join(root, 'new/l'));
  fs.writeFileSync(path.join(root, 'old/b'), 'b\n');
  fs.chmodSync(path.join(root, 'old'), 0o750);
  // Times set after the entries were made (cp -a, tar): the store must keep them, not its own.
  for (const p of ['new/deeper/f', 'new/deeper', 'new', 'old']) fs.utimesSync(path.join(root, p), 1_000_000_000, 1_000_000_000);
  await m.reconcile();
  sameTree(t, store, root);
  t.is(store.getattr('/new').mtimeNs, 1_000_000_000_000_000_000n);
});

test('a name replaced on the copy (rename over it, rm and a new file of the same size and times) is the new object in the store', async (t) => {
  const { store, m, root } = await setup(t, { a: 'old a\n', b: 'old b\n', c: 'same\n', keep: 'keep\n' });
  store.link('/keep', '/keep2');
  // /keep2 is a second name of /keep (in the store and on the host), replaced below.
  const p = (x: string) => path.join(root, x);
  fs.linkSync(p('keep'), p('keep2'));
  fs.writeFileSync(p('a.tmp'), 'new a, longer\n');
  fs.renameSync(p('a.tmp'), p('a'));
  const st = fs.statSync(p('c'));
  fs.rmSync(p('c'));
  fs.writeFileSync(p('c'), 'SAME\n'); // the same size
  fs.utimesSync(p('c'), st.atime, st.mtime); // and the same times
  fs.writeFileSync(p('k.tmp'), 'replaced keep2\n');
  fs.renameSync(p('k.tmp'), p('keep2'));
  fs.renameSync(p('b'), p('b2'));
  await m.reconcile();
  sameTree(t, store, root);
  t.is(store.read('/c', 0, 100).toString(), 'SAME\n');
  t.not(store.getattr('/keep').ino, store.getattr('/keep2').ino, 'keep2 was replaced: no longer a name of keep');
});

test('hard links made on the copy are links in the store, to files it had or new ones, in any listing order', async (t) => {
  const { store, m, root } = await setup(t, { d: null, 'd/old': 'old\n', gone: 'gone\n' });
  const p = (x: string) => path.join(root, x);
  // New names of d/old, which the store has, before and after it in the
  // walk (which goes in name order: a0 and a1 before d, l* after).
  for (const n of ['a0', 'a1', ...Array.from({ length: 18 }, (_, i) => `l${i}`)]) fs.linkSync(p('d/old'), p(n));
  // A new file with three names.
  fs.writeFileSync(p('n1'), 'new\n');
  fs.mkdirSync(p('e'));
  fs.linkSync(p('n1'), p('e/n2'));
  fs.linkSync(p('n1'), p('d/n3'));
  // The name the store knows removed: the others stay one file.
  fs.linkSync(p('gone'), p('g1'));
  fs.linkSync(p('gone'), p('e/g2'));
  fs.rmSync(p('gone'));
  await m.reconcile();
  sameTree(t, store, root);
  for (const n of ['a0', 'a1', 'l0', 'l17']) t.is(store.getattr(`/${n}`).ino, store.getattr('/d/old').ino, n);
  t.is(store.getattr('/n1').ino, store.getattr('/e/n2').ino);
  t.is(store.getattr('/n1').ino, store.getattr('/d/n3').ino);
  t.is(store.getattr('/g1').ino, store.getattr('/e/g2').ino);
});

test('removals and a directory renamed with its content reach the store at the end', async (t) => {
  const { store, m, root } = await setup(t, { 'd/x/1': '1\n', 'd/x/2': '2\n', gone: 'g\n', 'e/f': 'f\n' });
  const p = (x: string) => path.join(root, x);
  fs.renameSync(p('d/x'), p('moved'));
  fs.rmSync(p('gone'));
  fs.rmSync(p('e'), { recursive: true });
  fs.mkdirSync(p('e'));
  fs.writeFileSync(p('e/g'), 'g\n');
  await m.reconcile();
  sameTree(t, store, root);
  t.throws(() => store.getattr('/d/x'), { code: 'ENOENT' });
});

test('fsync: the file and its directories are in the store at once, with their attributes', async (t) => {
  const { store, m, root } = await setup(t, { top: null });
  const p = (x: string) => path.join(root, x);
  fs.mkdirSync(p('top/a/b'), { recursive: true });
  fs.writeFileSync(p('top/a/b/f'), 'synced\n', { mode: 0o600 });
  fs.writeFileSync(p('top/other'), 'not synced yet\n');
  fs.utimesSync(p('top/a'), 1_000_000_000, 1_000_000_000);
  await m.fsync(p('top/a/b/f'));
  t.is(store.read('/top/a/b/f', 0, 100).toString(), 'synced\n');
  t.is(store.getattr('/top/a/b/f').perm, 0o600);
  t.is(store.getattr('/top/a').mtimeNs, fs.lstatSync(p('top/a'), { bigint: true }).mtimeNs);
  t.is(store.getattr('/top/a/b').mtimeNs, fs.lstatSync(p('top/a/b'), { bigint: true }).mtimeNs);
  // Only that path: the end brings the rest.
  t.throws(() => store.getattr('/top/other'), { code: 'ENOENT' });
  // Written again and fsync'ed: the new content.
  fs.appendFileSync(p('top/a/b/f'), 'more\n');
  await m.fsync(p('top/a/b/f'));
  t.is(store.read('/top/a/b/f', 0, 100).toString(), 'synced\nmore\n');
  await m.reconcile();
  sameTree(t, store, root);
});

test('fsync: a file removed or renamed before its sync point ran is left to the end, without a warning', async (t) => {
  const { store, m, root } = await setup(t);
  const p = (x: string) => path.join(root, x);
  fs.mkdirSync(p('d'));
  fs.writeFileSync(p('d/journal'), 'j\n');
  const host = p('d/journal');
  fs.rmSync(host); // (sqlite: the journal is gone by the time the monitor gets to it)
  fs.writeFileSync(p('d/a'), 'a\n');
  fs.renameSync(p('d/a'), p('d/b'));
  await m.fsync(host);
  await m.fsync(p('d/a'));
  t.throws(() => store.getattr('/d/journal'), { code: 'ENOENT' });
  await m.reconcile();
  sameTree(t, store, root);
});

test('a second name synced at fsync before the end saw the link becomes a link of the file the store had', async (t) => {
  const { store, m, root } = await setup(t, { a: 'a\n', d: null });
  const p = (x: string) => path.join(root, x);
  fs.linkSync(p('a'), p('d/b'));
  fs.linkSync(p('a'), p('0c'));
  await m.fsync(p('d/b')); // the store makes d/b on its own: it knows no other name yet
  await m.fsync(p('0c'));
  await m.reconcile();
  sameTree(t, store, root);
  t.is(store.getattr('/d/b').ino, store.getattr('/a').ino);
  t.is(store.getattr('/0c').ino, store.getattr('/a').ino);
});
