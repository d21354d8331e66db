// The README's example syscall module: files under `from` are read from `to`
// instead, and cannot be changed there; getppid() answers 1; each process
// that read through the redirection says how often when it exits.
import path from 'node:path';
import { changes, defineModule, errno, isReadOnlyOpen, mountPoint, OptionError, ret } from 'vview';

export default defineModule({
  name: 'redirect',
  description: 'reads under `from` come from `to`; changes there are EROFS',
  options(raw, env) {                       // checks the config; OptionError names the key
    const o = (raw ?? {}) as Record<string, unknown>;
    const dir = (key: string) => {
      if (typeof o[key] !== 'string') throw new OptionError([key], 'expected a directory');
      return mountPoint(path.resolve(env?.baseDir ?? '.', o[key]), key); // absolute, symlinks resolved
    };
    return { from: dir('from'), to: dir('to') };
  },
  setup({ from, to }, ctx) {
    const reads = ctx.perProcess(() => ({ count: 0 }), {
      exit: ({ count }, pid) => {
        if (count) ctx.warn(`process ${pid} read ${count} time(s) through ${from}`);
      },
    });
    return {
      syscalls: {
        getppid: () => ret(1),              // emulated: the kernel never runs it
      },
      paths: {
        prefixes: [from],                   // every path syscall at or below `from`, however it is spelled
        other(call) {
          const changing = call.effect === 'open' ? !isReadOnlyOpen(call.flags!) : changes(call.name);
          if (changing) return errno('EROFS');
          if (call.effect === 'open') reads.get(call.pid).count++;
          return call.rewritePath(to + call.path!.slice(from.length)); // the kernel runs it on `to`
        },
      },
    };
  },
});
