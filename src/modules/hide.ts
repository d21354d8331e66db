/**
 * hide: listed paths, and everything below them, do not exist in the view
 * (routed by path prefix, and by fd for the listings of their parents).
 *
 *   - hide: { paths: [/etc/shadow, /home/me/.ssh] }
 *
 * Every path syscall that resolves to, or walks through, a hidden path fails
 * with ENOENT, whatever the spelling (relative, "..", a symlink, a dirfd);
 * creating a file at a hidden name fails with EACCES (it cannot be made to
 * exist without clobbering the real one). The names are removed from their
 * parent directory's listing (getdents64).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  defineModule, errno, forward, MAKES_NAME, O_CREAT, RESTART, OptionError,
  type Handler, type SyscallCall, type SyscallExit,
} from '../index.js';
import { absPaths, record } from './options.js';

/** The path as the kernel would find it: real parent directory + final name (not followed). */
function canonical(p: string): string {
  const norm = path.resolve(p);
  const dir = path.dirname(norm);
  let realDir = dir;
  try {
    realDir = fs.realpathSync(dir);
  } catch {
    /* parent does not exist on the host: keep it as written */
  }
  return norm === '/' ? '/' : path.join(realDir, path.basename(norm));
}

export default defineModule({
  name: 'hide',
  description: 'listed paths do not exist in the view',
  options(raw): { paths: string[] } {
    const o = record(raw, ['paths']);
    const paths = absPaths(o, 'paths');
    paths.forEach((p, i) => {
      if (path.resolve(p) === '/') throw new OptionError(['paths', i], 'cannot hide /');
    });
    return { paths };
  },
  setup(options, ctx) {
    const hidden = [...new Set(options.paths.map(canonical))];
    // Each hidden file or directory is also hidden as an object (device and
    // inode): another name for it (a bind of its directory elsewhere in the
    // view, a renamed parent, a hard link, a /proc link) finds nothing either.
    const objects = new Map<string, { dev: bigint; ino: bigint }>();
    for (const h of hidden) {
      try {
        const st = fs.lstatSync(h, { bigint: true });
        objects.set(`${st.dev}:${st.ino}`, { dev: st.dev, ino: st.ino });
      } catch {
        /* not on the host: hidden by name only */
      }
    }
    /** The name itself (not followed) is a hidden object. */
    const isHiddenObject = (p: string | undefined) => {
      if (p === undefined) return false;
      try {
        const st = fs.lstatSync(p, { bigint: true });
        return objects.has(`${st.dev}:${st.ino}`);
      } catch {
        return false;
      }
    };
    // Listings to filter: parent directory (dev:ino) -> hidden names in it.
    const listings = new Map<string, Set<string>>();
    for (const h of hidden) {
      let st: fs.BigIntStats;
      try {
        st = fs.statSync(path.dirname(h), { bigint: true });
      } catch {
        continue; // no parent on the host: nothing lists it
      }
      const key = `${st.dev}:${st.ino}`;
      if (!listings.has(key)) {
        listings.set(key, new Set());
        ctx.claimInode(st.dev, st.ino);
      }
      listings.get(key)!.add(path.basename(h));
    }

    const refuse: Handler = (call) => {
      // Creating exactly a hidden name (mkdir, an O_CREAT open, the new name of a
      // rename/link/symlink) cannot be honoured without touching the real file:
      // EACCES. Anything else finds nothing: ENOENT.
      const mine = call.paths.filter((p) => p.mine);
      const newName = call.paths[call.paths.length - 1];
      const creating = (call.effect !== undefined && MAKES_NAME.includes(call.effect)) || isCreatOpen(call);
      if (creating && mine.length === 1 && mine[0] === newName &&
          (hidden.includes(newName.canonical ?? '') || isHiddenObject(newName.host ?? newName.canonical)))
        return errno('EACCES');
      return errno('ENOENT');
    };

    const filterListing = (oldStyle: boolean) => (call: SyscallCall) => {
      const fd = call.fds.find((f) => f.mine);
      const names = fd && listings.get(`${fd.dev}:${fd.ino}`);
      if (!names) return undefined;
      const buf = call.ptr(1);
      return forward((exit: SyscallExit) => {
        if (exit.result <= 0) return;
        const data = exit.mem.read(buf, exit.result);
        const kept: Buffer[] = [];
        for (let off = 0; off < data.length; ) {
          const reclen = data.readUInt16LE(off + 16);
          if (reclen === 0) break;
          const nameStart = off + (oldStyle ? 18 : 19);
          const nul = data.indexOf(0, nameStart);
          const name = data.toString('utf8', nameStart, nul < 0 || nul > off + reclen ? off + reclen : nul);
          if (!names.has(name)) kept.push(data.subarray(off, off + reclen));
          off += reclen;
        }
        const out = Buffer.concat(kept);
        if (out.length === data.length) return;
        // Everything in this batch was hidden: returning 0 would mean "end of
        // directory", so read the next batch instead.
        if (out.length === 0) return RESTART;
        exit.mem.write(buf, out);
        return out.length;
      });
    };

    return {
      paths: { prefixes: hidden, other: refuse, objects: [...objects.values()] },
      fds: { handlers: { getdents64: filterListing(false), getdents: filterListing(true) } },
    };
  },
});

function isCreatOpen(call: SyscallCall): boolean {
  if (call.effect !== 'open') return false;
  try {
    return (call.flags! & O_CREAT) !== 0;
  } catch {
    return false; // an unreadable open_how: the kernel answers EFAULT
  }
}
