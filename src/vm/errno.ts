/** errno names, numbers and messages, from Node's own table of the host's. */
import os from 'node:os';
import util from 'node:util';

const byName = os.constants.errno as Record<string, number>;
const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(byName)) if (!byNumber.has(n)) byNumber.set(n, name);
// Built on first use (a 150-entry map; start-up does not need it).
let messages: Map<number, [string, string]> | undefined;

export type ErrnoName = keyof typeof os.constants.errno;

export function errnoNumber(e: ErrnoName | string | number): number {
  if (typeof e === 'number') return e;
  const n = byName[e];
  if (n === undefined) throw new Error(`unknown errno name ${e}`);
  return n;
}
export function errnoName(n: number): string {
  return byNumber.get(n) ?? `E${n}`;
}
export function errnoMessage(n: number): string {
  messages ??= util.getSystemErrorMap();
  const m = messages.get(-n)?.[1];
  return m ? m[0].toUpperCase() + m.slice(1) : `Unknown error ${n}`;
}
