/**
 * bind: a real directory shown at another path of the view, like `mount --bind`
 * or `proot -b`, optionally read-only.
 *
 *   - bind: { from: ./src, to: /src, readonly: true }
 *
 * The kernel does every call on the real files (the path is rewritten), so
 * reads, writes, mmap and exec run at native speed. Inside the bind, a symlink
 * to an absolute path means that path in the view, and ".." at `to` leads to
 * the parent of `to`, not of `from`. Read-only: every change is EROFS, as on
 * a read-only mount.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineModule, mountFileSystem, mountPoint, nodeFsAdapter, OptionError } from '../index.js';
import { record } from './options.js';

export interface BindOptions {
  from: string;
  to: string;
  readonly: boolean;
}

export default defineModule<BindOptions>({
  name: 'bind',
  description: 'a real directory or file at another path of the view (read-only option)',
  options(raw, env): BindOptions {
    const o = record(raw, ['from', 'to', 'readonly']);
    if (typeof o.from !== 'string' || o.from === '') throw new OptionError(['from'], 'expected the path of a directory or a file');
    const from = path.resolve(env?.baseDir ?? process.cwd(), o.from);
    let st: fs.Stats;
    try {
      st = fs.statSync(from);
    } catch (e) {
      throw new OptionError(['from'], `${from}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (e as Error).message}`);
    }
    if (!st.isDirectory() && !st.isFile()) throw new OptionError(['from'], `${from}: not a directory or a regular file`);
    const to = mountPoint(o.to, 'to');
    // Like mount --bind: a file over a file, a directory over a directory (or
    // over a path the host lacks).
    let there: fs.Stats | undefined;
    try {
      there = fs.statSync(to);
    } catch {
      /* not on the host: shown in its parent's listing */
    }
    if (there && there.isDirectory() !== st.isDirectory())
      throw new OptionError(['to'], `${to}: cannot show a ${st.isDirectory() ? 'directory over a file' : 'file over a directory'}`);
    if (o.readonly !== undefined && typeof o.readonly !== 'boolean') throw new OptionError(['readonly'], 'expected true or false');
    return { from: fs.realpathSync(from), to, readonly: o.readonly === true };
  },
  setup(options, ctx) {
    return mountFileSystem(nodeFsAdapter(fs, options.from, { host: true }), { mount: options.to, readonly: options.readonly }, ctx);
  },
});
