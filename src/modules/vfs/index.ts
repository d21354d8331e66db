/**
 * vfs: a directory tree that exists only in the view, held in memory (a memfs
 * Volume), optionally loaded from and saved to a file.
 *
 *   - vfs: { mount: /scratch, files: { README: "hello\n" }, persist: ./scratch-state.json }
 */
import path from 'node:path';
import { Volume } from 'memfs';
import { defineModule, OptionError } from '../../vm/module.js';
import { mountFileSystem } from '../../vm/fs/mount.js';
import { mountPoint } from '../../vm/fs/mountpoint.js';
import { nodeFsAdapter, type NodeFsLike } from '../../vm/fs/nodefs.js';
import { record } from '../options.js';

export interface VfsOptions {
  mount: string;
  files: Record<string, string>;
}

export default defineModule<VfsOptions>({
  name: 'vfs',
  description: 'an in-memory directory tree at a path of the view',
  options(raw): VfsOptions {
    const o = record(raw, ['mount', 'files']);
    const mount = mountPoint(o.mount, 'mount');
    const files: Record<string, string> = {};
    if (o.files !== undefined && o.files !== null) {
      if (typeof o.files !== 'object' || Array.isArray(o.files)) throw new OptionError(['files'], 'expected a mapping of relative path to content');
      for (const [k, v] of Object.entries(o.files)) {
        if (typeof v !== 'string') throw new OptionError(['files', k], 'expected the file content as a string');
        const rel = path.posix.normalize('/' + k);
        if (k.startsWith('/') || rel.startsWith('/..')) throw new OptionError(['files', k], 'expected a path relative to the mount point');
        files[rel] = v;
      }
    }
    return { mount, files };
  },
  setup(options, ctx) {
    const vol = Volume.fromJSON(options.files, '/');
    return mountFileSystem(nodeFsAdapter(vol as unknown as NodeFsLike), { mount: options.mount }, ctx);
  },
});
