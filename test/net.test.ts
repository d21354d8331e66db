/**
 * The net module: offline, the allow-list (TCP, UDP sendto/sendmsg/sendmmsg,
 * non-blocking connect, IPv6 and v4-mapped spellings, CIDR), the port map
 * (server and client inside the view, getsockname/getpeername, the host side),
 * the host name (uname, hostname, /etc/hostname, sethostname), config errors,
 * and the unprivileged user. All traffic is on loopback, on ports the kernel
 * picked for this test run.
 */
import test, { type ExecutionContext } from 'ava';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  canRunUnprivileged, compileFixture, describe, makeTempDir, native, startVview, vviewRun, vviewUnprivileged, waitUntil, writeConfig,
} from './helpers.js';

const tool = () => compileFixture('net_tool');

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** python3 is a requirement (README; .ci/run installs it): a test that needs it fails without it. */
const PYTHON3_MISSING = 'python3 is not installed (a requirement of the test suite; .ci/run installs the Debian package python3)';

/** Ports nobody listens on right now (the kernel picks them; closed again before use). */
async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  while (ports.length < n) {
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, host, resolve));
    const p = (s.address() as net.AddressInfo).port;
    servers.push(s);
    // UDP must be free too (the same number is used for both in some tests).
    const u = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const ok = await new Promise<boolean>((resolve) => {
      u.once('error', () => resolve(false));
      u.bind(p, host, () => resolve(true));
    });
    u.close();
    if (ok) ports.push(p);
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface HostTcp {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A TCP server outside the view: answers each client "pong host" and closes. */
async function hostTcp(t: ExecutionContext, host = '127.0.0.1', port = 0): Promise<HostTcp> {
  const srv = net.createServer((c) => {
    h.connections++;
    c.on('error', () => {});
    c.once('data', () => c.end('pong host\n'));
  });
  const h: HostTcp = {
    port: 0,
    connections: 0,
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
  await new Promise<void>((resolve) => srv.listen(port, host, resolve));
  h.port = (srv.address() as net.AddressInfo).port;
  t.teardown(() => h.close());
  return h;
}

interface HostUdp {
  port: number;
  messages: string[];
  close(): void;
}

async function hostUdp(t: ExecutionContext, host = '127.0.0.1'): Promise<HostUdp> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const h: HostUdp = { port: 0, messages: [], close: () => s.close() };
  s.on('message', (m) => h.messages.push(m.toString()));
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  h.port = s.address().port;
  t.teardown(() => {
    try {
      s.close();
    } catch {
      /* closed */
    }
  });
  return h;
}

/** Waits until the UDP server has n messages (the bound only ends a broken run). */
async function received(h: HostUdp, n: number): Promise<string[]> {
  await waitUntil(() => h.messages.length >= n, 60_000, 10);
  return h.messages;
}

const cfg = (body: string) => writeConfig(`modules:\n  - net:\n${body.replace(/^/gm, '      ')}\n`);

// ---- offline ---------------------------------------------------------------------

test('--offline: inet, inet6, packet and netlink-route sockets fail with ENETUNREACH; AF_UNIX and socketpair work', async (t) => {
  const bin = await tool();
  const r = await vviewRun([bin, 'socket', 'inet', '--', 'socket', 'inet6', 'udp', '--', 'socket', 'packet', '--', 'socket', 'netlink-route', '--', 'socket', 'unix', '--', 'socket', 'pair', '--', 'socket', 'pair', 'udp'], { t, flags: ['--offline'] });
  t.is(r.status, 0, describe(r));
  t.is(
    r.stdout,
    [
      'socket inet: ENETUNREACH',
      'socket inet6: ENETUNREACH',
      'socket packet: ENETUNREACH',
      'socket netlink-route: ENETUNREACH',
      'socket unix: ok',
      'socket pair: ok',
      'socket pair: ok',
      '',
    ].join('\n'),
  );
});

test('offline with deny_errno: the configured errno; a loopback server outside is never reached', async (t) => {
  const bin = await tool();
  const host = await hostTcp(t);
  const config = cfg('mode: offline\ndeny_errno: ECONNREFUSED');
  const r = await vviewRun([bin, 'connect', '127.0.0.1', String(host.port), '--', 'sendto', '127.0.0.1', String(host.port)], { t, config });
  t.is(r.stdout, 'socket: ECONNREFUSED\nsocket: ECONNREFUSED\n', describe(r));
  t.is(host.connections, 0);
});

test('offline: AF_UNIX sockets on paths still connect', async (t) => {
  if (!has('python3')) return t.fail(PYTHON3_MISSING);
  const d = makeTempDir('unix-');
  const script = [
    'import socket, os',
    `p = ${JSON.stringify(path.join(d, 's'))}`,
    's = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(1)',
    'c = socket.socket(socket.AF_UNIX); c.connect(p); a, _ = s.accept()',
    'c.sendall(b"over-unix"); print(a.recv(64).decode())',
  ].join('\n');
  const r = await vviewRun(['python3', '-c', script], { t, flags: ['--offline'] });
  t.is(r.stdout, 'over-unix\n', describe(r));
  t.is(r.status, 0);
});

test('offline: name lookups fail at once instead of waiting for a resolver', async (t) => {
  if (!has('python3')) return t.fail(PYTHON3_MISSING);
  const script = [
    'import socket',
    'try:',
    '    socket.getaddrinfo("vview-test.example.invalid", 80)',
    '    print("resolved")',
    'except socket.gaierror as e:',
    '    print("gaierror")',
    'print(socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])',
  ].join('\n');
  const r = await vviewRun(['python3', '-c', script], { t, flags: ['--offline'], timeout: 30_000 });
  t.false(r.timedOut, describe(r));
  t.is(r.stdout, "gaierror\n('127.0.0.1', 80)\n", describe(r));
});

test('offline with loopback allowed: loopback works, other loopback ports and DNS on loopback do not', async (t) => {
  const bin = await tool();
  const a = await hostTcp(t);
  const b = await hostTcp(t);
  const config = cfg(`mode: offline\nallow: ["127.0.0.1:${a.port}", "127.0.0.0/8:*"]\n`);
  const r = await vviewRun([bin, 'connect', '127.0.0.1', String(a.port), '--', 'socket', 'packet', '--', 'sendto', '127.0.0.1', '53', '--', 'socket', 'netlink-route'], { t, config });
  t.is(
    r.stdout,
    [`connect: ok peer=127.0.0.1:${a.port} reply=pong host`, 'socket packet: ENETUNREACH', 'sendto: ENETUNREACH', 'socket netlink-route: ENETUNREACH', ''].join('\n'),
    describe(r),
  );
  t.is(b.connections, 0);
});

// curl is not among the packages .ci/run installs: without it the test is declared skipped.
const HAVE_CURL = has('curl');
(HAVE_CURL ? test : test.skip)(`--offline with curl: the request fails and the server sees nothing${HAVE_CURL ? '' : ' (skipped: curl is not installed)'}`, async (t) => {
  const host = await hostTcp(t);
  const r = await vviewRun(['curl', '-sS', '--max-time', '10', `http://127.0.0.1:${host.port}/`], { t, flags: ['--offline'] });
  t.is(r.status, 7, describe(r)); // CURLE_COULDNT_CONNECT
  t.is(host.connections, 0);
  const n = await native(['curl', '-sS', '--max-time', '10', '-o', '/dev/null', `http://127.0.0.1:${host.port}/`], { t });
  t.not(n.status, 7, describe(n)); // natively the server answers (not HTTP, but it connects)
  t.is(host.connections, 1);
});

// ---- allow-list --------------------------------------------------------------------

test('allow-list: 127.0.0.1:A connects, port B is refused (blocking and non-blocking connect)', async (t) => {
  const bin = await tool();
  const a = await hostTcp(t);
  const b = await hostTcp(t);
  const config = cfg(`mode: allow\nallow: ["127.0.0.1:${a.port}"]\n`);
  const r = await vviewRun(
    [bin, 'connect', '127.0.0.1', String(a.port), '--', 'connect', '127.0.0.1', String(b.port), '--', 'connect-nb', '127.0.0.1', String(a.port), '--', 'connect-nb', '127.0.0.1', String(b.port)],
    { t, config },
  );
  t.is(
    r.stdout,
    [`connect: ok peer=127.0.0.1:${a.port} reply=pong host`, 'connect: ENETUNREACH', 'connect-nb: EINPROGRESS then ok', 'connect-nb: ENETUNREACH', ''].join('\n'),
    describe(r),
  );
  t.is(b.connections, 0);
  t.is(a.connections, 2);
});

test('allow-list: CIDR over 127.0.0.0/30, and deny_errno', async (t) => {
  const bin = await tool();
  const [p] = await freePorts(1);
  const config = cfg(`allow: ["127.0.0.0/30:*"]\ndeny_errno: EHOSTUNREACH\n`);
  // Nothing listens on p: an allowed destination gets the kernel's answer.
  const r = await vviewRun([bin, 'connect', '127.0.0.3', String(p), '--', 'connect', '127.0.0.4', String(p), '--', 'connect', '127.0.0.1', String(p)], { t, config });
  t.is(r.stdout, 'connect: ECONNREFUSED\nconnect: EHOSTUNREACH\nconnect: ECONNREFUSED\n', describe(r));
});

test('allow-list: IPv6 loopback and the v4-mapped spelling of an allowed IPv4 address', async (t) => {
  const bin = await tool();
  const a4 = await hostTcp(t, '127.0.0.1');
  const b4 = await hostTcp(t, '127.0.0.1');
  const a6 = await hostTcp(t, '::1');
  // Allowed as IPv4: reached through an AF_INET6 socket at ::ffff:127.0.0.1 as well.
  // Allowed as v4-mapped IPv6: reached through an AF_INET socket.
  const config = cfg(`allow: ["127.0.0.1:${a4.port}", "[::ffff:127.0.0.1]:${b4.port}", "[::1]:${a6.port}"]\n`);
  const r = await vviewRun(
    [
      bin,
      'connect', '::ffff:127.0.0.1', String(a4.port), '--',
      'connect', '127.0.0.1', String(b4.port), '--',
      'connect', '::1', String(a6.port), '--',
      'connect', '::1', String(a4.port), '--',
      'connect', '::ffff:127.0.0.1', String(a6.port),
    ],
    { t, config },
  );
  t.is(
    r.stdout,
    [
      `connect: ok peer=[::ffff:127.0.0.1]:${a4.port} reply=pong host`,
      `connect: ok peer=127.0.0.1:${b4.port} reply=pong host`,
      `connect: ok peer=[::1]:${a6.port} reply=pong host`,
      'connect: ENETUNREACH',
      'connect: ENETUNREACH',
      '',
    ].join('\n'),
    describe(r),
  );
});

test('allow-list: UDP sendto, sendmsg and sendmmsg check every destination', async (t) => {
  const bin = await tool();
  const a = await hostUdp(t);
  const b = await hostUdp(t);
  const config = cfg(`allow: ["127.0.0.1:${a.port}"]\n`);
  const A = `127.0.0.1:${a.port}`;
  const B = `127.0.0.1:${b.port}`;
  const r = await vviewRun(
    [bin, 'sendto', '127.0.0.1', String(b.port), '--', 'sendmsg', '127.0.0.1', String(b.port), '--', 'sendto', '127.0.0.1', String(a.port), '--', 'sendmsg', '127.0.0.1', String(a.port), '--', 'sendmmsg', [A, A, B, A].join(',')],
    { t, config },
  );
  t.is(
    r.stdout,
    ['sendto: ENETUNREACH', 'sendmsg: ENETUNREACH', 'sendto: 5', 'sendmsg: 5', 'sendmmsg from 0: 2 len0=2 len1=2', 'sendmmsg from 2: ENETUNREACH', 'sendmmsg from 3: 1 len3=2', ''].join('\n'),
    describe(r),
  );
  t.deepEqual((await received(a, 5)).sort(), ['dgram', 'dgram', 'm0', 'm1', 'm3']);
  t.deepEqual(b.messages, []);
});

test('allow-list: bind and listen; a wildcard bind lands on loopback and still says wildcard', async (t) => {
  const bin = await tool();
  const [p, q] = await freePorts(2);
  const config = cfg(`allow: ["127.0.0.1:*", "[::1]:*"]\n`);
  const r = await vviewRun([bin, 'bind', '0.0.0.0', String(p), '--', 'bind', '::', String(q), '--', 'bind', '127.0.0.2', String(p), '--', 'listen-unbound'], { t, config });
  t.is(r.stdout, [`bind: ok name=0.0.0.0:${p}`, `bind: ok name=[::]:${q}`, 'bind: EADDRNOTAVAIL', 'listen: EADDRNOTAVAIL', ''].join('\n'), describe(r));
  // The wildcard server inside is reachable on loopback from outside.
  const s = startVview(['run', '--config', config, '--', bin, 'serve-tcp', '0.0.0.0', String(p), '1'], { t, timeout: 30_000 });
  await s.waitForStdout('listening');
  t.is(s.stdout, `listening 0.0.0.0:${p}\n`);
  const reply = await talk('127.0.0.1', p);
  t.is(reply, `pong 127.0.0.1:${p}\n`);
  const res = await s.result;
  t.is(res.status, 0, describe(res));
});

/** One TCP exchange from outside the view. */
function talk(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, host);
    let data = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write('ping\n'));
    c.on('data', (d) => (data += d));
    c.on('end', () => resolve(data));
    c.on('error', reject);
    c.setTimeout(15_000, () => c.destroy(new Error('timeout')));
  });
}

