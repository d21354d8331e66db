/**
 * vfs: a directory tree that exists only in the view, held in memory (a memfs
 * Volume, see store.ts), optionally loaded from and saved to a file.
 *
 *   - vfs:
 *       mount: /scratch                 # need not exist on the host
 *       files: { README: "hello\n" }    # initial content (null: a directory)
 *       from: ./seed                    # or a host directory / a snapshot file to copy in
 *       persist: ./scratch-state.json   # loaded at start, saved atomically at exit
 *
 * Processes work on a kernel copy of the tree (see src/vm/fs/mirror.ts), so
 * reads, writes, mmap, exec and locks run natively; changes go back into the
 * store as they happen (content when the writer exits or calls fsync), and
 * into the persist file when the view ends, also after SIGINT/SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineModule, mountFileSystem, mountPoint, OptionError } from '../../index.js';
import { record } from '../options.js';
import { MemStore } from './store.js';
import { createStore, openPersistent } from './snapshot.js';

export interface VfsOptions {
  mount: string;
  files?: Record<string, unknown>;
  from?: string;
  persist?: string;
}

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
    const init = { files: options.files, from: options.from, onWarning: (m: string) => ctx.warn(m) };
    // A persist file that cannot be read stops the view here, before anything could overwrite it.
    const persistent = options.persist !== undefined ? openPersistent(options.persist, init) : undefined;
    const store = persistent?.store ?? createStore(init);
    const instance = await mountFileSystem(store, { mount: options.mount }, ctx);
    const close = instance.close;
    instance.close = async () => {
      await close?.();
      persistent?.save();
    };
    return instance;
  },
});
