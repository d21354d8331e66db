/**
 * import() of code that is not part of vview: a module file a config names,
 * and tsx for a TypeScript one. bin/vview.cjs runs vview from one bundled
 * file compiled with vm.Script from a V8 code cache, where import() has no
 * loader of its own; it leaves a real import() under this key. Unbundled
 * (dist/src, tests, embedders) this is a plain import().
 */
const HOST_IMPORT = Symbol.for('vview.import');

export function importOutside<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const host = (globalThis as Record<symbol, unknown>)[HOST_IMPORT] as ((s: string) => Promise<T>) | undefined;
  return host ? host(specifier) : (import(specifier) as Promise<T>);
}