test('a send() on an allowed, established connection never stops in the tracer', async (t) => {
  const bin = await tool();
  const [p] = await freePorts(1);
  const config = cfg(`allow: ["127.0.0.1:*"]\n`);
  const r = await vviewRun([bin, 'pair-tcp', '127.0.0.1', String(p)], { t, config, flags: ['--stats'] });
  t.regex(r.stdout, /client: connect: ok/, describe(r));
  const stops = /seccomp stops by syscall: (.*)/.exec(r.stderr)?.[1] ?? '';
  t.regex(stops, /connect/, r.stderr);
  t.notRegex(stops, /sendto/, r.stderr);
});

// ---- port map ----------------------------------------------------------------------

test('port map: a server and a client inside the view, TCP and UDP, getsockname/getpeername show the program\'s port', async (t) => {
  const bin = await tool();
  const [A, B] = await freePorts(2);
  const config = cfg(`mode: allow\nallow: ["127.0.0.1:*", "[::1]:*"]\nports: { "${A}": ${B} }\n`);
  const r = await vviewRun([bin, 'pair-tcp', '127.0.0.1', String(A), '--', 'pair-udp', '127.0.0.1', String(A), '--', 'pair-tcp', '::1', String(A)], { t, config });
  t.is(
    r.stdout,
    [
      `listening 127.0.0.1:${A}`,
      `server: accepted peer-is-loopback=yes local=127.0.0.1:${A} got=5`,
      `client: connect: ok peer=127.0.0.1:${A} reply=pong 127.0.0.1:${A}`,
      `listening 127.0.0.1:${A}`,
      'server: got 4 from client-port=yes',
      'client: got 4',
      `client: connected peer=127.0.0.1:${A}`,
      `listening [::1]:${A}`,
      `server: accepted peer-is-loopback=yes local=[::1]:${A} got=5`,
      `client: connect: ok peer=[::1]:${A} reply=pong [::1]:${A}`,
      '',
    ].join('\n'),
    describe(r),
  );
});

