/**
 * net: the view's network — offline, an allow-list of destinations, a port map,
 * and its own host name. Routed by syscall number (socket, connect, bind, listen,
 * sendto with a destination, sendmsg, sendmmsg, getsockname, getpeername, uname,
 * sethostname) and, only when `hostname` is set, by path (/etc/hostname,
 * /proc/sys/kernel/hostname).
 *
 *   - net:
 *       mode: allow                     # offline | allow | open
 *       allow: [ "127.0.0.0/8:*", "[::1]:*", "10.1.2.3:443" ]
 *       deny_errno: ECONNREFUSED        # default ENETUNREACH
 *       ports: { "80": 8080 }           # the program's port -> the host's port
 *       hostname: sandbox
 *
 * Rules, all decided on the address the program wrote (before the port map):
 *   - Addresses are compared as IPv6: 1.2.3.4, ::ffff:1.2.3.4 are one address.
 *   - allow: connect, sendto/sendmsg/sendmmsg destinations, bind and listen must
 *     match an entry ("ADDR[/PREFIX]:PORT|*", IPv6 in brackets). A refused
 *     connect/send answers deny_errno; a refused bind/listen EADDRNOTAVAIL.
 *     A bind to the wildcard address that the list does not cover is made on
 *     loopback instead (::1 or 127.0.0.1, when allowed); getsockname still
 *     shows the wildcard. Packet and raw sockets are refused (they bypass
 *     addresses).
 *   - offline: no network. AF_INET/AF_INET6/AF_PACKET/AF_NETLINK-route and the
 *     other network families cannot be created, unless `allow` lists loopback
 *     destinations (only loopback entries are accepted in offline mode); then
 *     inet sockets work for those destinations only, and port 53 is reachable
 *     only through an entry that names port 53 (a host's stub resolver on
 *     loopback would otherwise reach the network). connect() to the
 *     nscd / systemd-resolved sockets is refused too, so name lookups fail at
 *     once instead of reaching the network.
 *   - open: no checks; the port map and host name only.
 *   - ports: bind and connect/send destinations on a mapped port go to the
 *     host's port; getsockname/getpeername of those sockets answer the
 *     program's port. What the kernel reports about *other* ends at receive
 *     time (accept, recvfrom, recvmsg) is left as the kernel sees it.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  defineModule, errno, forward, ret, rewrite, OptionError,
  changes, isReadOnlyOpen,
  type Action, type ErrnoName, type Handler, type Handlers, type ModuleDefinition, type ModuleInstance, type SyscallCall,
  type SyscallExit, type ViewConfig,
} from '../index.js';
import { optString, record } from './options.js';

export type NetMode = 'offline' | 'allow' | 'open';

interface Rule {
  text: string;
  addr: Buffer; // 16 bytes, IPv4 as ::ffff:a.b.c.d
  bits: number; // prefix length over the 16 bytes
  port: number | null; // null: any
}

export interface NetOptions {
  mode: NetMode;
  allow: Rule[];
  denyErrno: ErrnoName;
  ports: Map<number, number>;
  hostname?: string;
}

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const AF_PACKET = 17;
const AF_ALG = 38;
const NETLINK_ROUTE = 0;
const SOCK_RAW = 3;
const SOCK_PACKET = 10;
const HOST_NAME_MAX = 64;
const MSGHDR = 56; // struct msghdr on x86-64
const MMSGHDR = 64; // struct mmsghdr: msghdr + msg_len + padding
const UIO_MAXIOV = 1024;

/** Name-service daemons reached over AF_UNIX; they would resolve through the host's network. */
const RESOLVER_SOCKETS = ['/run/systemd/resolve/io.systemd.Resolve', '/run/nscd/socket', '/var/run/nscd/socket'];

// ---- addresses -------------------------------------------------------------------

function v4(bytes: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(16);
  b[10] = 0xff;
  b[11] = 0xff;
  for (let i = 0; i < 4; i++) b[12 + i] = bytes[i];
  return b;
}

function parseV4(s: string): Buffer | undefined {
  if (!net.isIPv4(s)) return undefined;
  return v4(s.split('.').map(Number));
}

