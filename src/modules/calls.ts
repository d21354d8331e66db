/** Decoding shared by the built-in modules (the core's, re-exported for modules). */
export { O_ACCMODE, O_CREAT, O_TRUNC, openFlags, isReadOnlyOpen } from '../vm/syscalls/open.js';