test('port map: the host sees the mapped port; a client inside reaches a host server through the map', async (t) => {
  const bin = await tool();
  const [A, B, C] = await freePorts(3);
  const host = await hostTcp(t, '127.0.0.1', C);
  const config = cfg(`allow: ["127.0.0.1:*"]\nports: { "${A}": ${B} }\n`);
  const s = startVview(['run', '--config', config, '--', bin, 'serve-tcp', '127.0.0.1', String(A), '1'], { t, timeout: 30_000 });
  await s.waitForStdout('listening');
  t.is(s.stdout, `listening 127.0.0.1:${A}\n`);
  t.is(await talk('127.0.0.1', B), `pong 127.0.0.1:${A}\n`);
  const res = await s.result;
  t.is(res.status, 0, describe(res));
  t.regex(res.stdout, new RegExp(`server: accepted peer-is-loopback=yes local=127.0.0.1:${A} got=5`));
  // A client inside connecting to A reaches the host's server on C.
  const config2 = cfg(`ports: { "${A}": ${C} }\n`);
  const r = await vviewRun([bin, 'connect', '127.0.0.1', String(A)], { t, config: config2 });
  t.is(r.stdout, `connect: ok peer=127.0.0.1:${A} reply=pong host\n`, describe(r));
  t.is(host.connections, 1);
});