function parseV6(s: string): Buffer | undefined {
  if (s.includes('%') || !net.isIPv6(s)) return undefined;
  let head = s;
  let tail: number[] | undefined;
  if (s.includes('.')) {
    const i = s.lastIndexOf(':');
    tail = s.slice(i + 1).split('.').map(Number);
    head = s.slice(0, i + 1) + '0:0';
  }
  const groups = (x: string) => (x ? x.split(':').map((h) => parseInt(h, 16)) : []);
  let g: number[];
  const dbl = head.indexOf('::');
  if (dbl >= 0) {
    const l = groups(head.slice(0, dbl));
    const r = groups(head.slice(dbl + 2));
    g = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  } else g = groups(head);
  if (g.length !== 8) return undefined;
  const b = Buffer.alloc(16);
  g.forEach((x, i) => b.writeUInt16BE(x, i * 2));
  if (tail) for (let i = 0; i < 4; i++) b[12 + i] = tail[i];
  return b;
}

function isMapped(a: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

function isWildcard(a: Buffer): boolean {
  if (isMapped(a)) return a.readUInt32BE(12) === 0;
  return a.every((x) => x === 0);
}

function inPrefix(a: Buffer, net16: Buffer, bits: number): boolean {
  const full = bits >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== net16[i]) return false;
  const rest = bits & 7;
  if (!rest) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[full] & mask) === (net16[full] & mask);
}

const LOOP4 = v4([127, 0, 0, 1]);
const LOOP6 = (() => {
  const b = Buffer.alloc(16);
  b[15] = 1;
  return b;
})();

// ---- options ---------------------------------------------------------------------

function parsePort(s: string, key: (string | number)[], what: string): number {
  if (!/^\d+$/.test(s)) throw new OptionError(key, `${what}: expected a port number (1-65535)${key[0] === 'allow' ? ' or *' : ''}, got ${JSON.stringify(s)}`);
  const n = Number(s);
  if (n < 1 || n > 65535) throw new OptionError(key, `${what}: port ${s} is out of range (1-65535)`);
  return n;
}

export function parseRule(text: unknown, key: (string | number)[]): Rule {
  if (typeof text !== 'string') throw new OptionError(key, 'expected "ADDRESS[/PREFIX]:PORT" (PORT may be *), e.g. "127.0.0.0/8:*" or "[::1]:443"');
  // "ADDR[/P]:PORT" or "[ADDR6[/P]]:PORT" or "[ADDR6]/P:PORT"
  const m = /^(?:\[([^\]]+)\]|([^:[\]/]+))(?:\/([^:]*))?:([^:]*)$/.exec(text.trim());
  if (!m) throw new OptionError(key, `${JSON.stringify(text)}: expected "ADDRESS[/PREFIX]:PORT" (PORT may be *; IPv6 in brackets, e.g. "[::1]:*")`);
  const v6 = m[1] !== undefined;
  let addrText = m[1] ?? m[2];
  let prefixText = m[3];
  const portText = m[4];
  if (v6 && addrText.includes('/')) {
    if (prefixText !== undefined) throw new OptionError(key, `${JSON.stringify(text)}: two prefixes`);
    [addrText, prefixText] = addrText.split('/', 2);
  }
  const addr = v6 ? parseV6(addrText) : parseV4(addrText);
  if (!addr) throw new OptionError(key, `${JSON.stringify(text)}: ${JSON.stringify(addrText)} is not an ${v6 ? 'IPv6' : 'IPv4'} address${v6 ? '' : ' (IPv6 goes in brackets)'}`);
  const max = v6 ? 128 : 32;
  let bits = 128;
  if (prefixText !== undefined) {
    const p = Number(prefixText);
    if (!/^\d+$/.test(prefixText) || p > max) throw new OptionError(key, `${JSON.stringify(text)}: invalid CIDR prefix /${prefixText} (0-${max})`);
    bits = v6 ? p : 96 + p;
  }
  const port = portText === '*' ? null : parsePort(portText, key, JSON.stringify(text));
  return { text, addr, bits, port };
}

function parseMode(v: unknown): NetMode | undefined {
  if (v === undefined || v === null) return undefined;
  if (v !== 'offline' && v !== 'allow' && v !== 'open') throw new OptionError(['mode'], `expected offline, allow or open, got ${JSON.stringify(v)}`);
  return v;
}

