/**
 * What a process sees of its own paths. A mount's content lives in a host
 * directory (a bind source, a scratch mirror), and the kernel knows a process's
 * cwd, open files and executable by their host paths. Modules declare the host
 * directories they show elsewhere (ctx.showPath); this internal module maps
 * them back in getcwd and in readlink of /proc/PID/{cwd,exe,root,fd/N} and
 * /proc/PID/task/TID/..., and native code maps them when it takes a cwd or
 * dirfd as the base of a relative path.
 */
import fs from 'node:fs';
import { errno, ret, type ModuleInstance } from './module.js';
import type { Native } from './native.js';

/**
 * The aliases modules declare while they are set up; native code keeps them
 * (configure) and is the one place that maps a host path to the view's.
 */
export class PathAliases {
  private list: [string, string][] = [];

  add(host: string, view: string): void {
    this.list.push([host, view]);
  }

  /** [host directory, view path] pairs, for native code's configure(). */
  get entries(): readonly [string, string][] {
    return this.list;
  }
}

const PROC_LINK = /^\/proc\/\d+\/(?:task\/\d+\/)?(?:cwd|exe|root|fd\/\d+|map_files\/[^/]+)$/;

/** Reads a magic link of /proc as the monitor; undefined when it has no path. */
function readProcLink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

export function viewPathsModule(native: Native): ModuleInstance {
  /** The view's name for what a /proc link names (" (deleted)" kept), if it is aliased. */
  const viewOf = (link: string | undefined): string | undefined => {
    if (link === undefined) return undefined;
    const deleted = link.endsWith(' (deleted)');
    const view = native.viewPath(deleted ? link.slice(0, -10) : link);
    return view === undefined ? undefined : view + (deleted ? ' (deleted)' : '');
  };
  return {
    syscalls: {
      // Answered here: the host path may not fit a buffer the view path fits.
      getcwd: (call) => {
        const view = viewOf(readProcLink(`/proc/${call.tid}/cwd`));
        if (view === undefined || view.endsWith(' (deleted)')) return undefined;
        const out = Buffer.from(view + '\0');
        if (out.length > Number(call.ulong(1))) return errno('ERANGE');
        call.mem.write(call.ptr(0), out);
        return ret(out.length);
      },
    },
    paths: {
      prefixes: ['/proc'],
      syscalls: ['readlink', 'readlinkat'],
      other: (call) => {
        const p = call.path;
        if (!p || !PROC_LINK.test(p)) return undefined;
        const view = viewOf(readProcLink(p));
        if (view === undefined) return undefined;
        const [buf, size] = call.name === 'readlink' ? [call.ptr(1), call.int(2)] : [call.ptr(2), call.int(3)];
        if (size <= 0) return undefined; // EINVAL, from the kernel
        const out = Buffer.from(view).subarray(0, size); // readlink truncates silently
        call.mem.write(buf, out);
        return ret(out.length);
      },
    },
  };
}