test('port map for UDP destinations: sendto, sendmsg and sendmmsg reach the host port, msg_len comes back', async (t) => {
  const bin = await tool();
  const host = await hostUdp(t);
  const [A] = await freePorts(1);
  const config = cfg(`allow: ["127.0.0.1:${A}"]\nports: { "${A}": ${host.port} }\n`);
  const to = `127.0.0.1:${A}`;
  const r = await vviewRun([bin, 'sendto', '127.0.0.1', String(A), '--', 'sendmsg', '127.0.0.1', String(A), '--', 'sendmmsg', [to, to, to].join(',')], { t, config });
  t.is(r.stdout, 'sendto: 5\nsendmsg: 5\nsendmmsg from 0: 3 len0=2 len1=2 len2=2\n', describe(r));
  t.deepEqual((await received(host, 5)).sort(), ['dgram', 'dgram', 'm0', 'm1', 'm2']);
});

test('port map with node: server.address() and socket.remotePort inside, the host port outside', async (t) => {
  const [A, B] = await freePorts(2);
  const config = cfg(`ports: { "${A}": ${B} }\n`);
  const script = `
    const net = require('net');
    const srv = net.createServer((c) => { c.end('hi ' + c.localPort + '\\n'); });
    srv.listen(${A}, '127.0.0.1', () => {
      console.log('server ' + srv.address().port);
      const c = net.connect(${A}, '127.0.0.1', () => console.log('client remote ' + c.remotePort));
      c.setEncoding('utf8');
      c.on('data', (d) => process.stdout.write(d));
      c.on('end', () => srv.close());
    });`;
  const r = await vviewRun([process.execPath, '-e', script], { t, config });
  t.is(r.stdout, `server ${A}\nclient remote ${A}\nhi ${A}\n`, describe(r));
  t.is(r.status, 0);
});