export function parseNetOptions(raw: unknown): NetOptions {
  const o = record(raw ?? {}, ['mode', 'allow', 'deny_errno', 'ports', 'hostname']);
  const allowRaw = o.allow ?? [];
  if (!Array.isArray(allowRaw)) throw new OptionError(['allow'], 'expected a list of "ADDRESS[/PREFIX]:PORT" entries');
  const allow = allowRaw.map((r, i) => parseRule(r, ['allow', i]));
  const mode = parseMode(o.mode) ?? (o.allow !== undefined ? 'allow' : 'open');
  if (mode === 'offline')
    allow.forEach((r, i) => {
      const lo = r.bits >= 104 && isMapped(r.addr) && r.addr[12] === 127;
      const lo6 = r.bits === 128 && r.addr.equals(LOOP6);
      if (!lo && !lo6) throw new OptionError(['allow', i], `${JSON.stringify(r.text)}: offline mode allows loopback destinations only (127.0.0.0/8, [::1])`);
    });
  if (mode === 'open' && allow.length) throw new OptionError(['allow'], 'an allow list needs mode allow or offline (open allows everything)');
  let denyErrno: ErrnoName = 'ENETUNREACH';
  if (o.deny_errno !== undefined && o.deny_errno !== null) {
    const e = o.deny_errno;
    const known = os.constants.errno as Record<string, number>;
    if (typeof e !== 'string' || !/^E[A-Z0-9]+$/.test(e) || known[e] === undefined)
      throw new OptionError(['deny_errno'], `unknown errno name ${JSON.stringify(e)} (e.g. ENETUNREACH, ECONNREFUSED, EACCES, EPERM)`);
    denyErrno = e as ErrnoName;
  }
  const ports = new Map<number, number>();
  if (o.ports !== undefined && o.ports !== null) {
    if (typeof o.ports !== 'object' || Array.isArray(o.ports)) throw new OptionError(['ports'], 'expected a mapping { "PORT": HOSTPORT }');
    const targets = new Map<number, number>();
    for (const [k, v] of Object.entries(o.ports as Record<string, unknown>)) {
      const from = parsePort(k, ['ports', k], 'key');
      const to = parsePort(String(v), ['ports', k], 'value');
      if (targets.has(to)) throw new OptionError(['ports', k], `host port ${to} is already the target of port ${targets.get(to)} (the map must go both ways)`);
      targets.set(to, from);
      if (from !== to) ports.set(from, to);
    }
  }
  const hostname = optString(o, 'hostname', HOST_NAME_MAX);
  if (hostname !== undefined && (hostname === '' || /[\0\n/]/.test(hostname)))
    throw new OptionError(['hostname'], 'expected a non-empty name without "/", newline or NUL');
  return { mode, allow, denyErrno, ports, hostname };
}

/**
 * `vview run --offline`: the config's net module(s) switched to offline mode, or
 * an offline net module put first. Throws when a net module allows more than loopback.
 */
export function withOffline(config: ViewConfig): ViewConfig {
  let found = false;
  const modules = config.modules.map((m) => {
    if (m.def !== netModule) return m;
    found = true;
    return { ...m, options: offlineOptions(m.options as NetOptions) };
  });
  if (!found) modules.unshift({ ref: 'net', def: netModule as ModuleDefinition<unknown>, options: offlineOptions(), name: 'net' });
  return { ...config, modules };
}

function offlineOptions(existing?: NetOptions): NetOptions {
  if (!existing) return parseNetOptions({ mode: 'offline' });
  for (const r of existing.allow) {
    const lo = (r.bits >= 104 && isMapped(r.addr) && r.addr[12] === 127) || (r.bits === 128 && r.addr.equals(LOOP6));
    if (!lo) throw new Error(`--offline: the config's net module allows ${JSON.stringify(r.text)}, which is not loopback`);
  }
  return { ...existing, mode: 'offline' };
}

// ---- sockaddr --------------------------------------------------------------------

interface InetAddr {
  family: number;
  raw: Buffer; // the bytes as the program passed them (length = its addrlen, max 128)
  addr: Buffer; // 16 bytes
  port: number;
}

/** An AF_INET/AF_INET6 sockaddr the kernel would accept (else undefined: the kernel answers). */
function decodeInet(raw: Buffer): InetAddr | undefined {
  if (raw.length < 2) return undefined;
  const family = raw.readUInt16LE(0);
  if (family === AF_INET && raw.length >= 16) return { family, raw, addr: v4(raw.subarray(4, 8)), port: raw.readUInt16BE(2) };
  if (family === AF_INET6 && raw.length >= 24) return { family, raw, addr: Buffer.from(raw.subarray(8, 24)), port: raw.readUInt16BE(2) };
  return undefined;
}

function readSockaddr(call: SyscallCall | SyscallExit, ptr: number, len: number): Buffer | undefined {
  if (ptr === 0 || len <= 0 || len > 128) return undefined;
  return call.mem.read(ptr, len);
}

