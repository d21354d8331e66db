/** Small validators for module options, raising OptionError with the key. */
import path from 'node:path';
import { OptionError } from '../index.js';

export function record(raw: unknown, allowed: string[]): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new OptionError([], 'expected a mapping of options');
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) throw new OptionError([k], `unknown option (expected one of: ${allowed.join(', ')})`);
  return raw as Record<string, unknown>;
}

export function optString(o: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new OptionError([key], 'expected a string');
  const s = String(v);
  if (Buffer.byteLength(s) > max) throw new OptionError([key], `longer than ${max} bytes`);
  return s;
}

export function absPaths(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0) throw new OptionError([key], 'expected a list of absolute paths');
  v.forEach((p, i) => {
    if (typeof p !== 'string' || !path.isAbsolute(p)) throw new OptionError([key, i], `expected an absolute path, got ${JSON.stringify(p)}`);
  });
  return v as string[];
}
