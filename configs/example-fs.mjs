// A file system of its own: the environment vview started with, one file per
// variable, read-only, at /env (or the `mount` option).
import { defineModule, mountFileSystem, fsError } from 'vview';

const now = BigInt(Date.now()) * 1000000n;
const attr = (type, size) => ({
  type, perm: type === 'dir' ? 0o555 : 0o444, uid: process.getuid(), gid: process.getgid(), size, atimeNs: now, mtimeNs: now,
});

export default defineModule({
  name: 'envfs',
  description: 'environment variables as files',
  options: (raw) => ({ mount: raw?.mount ?? '/env' }),
  setup(options, ctx) {
    const vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.includes('/')));
    const value = (p) => {
      const v = vars[p.slice(1)];
      if (v === undefined) throw fsError('ENOENT');
      return Buffer.from(v + '\n');
    };
    // readonly: only the read operations; every change in the view is EROFS.
    const fs = {
      readonly: true,
      getattr: (p) => (p === '/' ? attr('dir', 0) : attr('file', value(p).length)),
      readdir: () => Object.keys(vars),
      readlink: () => { throw fsError('EINVAL'); },
      read: (p, offset, length) => value(p).subarray(offset, offset + length),
    };
    return mountFileSystem(fs, { mount: options.mount }, ctx);
  },
});