/** A copy of the sockaddr with another address (16-byte form) and/or port. */
function withAddrPort(a: InetAddr, addr: Buffer | undefined, port: number | undefined): Buffer {
  const b = Buffer.from(a.raw);
  if (port !== undefined) b.writeUInt16BE(port, 2);
  if (addr) {
    if (a.family === AF_INET) addr.copy(b, 4, 12, 16);
    else addr.copy(b, 8, 0, 16);
  }
  return b;
}

function socketInode(tid: number, fd: number): string | undefined {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${tid}/fd/${fd}`));
    return m?.[1];
  } catch {
    return undefined;
  }
}

/** The local port of a TCP socket by inode, from /proc/PID/net/tcp{,6}; undefined if not found. */
function tcpLocalPort(tid: number, inode: string): number | undefined {
  for (const f of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${tid}/net/${f}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[9] === inode) return parseInt(cols[1].split(':')[1], 16);
    }
  }
  return undefined;
}

/** Whether the inode is an AF_UNIX socket (/proc/PID/net/unix lists bound and unbound ones). */
function isUnixSocket(tid: number, inode: string): boolean {
  try {
    return fs.readFileSync(`/proc/${tid}/net/unix`, 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[6] === inode);
  } catch {
    return true; // cannot tell: let the kernel have it
  }
}

/** A Map that forgets its oldest entries past a size (records keyed by socket inode). */
class Bounded<V> extends Map<string, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(k: string, v: V): this {
    if (this.size >= this.max && !this.has(k)) this.delete(this.keys().next().value!);
    return super.set(k, v);
  }
}

// ---- the module ------------------------------------------------------------------

const netModule = defineModule({
  name: 'net',
  description: 'network view: offline, allow-list, port map, host name',
  options: parseNetOptions,
  setup(opts): ModuleInstance {
    const { mode, allow, ports } = opts;
    const reverse = new Map<number, number>([...ports].map(([from, to]) => [to, from]));
    const checking = mode !== 'open';
    const deny = () => errno(opts.denyErrno);

    const allowed = (a: Buffer, port: number, dest: boolean): boolean => {
      if (!checking) return true;
      return allow.some((r) => {
        if (!inPrefix(a, r.addr, r.bits)) return false;
        if (r.port !== null) return r.port === port;
        // "*" in offline mode does not cover DNS: a stub resolver on loopback forwards to the network.
        return !(mode === 'offline' && dest && port === 53);
      });
    };

    // Sockets whose addresses the view changed, by inode (survive dup, fork, SCM_RIGHTS).
    const connected = new Bounded<number>(65536); // inode -> the program's peer port
    const bound = new Bounded<{ addr?: Buffer; port?: number }>(65536); // inode -> what the program bound
    const boundHostPorts = new Set<number>(); // host ports a mapped bind took (accepted sockets share them)
    const boundInodes = new Bounded<true>(65536); // every inet socket bound in the view (for listen)

    /** A destination (connect, send*): undefined = untouched, Action = refused, Buffer = rewritten sockaddr. */
    const destination = (raw: Buffer | undefined): Action | Buffer | undefined => {
      if (!raw) return undefined;
      const a = decodeInet(raw);
      if (!a) return undefined;
      if (!allowed(a.addr, a.port, true)) return deny();
      const to = ports.get(a.port);
      return to === undefined ? undefined : withAddrPort(a, undefined, to);
    };

    const syscalls: Handlers = {};
    const when: ModuleInstance['when'] = {};

    if (checking || ports.size) {
      syscalls.connect = (call) => {
        const len = call.int(2);
        const raw = readSockaddr(call, call.ptr(1), len);
        if (raw && checking && mode === 'offline' && raw.readUInt16LE(0) === AF_UNIX) {
          const p = raw.toString('latin1', 2).split('\0')[0];
          if (RESOLVER_SOCKETS.includes(p)) return errno('ECONNREFUSED');
        }
        const d = destination(raw);
        if (!Buffer.isBuffer(d)) return d;
        const ino = socketInode(call.tid, call.int(0));
        if (ino) connected.set(ino, decodeInet(raw!)!.port);
        return rewrite({ 1: d });
      };
      syscalls.sendto = (call) => {
        const d = destination(readSockaddr(call, call.ptr(4), call.int(5)));
        return Buffer.isBuffer(d) ? rewrite({ 4: d }) : d;
      };
      // send() is sendto(fd, buf, len, flags, NULL, 0): only a destination stops.
      when.sendto = { argNonZero: 4 };
      syscalls.sendmsg = (call) => {
        const hdr = call.mem.read(call.ptr(1), MSGHDR);
        const d = destination(readSockaddr(call, Number(hdr.readBigUInt64LE(0)), hdr.readUInt32LE(8)));
        if (!Buffer.isBuffer(d)) return d;
        const name = call.mem.alloc(d.length);
        call.mem.write(name, d);
        const copy = Buffer.from(hdr);
        copy.writeBigUInt64LE(BigInt(name), 0);
        return rewrite({ 1: copy });
      };
      syscalls.sendmmsg = (call) => {
        const vlen = Math.min(Number(BigInt.asUintN(32, call.args[2])), UIO_MAXIOV);
        if (vlen === 0 || call.ptr(1) === 0) return undefined;
        const vec = call.mem.read(call.ptr(1), vlen * MMSGHDR);
        let k = 0;
        let changed = false;
        const copy = Buffer.from(vec);
        for (; k < vlen; k++) {
          const off = k * MMSGHDR;
          const d = destination(readSockaddr(call, Number(vec.readBigUInt64LE(off)), vec.readUInt32LE(off + 8)));
          if (d === undefined) continue;
          if (!Buffer.isBuffer(d)) {
            // Like a failure of message k in the kernel: the first k are sent and
            // counted; the program's next call starts at k and gets the error.
            if (k === 0) return d;
            break;
          }
          const name = call.mem.alloc(d.length);
          call.mem.write(name, d);
          copy.writeBigUInt64LE(BigInt(name), off);
          changed = true;
        }
        if (!changed) return k === vlen ? undefined : rewrite({ 2: k });
        const at = call.mem.alloc(k * MMSGHDR);
        call.mem.write(at, copy.subarray(0, k * MMSGHDR));
        const user = call.ptr(1);
        return rewrite({ 1: at, 2: k }, (exit) => {
          // The kernel wrote msg_len into our copy: hand the counts back.
          for (let i = 0; i < exit.result; i++) exit.mem.write(user + i * MMSGHDR + 56, exit.mem.read(at + i * MMSGHDR + 56, 4));
        });
      };
      syscalls.bind = (call) => {
        const raw = readSockaddr(call, call.ptr(1), call.int(2));
        const a = raw && decodeInet(raw);
        if (!a) return undefined;
        let addr: Buffer | undefined;
        if (checking && !allowed(a.addr, a.port, false)) {
          // The wildcard goes to loopback when that is allowed: the program still listens.
          const alt = isWildcard(a.addr)
            ? a.family === AF_INET
              ? [LOOP4]
              : isMapped(a.addr) ? [LOOP4] : [LOOP6, LOOP4]
            : [];
          addr = alt.find((l) => allowed(l, a.port, false));
          if (!addr) return errno('EADDRNOTAVAIL');
        }
        const to = ports.get(a.port);
        const ino = socketInode(call.tid, call.int(0));
        if (ino && checking) boundInodes.set(ino, true);
        if (!addr && to === undefined) return undefined;
        if (ino) bound.set(ino, { addr: addr ? a.addr : undefined, port: to === undefined ? undefined : a.port });
        if (to !== undefined) boundHostPorts.add(to);
        return rewrite({ 1: withAddrPort(a, addr, to) });
      };
      // What the program sees of its own sockets: the address and port it chose.
      const ownName = (peer: boolean): Handler => (call) => {
        const fd = call.int(0);
        const ptr = call.ptr(1);
        const lenPtr = call.ptr(2);
        if (ptr === 0 || lenPtr === 0) return undefined;
        let room: number;
        try {
          room = call.mem.read(lenPtr, 4).readInt32LE(0);
        } catch {
          return undefined; // the kernel answers EFAULT
        }
        return forward((exit) => {
          if (exit.result !== 0) return;
          const len = Math.min(room, exit.mem.read(lenPtr, 4).readInt32LE(0));
          const raw = readSockaddr(exit, ptr, len);
          const a = raw && decodeInet(raw);
          if (!a) return;
          let newPort: number | undefined;
          let newAddr: Buffer | undefined;
          if (peer) {
            if (!reverse.has(a.port)) return;
            const ino = socketInode(exit.tid, fd);
            const p = ino === undefined ? undefined : connected.get(ino);
            if (p === undefined || ports.get(p) !== a.port) return;
            newPort = p;
          } else {
            const ino = bound.size ? socketInode(exit.tid, fd) : undefined;
            const b = ino === undefined ? undefined : bound.get(ino);
            if (b) {
              newPort = b.port;
              newAddr = b.addr;
            } else if (reverse.has(a.port) && boundHostPorts.has(a.port)) newPort = reverse.get(a.port);
            if (newPort === undefined && !newAddr) return;
          }
          exit.mem.write(ptr, withAddrPort(a, newAddr, newPort));
        });
      };
      syscalls.getsockname = ownName(false);
      // Only a connect through the port map changes what the peer looks like.
      if (ports.size) syscalls.getpeername = ownName(true);
    }

    if (checking) {
      syscalls.socket = (call) => {
        const domain = call.int(0);
        const type = call.int(1) & 0xf;
        if (domain === AF_UNIX || domain === AF_ALG) return undefined;
        if (domain === AF_NETLINK) return mode === 'offline' && call.int(2) === NETLINK_ROUTE ? deny() : undefined;
        if (domain === AF_INET || domain === AF_INET6) {
          if (type === SOCK_RAW || type === SOCK_PACKET) return deny();
          return mode === 'offline' && allow.length === 0 ? deny() : undefined;
        }
        if (domain === AF_PACKET) return deny();
        return mode === 'offline' ? deny() : undefined;
      };
      syscalls.listen = (call) => {
        // listen() on an unbound socket binds it to the wildcard address. A
        // socket bound in the view passed bind's check; one that is already
        // listening (inherited) shows in /proc/PID/net/tcp*; a bound-only one
        // from outside the view cannot be told from an unbound one and is
        // treated as unbound.
        const ino = socketInode(call.tid, call.int(0));
        if (ino === undefined || boundInodes.has(ino)) return undefined;
        const port = tcpLocalPort(call.tid, ino);
        if (port !== undefined && port !== 0) return undefined;
        if (port === undefined && isUnixSocket(call.tid, ino)) return undefined;
        return allowed(Buffer.alloc(16), 0, false) || allowed(v4([0, 0, 0, 0]), 0, false) ? undefined : errno('EADDRNOTAVAIL');
      };
      // io_uring can connect and send without these syscalls.
      const noRing: Handler = () => errno('ENOSYS');
      syscalls.io_uring_setup = noRing;
    }

    let backing: string | undefined;
    let paths: ModuleInstance['paths'];
    if (opts.hostname !== undefined) {
      let name = opts.hostname;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-net-'));
      fs.chmodSync(dir, 0o700);
      backing = path.join(dir, 'hostname');
      const publish = () => {
        const tmp = path.join(dir, `hostname.${process.hrtime.bigint()}`);
        fs.writeFileSync(tmp, `${name}\n`, { mode: 0o644, flag: 'wx' });
        fs.renameSync(tmp, backing!);
      };
      publish();
      syscalls.uname = (call) => {
        const buf = call.ptr(0);
        return forward((exit) => {
          if (exit.result !== 0) return;
          const field = Buffer.alloc(65);
          field.write(name, 0, HOST_NAME_MAX, 'utf8');
          exit.mem.write(buf + 65, field);
        });
      };
      syscalls.sethostname = (call) => {
        const len = Number(BigInt.asIntN(64, call.args[1]));
        if (len < 0 || len > HOST_NAME_MAX) return errno('EINVAL');
        const bytes = len ? call.mem.read(call.ptr(0), len) : Buffer.alloc(0);
        const nul = bytes.indexOf(0);
        name = bytes.subarray(0, nul < 0 ? len : nul).toString('utf8');
        publish();
        return ret(0);
      };
      const prefixes = ['/etc/hostname', '/proc/sys/kernel/hostname'];
      try {
        const real = fs.realpathSync('/etc/hostname');
        if (real !== '/etc/hostname') prefixes.push(real);
      } catch {
        /* no /etc/hostname on the host: the view has one anyway */
      }
      const other: Handler = (call) => {
        // A change (create, remove, rename, link, attr), or an open that writes,
        // creates or truncates (creat too): the files are root's.
        if (changes(call.name)) return errno('EACCES');
        if (call.effect === 'open' && !isReadOnlyOpen(call.flags!)) return errno('EACCES');
        // Anything else (a read, stat, access, exec...) sees the view's file.
        // (A call with two paths changes something: refused above.)
        return call.rewritePath(backing!);
      };
      paths = { prefixes, other };
    }

    return {
      syscalls,
      when,
      paths,
      close() {
        if (backing) fs.rmSync(path.dirname(backing), { recursive: true, force: true });
      },
    };
  },
});

export default netModule;