test('port map with python3 http.server, fetched from outside on the host port and with curl inside', async (t) => {
  if (!has('python3')) return t.fail(PYTHON3_MISSING);
  const [A, B] = await freePorts(2);
  const d = makeTempDir('www-');
  fs.writeFileSync(path.join(d, 'index.txt'), 'served from the view\n');
  const config = cfg(`allow: ["127.0.0.1:*"]\nports: { "${A}": ${B} }\n`);
  const s = startVview(['run', '--config', config, '--', 'python3', '-u', '-m', 'http.server', '--bind', '127.0.0.1', String(A)], { t, cwd: d, timeout: 40_000 });
  await s.waitForStdout(/Serving HTTP/);
  t.regex(s.stdout, new RegExp(`port ${A}`));
  const body = await new Promise<string>((resolve, reject) => {
    const c = net.connect(B, '127.0.0.1', () => c.write('GET /index.txt HTTP/1.0\r\n\r\n'));
    let data = '';
    c.setEncoding('utf8');
    c.on('data', (x) => (data += x));
    c.on('end', () => resolve(data));
    c.on('error', reject);
  });
  t.regex(body, /^HTTP\/1\.0 200/);
  t.regex(body, /served from the view\n$/);
  if (!HAVE_CURL) t.log('curl is not installed: no request from inside the view');
  else {
    const r = await vviewRun(['curl', '-sS', '--max-time', '10', `http://127.0.0.1:${A}/index.txt`], { t, config });
    t.is(r.stdout, 'served from the view\n', describe(r));
  }
  s.kill('SIGTERM');
  await s.result;
});

// ---- host name ---------------------------------------------------------------------

test('hostname: uname -n, hostname, /etc/hostname and /proc/sys/kernel/hostname agree; sethostname changes only the view', async (t) => {
  const before = os.hostname();
  const config = cfg('hostname: sandbox-a\n');
  const script = [
    'uname -n; hostname; cat /etc/hostname; cat /proc/sys/kernel/hostname',
    'hostname sandbox-b',
    'sh -c "uname -n; cat /etc/hostname"',
    'cat /etc/hostname > /etc/hostname 2>/dev/null || echo write-refused',
  ].join('\n');
  const r = await vviewRun(['sh', '-c', script], { t, config });
  t.is(r.stdout, 'sandbox-a\nsandbox-a\nsandbox-a\nsandbox-a\nsandbox-b\nsandbox-b\nwrite-refused\n', describe(r));
  t.is(os.hostname(), before);
  if (fs.existsSync('/etc/hostname')) t.is(fs.readFileSync('/etc/hostname', 'utf8').trim(), before.trim());
});

test('hostname from python3 socket.gethostname and platform.node', async (t) => {
  if (!has('python3')) return t.fail(PYTHON3_MISSING);
  const config = cfg('hostname: py-box\n');
  const r = await vviewRun(['python3', '-c', 'import socket, platform; print(socket.gethostname(), platform.node(), open("/etc/hostname").read().strip())'], { t, config });
  t.is(r.stdout, 'py-box py-box py-box\n', describe(r));
});

// ---- config ------------------------------------------------------------------------

