/**
 * Path resolution below a mount point, with the view's meaning: the mount's
 * content is a host directory (a bind source, or the scratch mirror of a
 * virtual tree), but a symlink in it that names an absolute path means that
 * path in the view, and ".." at the mount point leads to the mount point's real
 * parent, not to the host directory's.
 *
 * Native code stops its own walk at the mount point and hands up the rest of
 * the path as the process gave it; this walk finishes it. It looks up only what
 * it must (symlinks and directories on the way); the last step is left to the
 * kernel on the host path, so errors (ENOENT, ENOTDIR, EEXIST, ...) and the
 * final lookup are the kernel's own.
 */
import fs from 'node:fs';
import path from 'node:path';

const MAX_SYMLINKS = 40; // the kernel's MAXSYMLINKS

export type Resolved =
  /** Inside the mount. rel: the mount-relative path ("/" is the root), exact
   *  when `complete`; host: where the kernel finds it. */
  | { where: 'in'; rel: string; host: string; complete: boolean }
  /** It leaves the mount (".." at the top, a symlink out): the kernel resolves `path`. */
  | { where: 'out'; path: string }
  | { where: 'error'; errno: 'ELOOP' | 'ENAMETOOLONG' };

export class MountPaths {
  constructor(
    /** The mount point, canonical, in the view. */
    readonly mount: string,
    /** The host directory holding the content. */
    readonly hostRoot: string,
  ) {}

  /** The host path of a mount-relative path. */
  host(rel: string): string {
    return rel === '/' ? this.hostRoot : this.hostRoot + rel;
  }

  /** The view path of a mount-relative path. */
  view(rel: string): string {
    return rel === '/' ? this.mount : this.mount === '/' ? rel : this.mount + rel;
  }

  /** True when p (a view path) is the mount point or below it. */
  contains(p: string): boolean {
    return p === this.mount || this.mount === '/' || p.startsWith(this.mount + '/');
  }

  /**
   * Resolves `p`, a path that native code found at or below the mount point
   * (the part after the mount point as the process gave it). follow: a final
   * symlink is followed.
   */
  resolve(p: string, follow: boolean): Resolved {
    return this.walk(p, follow, { links: 0 });
  }

  private walk(p: string, follow: boolean, state: { links: number }): Resolved {
    let slash = p.length > 1 && p.endsWith('/');
    const comps = split(p.slice(this.mount === '/' ? 0 : this.mount.length));
    const cur: string[] = [];
    while (comps.length) {
      const c = comps.shift()!;
      const last = comps.length === 0;
      if (c === '.' || c === '..') {
        // "x/." and "x/.." need x to be a directory, like a trailing slash.
        if (last) slash = true;
        if (c === '.') continue;
        if (cur.length === 0) return this.outside(path.posix.dirname(this.mount), comps, slash, follow, state);
        cur.pop();
        continue;
      }
      if (c.length > 255) return { where: 'error', errno: 'ENAMETOOLONG' };
      cur.push(c);
      if (last && !follow && !slash) break;
      const host = this.host('/' + cur.join('/'));
      let st: fs.Stats;
      try {
        st = fs.lstatSync(host);
      } catch {
        // Missing or unreachable: the kernel fails the call (or creates the name) itself.
        return this.inside(cur, comps, slash);
      }
      if (st.isSymbolicLink()) {
        if (++state.links > MAX_SYMLINKS) return { where: 'error', errno: 'ELOOP' };
        let target: string;
        try {
          target = fs.readlinkSync(host);
        } catch {
          return this.inside(cur, comps, slash);
        }
        cur.pop();
        if (last && target.endsWith('/')) slash = true;
        if (target.startsWith('/')) {
          // An absolute target names a path of the view.
          if (!this.contains(target.replace(/\/+$/, '') || '/')) return this.outside(target, comps, slash, follow, state);
          cur.length = 0;
          comps.unshift(...split(target.slice(this.mount === '/' ? 0 : this.mount.length)));
        } else {
          comps.unshift(...split(target));
        }
        continue;
      }
      if (!st.isDirectory() && !last) return this.inside(cur, comps, slash); // ENOTDIR, from the kernel
    }
    return this.inside(cur, [], slash);
  }

  private inside(cur: string[], rest: string[], slash: boolean): Resolved {
    const rel = '/' + cur.join('/');
    let host = this.host(rel);
    if (rest.length) host += '/' + rest.join('/');
    if (slash && !host.endsWith('/')) host += '/';
    return { where: 'in', rel, host, complete: rest.length === 0 };
  }

  /** The walk left the mount at `from`: the kernel resolves the rest, unless it comes back in. */
  private outside(from: string, rest: string[], slash: boolean, follow: boolean, state: { links: number }): Resolved {
    let p = from;
    for (const r of rest) p = p.endsWith('/') ? p + r : p + '/' + r;
    if (slash && !p.endsWith('/')) p += '/';
    // "/m/../m/x", "/m/../m/../etc": the host has no /m (or another one), so the
    // way back through the mount point is taken here, lexically (a host
    // symlink on the way back in is not seen).
    const lex: string[] = split(from);
    let through = false;
    for (const r of rest) {
      if (r === '..') lex.pop();
      else if (r !== '.') lex.push(r);
      if (this.contains('/' + lex.join('/'))) through = true;
    }
    if (through) {
      const norm = '/' + lex.join('/');
      if (this.contains(norm)) return this.walk(slash ? norm + '/' : norm, follow, state);
      return { where: 'out', path: slash && norm !== '/' ? norm + '/' : norm };
    }
    return { where: 'out', path: p };
  }
}

function split(p: string): string[] {
  return p.split('/').filter((c) => c.length > 0);
}
