/**
 * fakeroot: a fake uid/gid, with ownership recorded instead of refused.
 *
 *   - fakeroot: { uid: 0, gid: 0, state: ./ownership.json }
 *   vview run --fakeroot -- cmd
 *
 * Processes see the configured ids (getuid & co, /proc/PID/status) and may
 * change them as root could (set*id change virtual credentials, per process,
 * inherited on fork, kept on exec, raised by a set-user-ID file). chown,
 * chmod bits the kernel refuses and device nodes (mknod) are recorded by inode
 * and shown by every stat-family call; files of the real user appear owned by
 * the fake ids. Everything is routed by syscall number, so static binaries
 * and raw syscalls are seen the same. With `state`, the records persist across
 * runs, keyed so that a file changed or replaced outside the view is detected.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  lockStateFile,
  defineModule, errno, errnoNumber, forward, isReadOnlyOpen, openFlags, ret, rewrite, specOf, OptionError,
  type Handler, type Handlers, type SyscallCall, type SyscallName,
} from '../../index.js';
import { record } from '../options.js';
import {
  KEEP, NGROUPS_MAX, execSetId, inGroup, initialCreds, setFsId, setGroups, setId, setReId, setResId, type Creds,
} from './creds.js';
import { Ownership, StateError } from './ownership.js';
import { S_IFBLK, S_IFCHR, S_IFMT, S_IFREG, S_ISGID, S_ISUID, S_IXGRP, type Shown } from './stat.js';
import { AT_FDCWD, hostPath, monitorPath, statTarget, type PathRef } from './target.js';

export interface FakerootOptions {
  uid: number;
  gid: number;
  /** Absolute path of the persistent state, if any. */
  state?: string;
}

const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
const RENAME_EXCHANGE = 2;
const EPERM = -errnoNumber('EPERM');

function id(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= KEEP) throw new OptionError([key], 'expected an id between 0 and 4294967294');
  return v;
}

const u32 = (v: bigint) => Number(v & 0xffffffffn);