const bad: [string, string, RegExp][] = [
  ['invalid CIDR', 'allow: ["10.0.0.0/33:*"]', /:3: modules\[0\]\.net\.allow\[0\]: .*invalid CIDR prefix \/33/],
  ['IPv6 without brackets', 'allow: ["::1:*"]', /modules\[0\]\.net\.allow\[0\]: .*IPv6 in brackets/],
  ['not an address', 'allow: ["300.1.2.3:80"]', /modules\[0\]\.net\.allow\[0\]: .*not an IPv4 address/],
  ['port out of range', 'allow: ["127.0.0.1:70000"]', /modules\[0\]\.net\.allow\[0\]: .*port 70000 is out of range/],
  ['port map out of range', 'ports: { "80": 70000 }', /modules\[0\]\.net\.ports\.80: value: port 70000 is out of range/],
  ['port map not a number', 'ports: { "http": 8080 }', /modules\[0\]\.net\.ports\.http: key: expected a port number/],
  ['port map not one-to-one', 'ports: { "80": 8080, "81": 8080 }', /modules\[0\]\.net\.ports\.81: host port 8080 is already the target of port 80/],
  ['unknown errno', 'deny_errno: ENOTANERRNO', /:3: modules\[0\]\.net\.deny_errno: unknown errno name "ENOTANERRNO"/],
  ['unknown mode', 'mode: closed', /modules\[0\]\.net\.mode: expected offline, allow or open/],
  ['offline with a remote address', 'mode: offline\nallow: ["10.1.2.3:443"]', /modules\[0\]\.net\.allow\[0\]: .*offline mode allows loopback destinations only/],
  ['unknown key', 'allowed: []', /modules\[0\]\.net\.allowed: unknown option/],
  ['hostname too long', `hostname: ${'x'.repeat(65)}`, /modules\[0\]\.net\.hostname: longer than 64 bytes/],
];

for (const [what, body, re] of bad) {
  test(`config error: ${what}`, async (t) => {
    const config = cfg(body);
    const r = await vviewRun(['true'], { t, config });
    t.is(r.status, 2, describe(r));
    t.regex(r.stderr, re);
    t.true(r.stderr.startsWith(`vview: ${config}:`), r.stderr);
  });
}

test('--offline refuses a config whose net module allows more than loopback', async (t) => {
  const config = cfg('allow: ["10.1.2.3:443"]');
  const r = await vviewRun(['true'], { t, config, flags: ['--offline'] });
  t.is(r.status, 2, describe(r));
  t.regex(r.stderr, /--offline: .*"10\.1\.2\.3:443".*not loopback/);
});

test('configs/net.yaml is a working example', async (t) => {
  const r = await vviewRun(['uname', '-n'], { t, config: path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'configs', 'net.yaml') });
  t.is(r.status, 0, describe(r));
  t.is(r.stdout, 'sandbox\n');
});

// ---- unprivileged ------------------------------------------------------------------

test('net as the unprivileged user: offline with loopback, allow-list, port map and host name', async (t) => {
  if (!(await canRunUnprivileged())) return t.fail(`running as root, and \`setpriv --reuid=65534\` does not work here (util-linux): the unprivileged user cannot be tested`);
  const bin = await tool();
  const a = await hostTcp(t);
  const b = await hostTcp(t);
  const [A, B] = await freePorts(2);
  const config = cfg(`mode: offline\nallow: ["127.0.0.1:${a.port}", "127.0.0.1:${A}"]\nports: { "${A}": ${B} }\nhostname: nobody-net\n`);
  const r = await vviewUnprivileged(
    ['run', '--config', config, '--', bin, 'connect', '127.0.0.1', String(a.port), '--', 'connect', '127.0.0.1', String(b.port), '--', 'socket', 'packet', '--', 'pair-tcp', '127.0.0.1', String(A)],
    { t },
  );
  t.is(
    r.stdout,
    [
      `connect: ok peer=127.0.0.1:${a.port} reply=pong host`,
      'connect: ENETUNREACH',
      'socket packet: ENETUNREACH',
      `listening 127.0.0.1:${A}`,
      `server: accepted peer-is-loopback=yes local=127.0.0.1:${A} got=5`,
      `client: connect: ok peer=127.0.0.1:${A} reply=pong 127.0.0.1:${A}`,
      '',
    ].join('\n'),
    describe(r),
  );
  t.is(b.connections, 0);
  const h = await vviewUnprivileged(['run', '--config', config, '--', 'sh', '-c', 'hostname x-nobody; uname -n; cat /etc/hostname'], { t });
  t.is(h.stdout, 'x-nobody\nx-nobody\n', describe(h));
  t.deepEqual(h.leftovers, []);
});
