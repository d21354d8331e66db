/**
 * Virtual credentials of one process, and the kernel's rules for changing them
 * (setresuid(2), setreuid(2), setfsuid(2), credentials(7)), with "privileged"
 * meaning what CAP_SETUID/CAP_SETGID mean for a root process: the effective id
 * is 0. The real credentials never change; only these do.
 */
import { SyscallError } from '../../index.js';

export interface Creds {
  ruid: number;
  euid: number;
  suid: number;
  fsuid: number;
  rgid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  groups: number[];
}

/** (uid_t)-1: "leave unchanged" in the set*id calls. */
export const KEEP = 0xffffffff;
export const NGROUPS_MAX = 65536;

export function initialCreds(uid: number, gid: number): Creds {
  return { ruid: uid, euid: uid, suid: uid, fsuid: uid, rgid: gid, egid: gid, sgid: gid, fsgid: gid, groups: [gid] };
}

type Kind = 'uid' | 'gid';
const fields = (k: Kind) =>
  k === 'uid' ? (['ruid', 'euid', 'suid', 'fsuid'] as const) : (['rgid', 'egid', 'sgid', 'fsgid'] as const);

/** Only a process whose effective uid is 0 holds CAP_SETUID / CAP_SETGID. */
const privileged = (c: Creds) => c.euid === 0;

function eperm(): never {
  throw new SyscallError('EPERM');
}

/** setuid(2) / setgid(2). */
export function setId(c: Creds, k: Kind, id: number): void {
  if (id === KEEP) throw new SyscallError('EINVAL');
  const [r, e, s, fs] = fields(k);
  if (privileged(c)) {
    c[r] = c[e] = c[s] = c[fs] = id;
  } else if (id === c[r] || id === c[s]) {
    c[e] = c[fs] = id;
  } else eperm();
}

/** setreuid(2) / setregid(2). */
export function setReId(c: Creds, k: Kind, rid: number, eid: number): void {
  const [r, e, s, fs] = fields(k);
  if (!privileged(c)) {
    if (rid !== KEEP && rid !== c[r] && rid !== c[e]) eperm();
    if (eid !== KEEP && eid !== c[r] && eid !== c[e] && eid !== c[s]) eperm();
  }
  const oldR = c[r];
  if (rid !== KEEP) c[r] = rid;
  if (eid !== KEEP) c[e] = eid;
  // "If the real user ID is set or the effective user ID is set to a value not
  // equal to the previous real user ID, the saved set-user-ID will be set to
  // the new effective user ID."
  if (rid !== KEEP || (eid !== KEEP && eid !== oldR)) c[s] = c[e];
  c[fs] = c[e];
}

/** setresuid(2) / setresgid(2). */
export function setResId(c: Creds, k: Kind, rid: number, eid: number, sid: number): void {
  const [r, e, s, fs] = fields(k);
  if (!privileged(c)) {
    const allowed = [c[r], c[e], c[s]];
    for (const id of [rid, eid, sid]) if (id !== KEEP && !allowed.includes(id)) eperm();
  }
  if (rid !== KEEP) c[r] = rid;
  if (eid !== KEEP) c[e] = eid;
  if (sid !== KEEP) c[s] = sid;
  c[fs] = c[e];
}

/** setfsuid(2) / setfsgid(2): always answers the previous value; changes it when allowed. */
export function setFsId(c: Creds, k: Kind, id: number): number {
  const [r, e, s, fs] = fields(k);
  const old = c[fs];
  if (id !== KEEP && (privileged(c) || [c[r], c[e], c[s], c[fs]].includes(id))) c[fs] = id;
  return old;
}

/** setgroups(2). */
export function setGroups(c: Creds, groups: number[]): void {
  if (!privileged(c)) eperm();
  c.groups = groups;
}

/** What execve of a set-user-ID / set-group-ID file does to the ids. */
export function execSetId(c: Creds, uid: number | undefined, gid: number | undefined): void {
  if (uid !== undefined) c.euid = c.fsuid = uid;
  if (gid !== undefined) c.egid = c.fsgid = gid;
  c.suid = c.euid;
  c.sgid = c.egid;
}

/** Whether a process with these credentials may create a file owned by gid as a non-root owner. */
export function inGroup(c: Creds, gid: number): boolean {
  return gid === c.fsgid || c.groups.includes(gid);
}
