/**
 * vfs: a directory tree that exists only in the view, optionally loaded from
 * and saved to a file.
 *
 *   - vfs:
 *       mount: /scratch                 # need not exist on the host
 *       files: { README: "hello\n" }    # initial content (null: a directory)
 *       from: ./seed                    # or a host directory / a state file to copy in
 *       persist: ./scratch.vfs          # loaded at start, saved atomically at exit
 *
 * Processes work on a kernel copy of the tree (see src/vm/fs/mirror.ts), so
 * reads, writes, mmap, exec and locks run natively; changes go back into the
 * store as they happen, and into the persist file when the view ends, also
 * after SIGINT/SIGTERM. The store keeps names and attributes in memory and
 * reads contents from the kernel copy (store.ts), so its memory does not
 * grow with the data.
 *
 * With `persist`, the state file has one user at a time (a lock, see
 * src/vm/statefile.ts), and the kernel copy is made next to it, in
 * `.NAME.vview-work/` (0700), instead of under $TMPDIR: what a process wrote
 * and fsync'ed there survives a crash of vview (kill -9), and the next run
 * on the same state file recovers it into the state before anything else.
 * The directory is removed once the state is saved; when the save fails it
 * stays, and is recovered the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineModule, lockStateFile, mountFileSystem, mountPoint, OptionError, StateFileError, EXIT_SAVE_FAILED } from '../../index.js';
import { record } from '../options.js';
import { MemStore } from './store.js';
import { createStore, loadSnapshot, openPersistent, saveArchive, type InitOptions } from './snapshot.js';

export interface VfsOptions {
  mount: string;
  files?: Record<string, unknown>;
  from?: string;
  persist?: string;
}

/** Marks a work directory whose copy was complete (the view started on it). */
const READY = 'ready';

export default defineModule<VfsOptions>({
  name: 'vfs',
  description: 'an in-memory directory tree at a path of the view (optionally persistent)',
  options(raw, env): VfsOptions {
    const o = record(raw, ['mount', 'files', 'from', 'persist']);
    const base = env?.baseDir ?? process.cwd();
    const mount = mountPoint(o.mount, 'mount');
    let files: Record<string, unknown> | undefined;
    if (o.files !== undefined && o.files !== null) {
      if (typeof o.files !== 'object' || Array.isArray(o.files)) throw new OptionError(['files'], 'expected a mapping of relative path to content');
      files = o.files as Record<string, unknown>;
      new MemStore().addFiles(files); // the same checks as at setup, with the config's line numbers
    }
    const file = (key: string): string | undefined => {
      const v = o[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || v === '') throw new OptionError([key], 'expected a file path');
      return path.resolve(base, v);
    };
    const from = file('from');
    if (from !== undefined && !fs.existsSync(from)) throw new OptionError(['from'], `${from}: does not exist`);
    const persist = file('persist');
    if (persist !== undefined && !fs.existsSync(path.dirname(persist)))
      throw new OptionError(['persist'], `${path.dirname(persist)}: the directory does not exist`);
    return { mount, files, from, persist };
  },
  async setup(options, ctx) {
    const init: InitOptions = { files: options.files, from: options.from, onWarning: (m: string) => ctx.warn(m) };
    // The store reads contents from the kernel copy (adoptContent), and nothing
    // reads the store before it is saved: it catches up with the copy at fsync
    // and at the end, and creations are native code's (mount.ts, lazyWriteBack).
    if (options.persist === undefined) return mountFileSystem(createStore(init), { mount: options.mount, lazyWriteBack: true }, ctx);

    const file = options.persist;
    // Before anything reads the file: a second run on it stops here (EXIT_STATE_BUSY).
    const lock = lockStateFile(file, 'the vfs state');
    try {
      const work = path.join(path.dirname(file), `.${path.basename(file)}.vview-work`);
      recoverLeftover(work, file, init, (m) => ctx.warn(m));
      // A persist file that cannot be read stops the view here, before anything could overwrite it.
      const persistent = openPersistent(file, init);
      fs.mkdirSync(work, { mode: 0o700 });
      const instance = await mountFileSystem(persistent.store, { mount: options.mount, scratch: path.join(work, 'tree'), lazyWriteBack: true }, ctx);
      fs.writeFileSync(path.join(work, READY), `${process.pid}\n`, { mode: 0o600 });
      const close = instance.close;
      instance.close = async () => {
        try {
          await close?.();
          try {
            persistent.save();
          } catch (e) {
            if (e instanceof StateFileError)
              throw new StateFileError(`${e.message}; what the view wrote is kept in ${work} and recovered into it by the next run`, e.exitCode);
            throw e;
          }
          removeTree(work);
        } finally {
          lock.release();
        }
      };
      return instance;
    } catch (e) {
      lock.release();
      throw e;
    }
  },
});

/**
 * A work directory left by a run that ended without saving (killed, or its
 * save failed): its tree is what the view last had, so it becomes the state
 * (ownership recorded in the state is kept for names still there). A copy
 * that was never complete (the run died while making it) is removed: the
 * state file is then still all there is.
 */
function recoverLeftover(work: string, file: string, init: InitOptions, warn: (m: string) => void): void {
  const st = fs.lstatSync(work, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory() || st.uid !== process.getuid?.())
    throw new StateFileError(`${work}: expected the private work directory of ${file}, found something else; remove it`, EXIT_SAVE_FAILED);
  const tree = path.join(work, 'tree');
  if (!fs.existsSync(path.join(work, READY)) || !fs.existsSync(tree)) {
    removeTree(work);
    return;
  }
  const store = new MemStore(init);
  store.copyFromHost(tree, warn);
  try {
    const old = loadSnapshot(file, init);
    for (const e of old?.entries() ?? []) {
      try {
        const a = store.getattr(e.path);
        if (a.type === e.attr.type && (a.uid !== e.attr.uid || a.gid !== e.attr.gid)) store.restoreAttr(e.path, { ...a, uid: e.attr.uid, gid: e.attr.gid });
      } catch {
        /* gone from the tree */
      }
    }
  } catch {
    /* the old state does not load: the tree alone */
  }
  saveArchive(store, file);
  removeTree(work);
  warn(`${file}: recovered what the view had written from ${work}, left by a run that ended without saving it`);
}

/** rm -rf, through directories a process of the view made read-only. */
function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    const writable = (d: string) => {
      fs.chmodSync(d, 0o700);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) writable(path.join(d, e.name));
    };
    writable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
