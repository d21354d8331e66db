/** Mount points: validated, and spelled as native code's walk reaches them. */
import fs from 'node:fs';
import path from 'node:path';
import { OptionError } from '../module.js';

/**
 * An absolute mount point, with its existing ancestors' host symlinks resolved
 * (native code's walk reaches "/var/run/x" as "/run/x"). key: the option's name
 * for errors.
 */
export function mountPoint(raw: unknown, key: string): string {
  if (typeof raw !== 'string' || raw === '') throw new OptionError([key], 'expected an absolute path');
  if (!path.isAbsolute(raw)) throw new OptionError([key], `must be an absolute path, got ${JSON.stringify(raw)}`);
  const norm = path.posix.normalize(raw).replace(/\/+$/, '') || '/';
  if (norm === '/') throw new OptionError([key], 'cannot mount over /');
  // The longest existing ancestor, resolved; the rest as written.
  let dir = norm;
  const rest: string[] = [];
  for (;;) {
    try {
      dir = fs.realpathSync(dir);
      break;
    } catch {
      rest.unshift(path.posix.basename(dir));
      dir = path.posix.dirname(dir);
    }
  }
  return rest.length ? path.posix.join(dir, ...rest) : dir;
}
