/**
 * __NAME__: a vview module. In the view, everything under `dir` is read-only:
 * reads, stats and exec go to the kernel; any change answers EROFS, and each
 * process that was refused something says so on vview's stderr when it exits.
 *
 *   vview run --config view.yaml -- sh -c 'cat protected/hello.txt; touch protected/new'
 *   node --test              # runs __NAME__.test.mjs
 *
 * The module API is in vview's README ("Writing a module") and in the types
 * of 'vview'.
 */
import path from 'node:path';
import { changes, defineModule, errno, isReadOnlyOpen, mountPoint, OptionError, type Handler } from 'vview';

export interface Options {
  /** The protected directory, relative to the config file. */
  dir: string;
}

export default defineModule<Options>({
  name: '__NAME__',
  description: 'everything under `dir` is read-only in the view',

  // Runs when the config is loaded: check the options, name the bad key.
  options(raw, env): Options {
    const o = (raw ?? {}) as { dir?: unknown };
    if (typeof o.dir !== 'string' || o.dir === '') throw new OptionError(['dir'], 'expected a directory');
    // Absolute, and spelled the way native code reaches it (symlinks resolved).
    return { dir: mountPoint(path.resolve(env?.baseDir ?? process.cwd(), o.dir), 'dir') };
  },

  // Runs once when the view starts: returns what the module serves, as data.
  setup({ dir }, ctx) {
    const refused = ctx.perProcess(() => ({ count: 0 }), {
      exit: ({ count }, pid) => {
        if (count) ctx.warn(`process ${pid}: ${count} change(s) under ${dir} refused`);
      },
    });

    const guard: Handler = (call) => {
      // call.effect comes from the syscall table; an open is judged by its flags.
      const writes = call.effect === 'open' ? !isReadOnlyOpen(call.flags!) : changes(call.name);
      if (!writes) return undefined; // not ours to answer: the kernel runs it
      refused.get(call.pid).count++;
      return errno('EROFS');
    };

    return {
      // Every path syscall at or below dir, however the process spells the path.
      paths: { prefixes: [dir], other: guard },
    };
  },
});
