/**
 * Children of the monitor process itself (a module's child_process, tsx's
 * esbuild service) are libuv's to reap. While one may be alive, the tracer
 * peeks at wait events before consuming them; otherwise it takes the cheaper
 * single waitpid. Every Node child goes through ChildProcess.prototype.spawn.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { native } from './native.js';

let live = 0;
let installed = false;

export function watchOwnChildren(): void {
  if (installed) return;
  installed = true;
  // Loaded here, not imported: a view with no module never needs it (start-up).
  const { ChildProcess } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  // spawn() is on the prototype, though @types/node does not declare it.
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, ...args: unknown[]) => unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    if (live++ === 0) native().setPeek(true);
    this.once('exit', () => {
      if (--live === 0) native().setPeek(false);
    });
    return spawn.apply(this, args);
  };
}