export default defineModule<FakerootOptions>({
  name: 'fakeroot',
  description: 'fake uid/gid (default root); chown, chmod and mknod recorded, optionally persistent',
  options(raw, env): FakerootOptions {
    const o = record(raw ?? {}, ['uid', 'gid', 'state']);
    const out: FakerootOptions = { uid: id(o, 'uid'), gid: id(o, 'gid') };
    if (o.state !== undefined && o.state !== null) {
      if (typeof o.state !== 'string' || o.state === '') throw new OptionError(['state'], 'expected a file path');
      const file = path.resolve(env?.baseDir ?? process.cwd(), o.state);
      const dir = path.dirname(file);
      let st: fs.Stats;
      try {
        st = fs.statSync(dir);
      } catch {
        throw new OptionError(['state'], `the directory ${dir} does not exist`);
      }
      if (!st.isDirectory()) throw new OptionError(['state'], `${dir} is not a directory`);
      if (fs.existsSync(file) && !fs.statSync(file).isFile()) throw new OptionError(['state'], `${file} is not a regular file`);
      out.state = file;
    }
    return out;
  },

  setup(options, ctx) {
    const realUid = process.getuid?.() ?? 0;
    const realGid = process.getgid?.() ?? 0;
    const { uid: fakeUid, gid: fakeGid } = options;
    // What stat shows is applied by native code (no stop into JavaScript per stat).
    const shown = ctx.showOwnership({ realUid, realGid, fakeUid: options.uid, fakeGid: options.gid });
    const db = new Ownership((dev, ino, o) => shown.set(dev, ino, o ?? null));
    // One run at a time on a state file: a second one stops here (exit status 75).
    const lock = options.state ? lockStateFile(options.state, 'the fakeroot state') : undefined;
    if (options.state) {
      let dropped: string[];
      try {
        dropped = db.load(options.state);
      } catch (e) {
        lock?.release();
        if (e instanceof StateError) throw new Error(`state: ${e.message}`);
        throw e;
      }
      if (dropped.length) {
        const shown = dropped.slice(0, 10).join(', ');
        ctx.warn(`${options.state}: ${dropped.length} recorded owner(s) dropped, their files were changed, replaced or deleted outside the view: ${shown}${dropped.length > 10 ? ', ...' : ''}`);
      }
    }
    const creds = ctx.perProcess<Creds>(() => initialCreds(fakeUid, fakeGid));

    /** What a file's metadata looks like in the view (native code's stat view decides). */
    const viewOf = (st: fs.BigIntStats): Shown =>
      shown.show({ dev: st.dev, ino: st.ino, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: st.rdev });

    // ---- identity ------------------------------------------------------------
    const c = (call: SyscallCall) => creds.get(call.pid);
    const putIds = (call: SyscallCall, ids: number[]) => {
      ids.forEach((v, i) => {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(v >>> 0);
        call.mem.write(call.ptr(i), b);
      });
      return ret(0);
    };
    const getGroups = (call: SyscallCall) => {
      const size = call.int(0);
      const g = c(call).groups;
      if (size < 0) return errno('EINVAL');
      if (size === 0) return ret(g.length);
      if (size < g.length) return errno('EINVAL');
      const b = Buffer.alloc(g.length * 4);
      g.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
      if (b.length) call.mem.write(call.ptr(1), b);
      return ret(g.length);
    };
    const setGroupsCall = (call: SyscallCall) => {
      const size = call.int(0);
      if (size < 0 || size > NGROUPS_MAX) return errno('EINVAL');
      const b = size ? call.mem.read(call.ptr(1), size * 4) : Buffer.alloc(0);
      const groups: number[] = [];
      for (let i = 0; i < size; i++) groups.push(b.readUInt32LE(i * 4));
      setGroups(c(call), groups);
      return ret(0);
    };
    const identityCalls: Handlers = {
      getuid: (call) => ret(c(call).ruid),
      geteuid: (call) => ret(c(call).euid),
      getgid: (call) => ret(c(call).rgid),
      getegid: (call) => ret(c(call).egid),
      getresuid: (call) => { const x = c(call); return putIds(call, [x.ruid, x.euid, x.suid]); },
      getresgid: (call) => { const x = c(call); return putIds(call, [x.rgid, x.egid, x.sgid]); },
      getgroups: getGroups,
      setuid: (call) => { setId(c(call), 'uid', u32(call.ulong(0))); return ret(0); },
      setgid: (call) => { setId(c(call), 'gid', u32(call.ulong(0))); return ret(0); },
      setreuid: (call) => { setReId(c(call), 'uid', u32(call.ulong(0)), u32(call.ulong(1))); return ret(0); },
      setregid: (call) => { setReId(c(call), 'gid', u32(call.ulong(0)), u32(call.ulong(1))); return ret(0); },
      setresuid: (call) => { setResId(c(call), 'uid', u32(call.ulong(0)), u32(call.ulong(1)), u32(call.ulong(2))); return ret(0); },
      setresgid: (call) => { setResId(c(call), 'gid', u32(call.ulong(0)), u32(call.ulong(1)), u32(call.ulong(2))); return ret(0); },
      setfsuid: (call) => ret(setFsId(c(call), 'uid', u32(call.ulong(0)))),
      setfsgid: (call) => ret(setFsId(c(call), 'gid', u32(call.ulong(0)))),
      setgroups: setGroupsCall,
    };

    // ---- the calls that record ----------------------------------------------
    const tryStat = (r: PathRef) => {
      try {
        return statTarget(r);
      } catch {
        return undefined;
      }
    };
    const ref = (call: SyscallCall, dirfdArg: number | null, pathArg: number | null, follow: boolean, emptyPath = false): PathRef => {
      // The path native code already read and resolved (when a mount made the
      // call a path candidate), else read here. The file itself is then found
      // through the tracee's own /proc links, the kernel's walk (see target.ts).
      const i = pathArg === null ? -1 : (specOf(call.name).paths ?? []).findIndex((p) => p.arg === pathArg);
      // (A path native code could not read or resolve has no canonical form:
      // read it here, so a bad pointer gets the kernel's EFAULT.)
      const seen = i >= 0 && call.paths[i]?.canonical !== undefined ? call.paths[i] : undefined;
      const raw = pathArg === null ? '' : seen ? seen.raw : call.mem.readString(call.ptr(pathArg));
      return {
        pid: call.pid,
        tid: call.tid,
        dirfd: dirfdArg === null ? AT_FDCWD : call.int(dirfdArg),
        raw,
        follow,
        emptyPath: pathArg === null || emptyPath,
        // Below a mount (vfs, bind) the file is where the view's path leads on the host.
        host: raw === '' ? undefined : seen?.host,
      };
    };

    const chown = (r: PathRef, call: SyscallCall, uidArg: number, gidArg: number) => {
      const { st, where } = statTarget(r);
      const me = c(call);
      const cur = viewOf(st);
      const uid = u32(call.ulong(uidArg));
      const gid = u32(call.ulong(gidArg));
      // chown(2)'s rules, with CAP_CHOWN meaning a file-system uid of 0.
      const cap = me.fsuid === 0;
      if (uid !== KEEP && !cap && !(me.fsuid === cur.uid && uid === cur.uid)) return errno('EPERM');
      if (gid !== KEEP && !cap && !(me.fsuid === cur.uid && (gid === cur.gid || inGroup(me, gid)))) return errno('EPERM');
      db.update(st.dev, st.ino, hostPath(where, r.follow || r.raw === ''), (o) => {
        if (uid !== KEEP) o.uid = uid;
        if (gid !== KEEP) o.gid = gid;
        // A change of owner clears set-user-ID, and set-group-ID on a group-executable file.
        if ((uid !== KEEP || gid !== KEEP) && !st.isDirectory()) {
          const perm = cur.mode & 0o7777;
          const kept = perm & ~S_ISUID & ~(perm & S_IXGRP ? S_ISGID : 0);
          if (kept !== perm) o.perm = kept;
        }
      });
      return ret(0);
    };

    const chmod = (r: PathRef, call: SyscallCall, modeArg: number) => {
      const { st, where } = statTarget(r);
      const perm = call.int(modeArg) & 0o7777;
      const follow = r.follow || r.raw === '';
      return forward((exit) => {
        if (exit.result === 0) {
          // The kernel may silently drop set-group-ID (not in the file's group).
          let now: fs.BigIntStats;
          try {
            now = follow ? fs.statSync(where, { bigint: true }) : fs.lstatSync(where, { bigint: true });
          } catch {
            return;
          }
          const o = db.get(now.dev, now.ino);
          if ((Number(now.mode) & 0o7777) === perm) {
            if (o?.perm !== undefined) db.update(now.dev, now.ino, undefined, (x) => delete x.perm);
          } else db.update(now.dev, now.ino, hostPath(where, follow), (x) => (x.perm = perm));
          return;
        }
        if (exit.result === EPERM) {
          const me = creds.get(exit.pid);
          if (me.fsuid === 0 || me.fsuid === viewOf(st).uid) {
            db.update(st.dev, st.ino, hostPath(where, follow), (x) => (x.perm = perm));
            return 0;
          }
        }
      });
    };

    const mknod = (r: PathRef, call: SyscallCall, modeArg: number, devArg: number) => {
      const mode = u32(call.ulong(modeArg));
      const type = mode & S_IFMT;
      if (type !== S_IFCHR && type !== S_IFBLK) return undefined; // fifo, socket, regular: the kernel's
      if (c(call).fsuid !== 0) return errno('EPERM');
      const rdev = BigInt(u32(call.ulong(devArg)));
      // An empty regular file stands for the node; stat shows the device.
      return rewrite({ [modeArg]: S_IFREG | (mode & 0o7777), [devArg]: 0 }, (exit) => {
        if (exit.result !== 0) return;
        const { st, where } = statTarget({ ...r, follow: false });
        db.update(st.dev, st.ino, hostPath(where, false), (x) => (x.device = { type: type === S_IFCHR ? 'chr' : 'blk', rdev }));
      });
    };

    /** unlink, rmdir: a record dies with the inode's last name (its number may be reused). */
    const unlink = (r: PathRef) => {
      if (db.size === 0) return undefined;
      const t = tryStat(r);
      if (!t) return undefined; // the kernel fails the call
      const o = db.get(t.st.dev, t.st.ino);
      if (!o) return undefined;
      const last = t.st.isDirectory() || t.st.nlink <= 1n;
      const hp = hostPath(t.where, false);
      return forward((exit) => {
        if (exit.result !== 0) return;
        if (last) db.drop(t.st.dev, t.st.ino);
        else if (hp) o.paths.delete(hp);
      });
    };

    /** rename: records follow their files; a replaced file's record dies. */
    const rename = (from: PathRef, to: PathRef, flags: number) => {
      if (db.size === 0) return undefined;
      const src = tryStat(from);
      if (!src) return undefined; // the kernel fails the call
      const dst = tryStat(to); // undefined: a new name
      const fromPath = hostPath(src.where, false);
      const toPath = hostPath(dst?.where ?? monitorPath(to), false);
      if (!fromPath || !toPath) return undefined;
      const victim = dst && !(dst.st.dev === src.st.dev && dst.st.ino === src.st.ino) ? db.get(dst.st.dev, dst.st.ino) : undefined;
      const lastName = dst && (dst.st.isDirectory() || dst.st.nlink <= 1n);
      return forward((exit) => {
        if (exit.result !== 0) return;
        if (flags & RENAME_EXCHANGE) {
          const tmp = `${fromPath}\0exchange`;
          db.renamed(fromPath, tmp);
          db.renamed(toPath, fromPath);
          db.renamed(tmp, toPath);
          return;
        }
        if (victim && dst && lastName) db.drop(dst.st.dev, dst.st.ino);
        db.renamed(fromPath, toPath);
      });
    };

    /** link: one more name for a recorded inode. */
    const link = (from: PathRef, to: PathRef) => {
      if (db.size === 0) return undefined;
      const src = tryStat(from);
      if (!src) return undefined; // the kernel fails the call
      const o = db.get(src.st.dev, src.st.ino);
      if (!o) return undefined;
      const toPath = hostPath(monitorPath(to), false);
      return forward((exit) => {
        if (exit.result === 0 && toPath) o.paths.add(toPath);
      });
    };

    /**
     * execve: a set-user-ID / set-group-ID file raises the virtual ids, and the
     * saved ids become the effective ones (execve(2)).
     */
    const exec = (r: PathRef, pid: number) => {
      const t = tryStat(r);
      if (!t) return undefined; // the kernel fails the call
      if (!t.st.isFile()) return undefined;
      const v = viewOf(t.st);
      const uid = v.mode & S_ISUID ? v.uid : undefined;
      const gid = v.mode & S_ISGID && v.mode & S_IXGRP ? v.gid : undefined;
      const me = creds.get(pid);
      if (uid === undefined && gid === undefined && me.suid === me.euid && me.sgid === me.egid) return undefined;
      return forward((exit) => {
        if (exit.result === 0) execSetId(creds.get(exit.pid), uid, gid);
      });
    };

    const fileCalls: Handlers = {
      chown: (call) => chown(ref(call, null, 0, true), call, 1, 2),
      lchown: (call) => chown(ref(call, null, 0, false), call, 1, 2),
      fchown: (call) => (call.int(0) < 0 ? errno('EBADF') : chown(ref(call, 0, null, true), call, 1, 2)),
      fchownat: (call) => {
        const fl = call.int(4);
        return chown(ref(call, 0, 1, !(fl & AT_SYMLINK_NOFOLLOW), !!(fl & AT_EMPTY_PATH)), call, 2, 3);
      },

      chmod: (call) => chmod(ref(call, null, 0, true), call, 1),
      fchmod: (call) => (call.int(0) < 0 ? errno('EBADF') : chmod(ref(call, 0, null, true), call, 1)),
      fchmodat: (call) => chmod(ref(call, 0, 1, true), call, 2),
      fchmodat2: (call) => {
        const fl = call.int(3);
        return chmod(ref(call, 0, 1, !(fl & AT_SYMLINK_NOFOLLOW), !!(fl & AT_EMPTY_PATH)), call, 2);
      },

      mknod: (call) => mknod(ref(call, null, 0, false), call, 1, 2),
      mknodat: (call) => mknod(ref(call, 0, 1, false), call, 2, 3),

      unlink: (call) => unlink(ref(call, null, 0, false)),
      rmdir: (call) => unlink(ref(call, null, 0, false)),
      unlinkat: (call) => (call.int(2) & ~AT_REMOVEDIR ? undefined : unlink(ref(call, 0, 1, false))),
      rename: (call) => rename(ref(call, null, 0, false), ref(call, null, 1, false), 0),
      renameat: (call) => rename(ref(call, 0, 1, false), ref(call, 2, 3, false), 0),
      renameat2: (call) => rename(ref(call, 0, 1, false), ref(call, 2, 3, false), call.int(4)),
      link: (call) => link(ref(call, null, 0, false), ref(call, null, 1, false)),
      linkat: (call) => {
        const fl = call.int(4);
        return link(ref(call, 0, 1, !!(fl & AT_SYMLINK_FOLLOW), !!(fl & AT_EMPTY_PATH)), ref(call, 2, 3, false));
      },

      execve: (call) => exec(ref(call, null, 0, true), call.pid),
      execveat: (call) => {
        const fl = call.int(4);
        return exec(ref(call, 0, 1, !(fl & AT_SYMLINK_NOFOLLOW), !!(fl & AT_EMPTY_PATH)), call.pid);
      },
    };

    // ---- /proc/PID/status of the view's processes ---------------------------
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-fakeroot-'));
    let serial = 0;
    const STATUS = /^\/proc\/(\d+)(?:\/task\/(\d+))?\/status$/;
    const status = (pathArg: number): Handler => (call) => {
      const p = call.path;
      const m = p && STATUS.exec(p);
      if (!m) return undefined;
      const pid = ctx.processOf(Number(m[1]));
      if (pid === undefined) return undefined; // not in the view: the real one
      if (!isReadOnlyOpen(openFlags(call))) return undefined; // the kernel refuses
      let text: string;
      try {
        text = fs.readFileSync(p, 'utf8');
      } catch {
        return undefined; // gone: the kernel says so
      }
      const x = creds.get(pid);
      text = text
        .replace(/^Uid:.*$/m, `Uid:\t${x.ruid}\t${x.euid}\t${x.suid}\t${x.fsuid}`)
        .replace(/^Gid:.*$/m, `Gid:\t${x.rgid}\t${x.egid}\t${x.sgid}\t${x.fsgid}`)
        .replace(/^Groups:.*$/m, `Groups:\t${x.groups.map((g) => `${g} `).join('')}`);
      const file = path.join(scratch, `status-${++serial}`);
      fs.writeFileSync(file, text, { mode: 0o400 });
      // The open file outlives its name.
      return rewrite({ [pathArg]: file }, () => {
        fs.rmSync(file, { force: true });
      });
    };

    return {
      syscalls: { ...identityCalls, ...fileCalls },
      paths: {
        prefixes: ['/proc'],
        syscalls: ['open', 'openat', 'openat2'] as SyscallName[],
        handlers: {
          open: status(0),
          openat: status(1),
          openat2: status(1),
        },
      },
      close() {
        fs.rmSync(scratch, { recursive: true, force: true });
        if (options.state) {
          try {
            const r = db.save(options.state);
            if (r.lost) ctx.warn(`${r.lost} recorded owner(s) not saved: their files no longer exist`);
          } finally {
            lock?.release();
          }
        }
      },
    };
  },
});
