/** File type and mode bits (stat(2), inode(7)), and what a file looks like in the view. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_IXGRP = 0o0010;

/** The ownership fields of a stat result, as the view shows them (the ownership view's type). */
export type { ShownStat as Shown } from '../../index.js';
