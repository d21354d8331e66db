/**
 * The monitor: sets up the modules, starts the command under the tracer, and
 * runs the event loop until the last tracee is gone.
 *
 * The loop blocks in native code (waitpid on this thread) while no module
 * handler is pending, so a stop that needs JavaScript costs a synchronous call,
 * not an event-loop round trip. While an async handler is pending, it drains
 * events without blocking and otherwise awaits the event loop, woken by the
 * native waker thread when a tracee stops.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native, EventType, type Native, type NativeAction } from './native.js';
import { currentArch } from './arch/index.js';
import { watchOwnChildren } from './children.js';
import { ProcessTable } from './process.js';
import { Router, type LoadedModule, type TraceSink } from './router.js';
import type { ModuleContext, ModuleInstance } from './module.js';
import { PathAliases, viewPathsModule } from './viewpaths.js';
import { DEFAULT_DEADLINES, DeadlineError, withDeadline, type Deadlines, type ModuleEntry, type ViewConfig } from './config.js';
import { EXIT_SAVE_FAILED } from './statefile.js';
import { Layers, Relay, tryJoin } from './layers.js';
import type { Channel, Frame } from './channel.js';

export interface RunOptions {
  command: string[];
  config: ViewConfig;
  /** --trace: where lines go (a file descriptor). */
  traceFd?: number;
  stats?: boolean;
  /** Where vview's own messages go. */
  stderrFd?: number;
  /**
   * Inside a view, do not join the monitor that traces this process (one
   * monitor, a stack of views: src/vm/layers.ts): trace the command here,
   * through that monitor's ptrace emulation. Also VVIEW_NO_JOIN=1.
   */
  noJoin?: boolean;
}

/** The view could not start; `exitCode` is what vview exits with (2 unless a module's error says otherwise). */
export class SetupError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** vview's exit status when the view ended without the command's exit being seen. */
export const EXIT_LOST = 125;

/** vview's exit status when a module's close() failed or missed its deadline (a state not saved). */
export const EXIT_CLOSE_FAILED = EXIT_SAVE_FAILED;

/** An error's own exit status (StateFileError's), if it has one. */
function exitCodeOf(e: unknown): number | undefined {
  const c = (e as { exitCode?: unknown })?.exitCode;
  return typeof c === 'number' && Number.isInteger(c) && c > 0 && c < 126 ? c : undefined;
}

function say(fd: number, text: string): void {
  try {
    fs.writeSync(fd, text.endsWith('\n') ? text : text + '\n');
  } catch {
    /* nowhere to report */
  }
}

/** Whether node:child_process is loaded (unknown: yes). */
function childProcessLoaded(): boolean {
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList;
  return !Array.isArray(list) || list.includes('NativeModule child_process');
}

/** PATH search done up front (the forked child may only exec). */
function candidates(cmd: string): string[] {
  if (cmd.includes('/')) return [cmd];
  const dirs = (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  return dirs.map((d) => path.join(d || '.', cmd));
}

/** Runs the command in the view; resolves to the exit status a shell would report. */
export async function run(opts: RunOptions): Promise<number> {
  const errFd = opts.stderrFd ?? 2;
  const n = native();
  // A module (or tsx, or the embedder) may start children of its own, which
  // libuv must reap. With no module, the only ones are the embedder's, if it
  // has child_process loaded at all: not loading it saves start-up time.
  if (opts.config.modules.length > 0 || childProcessLoaded()) watchOwnChildren();
  const procs = new ProcessTable();
  // The native calls modules make: here, and in the outer monitor's layer once joined.
  const relay = new Relay(n);
  const warn = (module: string) => (msg: string) => say(errFd, `vview: ${module}: ${msg}`);

  const modules: LoadedModule[] = [];
  let ownershipBy: string | undefined;
  const aliases = new PathAliases();
  // Work a module starts outside a handler (at a process's exit): the loop
  // must not block in native code while it is pending.
  let router: Router | undefined;
  const track = (r: unknown) => {
    if (!(r instanceof Promise) || !router) return;
    const rt = router;
    rt.inFlight++;
    r.catch((e) => say(errFd, `vview: ${(e as Error).message}`)).finally(() => {
      rt.inFlight--;
      rt.onSettled();
    });
  };
  const scratch = new Scratch();
  // Silently: the command's stderr must stay its own (a transparent view).
  scratch.sweep();
  const deadlines = opts.config.deadlines ?? DEFAULT_DEADLINES;
  const closing: Closing[] = [];
  let settingUp = true;
  for (let i = 0; i < opts.config.modules.length; i++) {
    const entry = opts.config.modules[i];
    const ctx: ModuleContext = {
      name: entry.name,
      onProcessExit: (cb) => procs.onProcessExit((pid) => track(cb(pid))),
      scratchDir: () => scratch.dir(`${i}-${entry.name}`),
      showPath: (host, view) => {
        if (!settingUp) throw new Error('showPath: call it in setup()');
        aliases.add(host, view);
      },
      claimInode: (dev, ino) => relay.claimInode(dev, ino, i),
      perProcess: (init, fork) => procs.perProcess(init, fork),
      processOf: (tid) => procs.processOf(tid),
      showOwnership: (ids) => {
        if (ownershipBy !== undefined) throw new Error(`ownership is already shown by module ${ownershipBy}; two fake-owner modules cannot share a view`);
        ownershipBy = entry.name;
        relay.statView(ids);
        return {
          set: (dev, ino, o) =>
            relay.statOwner(dev, ino, o && {
              uid: o.uid,
              gid: o.gid,
              perm: o.perm,
              type: o.device ? (o.device.type === 'chr' ? 0o020000 : 0o060000) : undefined,
              rdev: o.device?.rdev,
            }),
          show: (st) => ({ dev: st.dev, ino: st.ino, ...n.statShow(st) }),
        };
      },
      warn: warn(entry.name),
    };
    try {
      const setup = Promise.resolve().then(() => entry.def.setup(entry.options, ctx));
      const limit = entry.file ? deadlines.setup : 0;
      const instance = await withDeadline(setup, limit, `setup() did not finish within ${limit} s (the config's deadlines.setup)`);
      checkInstance(instance, entry);
      modules.push({ name: entry.name, instance, where: entry.where });
      closing.push({ name: entry.name, instance, deadline: entry.file ? deadlines.close : 0 });
    } catch (e) {
      await closeAll(closing, errFd);
      scratch.remove();
      throw new SetupError(`module ${entry.name}${entry.file ? ` (${entry.file})` : ''}: ${(e as Error).message}`, exitCodeOf(e));
    }
  }
  settingUp = false;
  if (aliases.entries.length) modules.push({ name: 'vview', instance: viewPathsModule(n) });

  const trace: TraceSink | undefined =
    opts.traceFd === undefined ? undefined : { line: (t) => say(opts.traceFd!, t) };
  // The router's native side: this process's tracer, or (joined) the outer monitor over the channel.
  const rn: typeof n = Object.create(n);
  try {
    router = new Router(rn, modules, trace, (msg) => say(errFd, `vview: ${msg}`), ownershipBy !== undefined);
  } catch (e) {
    await closeAll(closing, errFd);
    scratch.remove();
    throw new SetupError((e as Error).message);
  }
  const cfg = router.nativeConfig();
  // (Joined, these tables stay here too: viewPath and statShow read them.)
  const table = { routes: cfg.routes, prefixes: cfg.prefixes, objects: cfg.objects, aliases: [...aliases.entries] as [string, string][] };
  n.configure(table);
  const tried = opts.noJoin || process.env.VVIEW_NO_JOIN ? undefined : tryJoin(n);
  let joined = tried && 'fd' in tried ? tried : undefined;
  let ch: Channel | undefined;
  let notJoined: string | undefined = tried && 'why' in tried ? tried.why : undefined;
  if (joined) {
    const { Channel } = await import('./channel.js');
    ch = new Channel(joined.fd);
    relay.attach(ch);
    ch.send({ t: 'config', config: table }, true);
    try {
      const answer = await ch.expect('ready', 'refused');
      if (answer.t === 'refused') {
        // Traced here instead, through the outer view's ptrace emulation.
        notJoined = String(answer.why);
        ch.close();
        ch = undefined;
        joined = undefined;
      }
    } catch (e) {
      ch?.close();
      await closeAll(closing, errFd);
      scratch.remove();
      throw new SetupError((e as Error).message);
    }
  }
  if (!joined) relay.drop();

  const [cmd, ...rest] = opts.command;
  // bin/vview records which fds the caller passed before Node marked them all
  // close-on-exec; without it (embedded use), stdio.
  const inherited = process.env.VVIEW_INHERIT_FDS;
  delete process.env.VVIEW_INHERIT_FDS;
  const inheritFds = inherited === undefined ? [0, 1, 2] : inherited.trim().split(/\s+/).filter(Boolean).map(Number);
  const pid = n.spawn({
    candidates: candidates(cmd),
    argv: [cmd, ...rest],
    inheritFds,
    // Always a filter: ptrace, wait4 and waitid are routed to the native ptrace
    // emulation even in an empty view (about 30 ns more per syscall).
    filter: true,
    foreignAllowed: !cfg.modulesRoute,
    traced: cfg.traced,
    tracedIfArg: cfg.tracedIfArg,
    notFound: `vview: ${cmd}: command not found\n`,
    denied: `vview: ${cmd}: `,
    ...(joined && { joinLayer: joined.layer }),
  });
  procs.add(pid);
  n.forwardSignals(pid);

  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  router.onSettled = poke;
  n.startWaker(poke);
  const rt = router;
  const layers = new Layers(n, { inc: () => rt.inFlight++, dec: () => { rt.inFlight--; rt.onSettled(); } }, (msg) => say(errFd, `vview: ${msg}`), table);

  const t0 = process.hrtime.bigint();
  let closeFailed = false;
  try {
    if (ch) await serveJoined(ch, rn, n, router, procs, pid, poke, (w) => (wake = w));
    else for (;;) {
      const ev = n.next(router.inFlight === 0);
      switch (ev.type) {
        case EventType.None:
          await new Promise<void>((resolve) => {
            wake = resolve;
            n.armWaker();
          });
          continue;
        case EventType.Done:
          break;
        case EventType.Foreign:
          // libuv reaps its own children (a module's child_process) in the event loop.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        case EventType.Syscall:
          if (!layers.onCall(ev)) router.onSyscall(ev);
          continue;
        case EventType.SyscallExit:
          if (!layers.onCall(ev)) router.onSyscallExit(ev);
          continue;
        case EventType.Spawn:
          procs.onSpawn(ev.tid, ev.child, ev.thread);
          layers.onProcess(ev);
          continue;
        case EventType.Exec:
          if (ev.oldTid !== ev.tid) router.forget(ev.oldTid);
          procs.onExec(ev.pid, ev.oldTid);
          layers.onProcess(ev);
          continue;
        case EventType.Exit:
          router.forget(ev.tid);
          procs.onExit(ev.tid, ev.last);
          layers.onProcess(ev);
          continue;
        case EventType.Join:
          await layers.onJoin(ev);
          continue;
      }
      break;
    }
  } finally {
    n.stopWaker();
    layers.close();
    closeFailed = await closeAll(closing, errFd);
    scratch.remove();
    ch?.close();
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  if (opts.stats) {
    if (notJoined) say(errFd, `vview: not joined to the monitor of the view around this one (${notJoined}): traced here`);
    printStats(errFd, router, n.stats(), elapsed, joined?.layer);
  }
  const rootStatus = n.rootStatus();
  if (rootStatus < 0) {
    // Never a silent 0: the command's processes were killed as vview ended.
    say(errFd, `vview: the view ended before its command had exited (its processes were killed); exiting with status ${EXIT_LOST}`);
    return EXIT_LOST;
  }
  const status = exitStatus(rootStatus);
  if (closeFailed) {
    say(errFd, `vview: exiting with status ${EXIT_CLOSE_FAILED} because the view did not close cleanly (the command's exit status was ${status})`);
    return EXIT_CLOSE_FAILED;
  }
  return status;
}

interface Closing {
  name: string;
  instance: ModuleInstance;
  /** Seconds (0: no limit). */
  deadline: number;
}

/** Closes every module, even after one failed; true when one failed (each is reported). */
async function closeAll(modules: Closing[], errFd: number): Promise<boolean> {
  let failed = false;
  for (const m of modules) {
    try {
      const close = Promise.resolve().then(() => m.instance.close?.());
      await withDeadline(close, m.deadline, `close() did not finish within ${m.deadline} s (the config's deadlines.close)`);
    } catch (e) {
      failed = true;
      const why = e instanceof DeadlineError || exitCodeOf(e) !== undefined ? (e as Error).message : `close failed: ${(e as Error).message}`;
      say(errFd, `vview: ${m.name}: ${why}`);
    }
  }
  return failed;
}

/**
 * What setup() returned, checked before anything is compiled from it: route
 * names must be syscalls, prefixes absolute, handlers functions. A mistake is
 * an error naming the module and the entry.
 */
function checkInstance(instance: unknown, entry: ModuleEntry): asserts instance is ModuleInstance {
  const fail = (msg: string): never => {
    throw new Error(`setup() returned ${msg}`);
  };
  if (!instance || typeof instance !== 'object') fail(`${String(instance)}, not the module's routes ({ syscalls, paths, fds, close })`);
  const inst = instance as ModuleInstance;
  const known = currentArch().numbers as Record<string, number | undefined>;
  const handlers = (where: string, table: unknown) => {
    if (table === undefined) return;
    if (!table || typeof table !== 'object') fail(`${where}: expected a mapping of syscall name to handler`);
    for (const [name, h] of Object.entries(table as Record<string, unknown>)) {
      if (known[name] === undefined) fail(`${where}.${name}: "${name}" is not a syscall of ${currentArch().name}`);
      if (typeof h !== 'function') fail(`${where}.${name}: expected a function, got ${typeof h}`);
    }
  };
  handlers('syscalls', inst.syscalls);
  handlers('fds.handlers', inst.fds?.handlers);
  const paths = inst.paths;
  if (paths !== undefined) {
    if (!paths || !Array.isArray(paths.prefixes)) fail('paths: expected { prefixes: [absolute paths], handlers?, other? }');
    paths.prefixes.forEach((p: unknown, i: number) => {
      if (typeof p !== 'string' || !p.startsWith('/') || path.posix.normalize(p) !== p || p.includes('\0') || (p.length > 1 && p.endsWith('/')))
        fail(`paths.prefixes[${i}]: ${JSON.stringify(p)} is not an absolute, normalized path`);
    });
    handlers('paths.handlers', paths.handlers);
    for (const name of paths.syscalls ?? []) if (known[name] === undefined) fail(`paths.syscalls: "${name}" is not a syscall of ${currentArch().name}`);
    if (paths.other !== undefined && typeof paths.other !== 'function') fail('paths.other: expected a function');
  }
  for (const name of Object.keys(inst.when ?? {})) if (known[name] === undefined) fail(`when.${name}: "${name}" is not a syscall of ${currentArch().name}`);
  if (inst.close !== undefined && typeof inst.close !== 'function') fail('close: expected a function');
  void entry;
}

/**
 * The monitor's private scratch tree (0700), made on first use, removed at
 * the end. While the run lives it holds a lock on `.owner` inside; a tree
 * whose lock nobody holds was left by a run that died (kill -9) and is
 * removed by the next run (sweep).
 */
class Scratch {
  private root: string | undefined;
  private ownerFd: number | undefined;

  dir(name: string): string {
    if (!this.root) {
      this.root = fs.mkdtempSync(path.join(os.tmpdir(), SCRATCH_PREFIX)); // mode 0700
      // Locked before it has its name: a sweep by another run that finds
      // `.owner` always finds it locked (between an open and a flock of
      // `.owner` itself, a concurrent sweep took the live tree for a dead one).
      const fresh = path.join(this.root, `${OWNER}.new`);
      this.ownerFd = fs.openSync(fresh, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      native().flock(this.ownerFd, LOCK_EX | LOCK_NB);
      fs.writeSync(this.ownerFd, `${process.pid}\n`);
      fs.renameSync(fresh, path.join(this.root, OWNER));
    }
    const d = path.join(this.root, name);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  remove(): void {
    if (!this.root) return;
    try {
      fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // Permissions a process set inside (a 0500 directory): make it writable and retry.
      try {
        chmodTree(this.root);
        fs.rmSync(this.root, { recursive: true, force: true });
      } catch {
        /* reported by nothing: the directory is private and under os.tmpdir() */
      }
    }
    this.root = undefined;
    if (this.ownerFd !== undefined) fs.closeSync(this.ownerFd);
    this.ownerFd = undefined;
  }

  /** Removes the scratch trees of this user's runs that died without removing theirs. */
  sweep(report?: (msg: string) => void): void {
    const tmp = os.tmpdir();
    let names: string[];
    try {
      names = fs.readdirSync(tmp).filter((n) => n.startsWith(SCRATCH_PREFIX));
    } catch {
      return;
    }
    const uid = process.getuid?.();
    for (const name of names) {
      const dir = path.join(tmp, name);
      try {
        const st = fs.lstatSync(dir);
        if (!st.isDirectory() || st.uid !== uid) continue;
        let fd: number;
        try {
          fd = fs.openSync(path.join(dir, OWNER), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        } catch {
          // No owner file: a run that has not locked it yet, or an older vview's
          // (which may still be running): not ours to judge.
          continue;
        }
        try {
          if (native().flock(fd, LOCK_EX | LOCK_NB) < 0) continue; // its run is alive
          removeTree(dir);
          report?.(`removed ${dir}, the scratch copy of a run that was killed`);
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        /* another run removes it at the same time */
      }
    }
  }
}

const SCRATCH_PREFIX = 'vview-scratch-';
const OWNER = '.owner';
const LOCK_EX = 2;
const LOCK_NB = 4;

function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    chmodTree(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function chmodTree(dir: string): void {
  fs.chmodSync(dir, 0o700);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) chmodTree(path.join(dir, e.name));
}

/** What a shell reports: the exit code, or 128 + the signal that killed it. */
export function exitStatus(status: number): number {
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  return 128 + sig;
}

function printStats(fd: number, router: Router, s: ReturnType<ReturnType<typeof native>['stats']>, elapsed: number, layer?: number): void {
  const rows = router.statsRows();
  const lines =
    layer === undefined
      ? [`vview: ${elapsed.toFixed(3)} s; ${s.stops} tracer stops, ${s.fastResumes} resumed in native code, ${s.jsEvents} handed to JavaScript, ${s.lookups} host path lookups, ${s.cacheHits} answered from the cache`]
      : [`vview: ${elapsed.toFixed(3)} s; joined the monitor of the view around this one as its layer ${layer}: the stops are taken and counted there`];
  if (s.nativeRewrites) lines.push(`  mounts: ${s.nativeRewrites} calls rewritten to their host path in native code`);
  if (s.statsEmulated || s.statsPatched) lines.push(`  stat view: ${s.statsEmulated} stat calls answered in native code, ${s.statsPatched} run by the kernel and shown at exit`);
  lines.push(`  monitor: peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
  if (s.emuRequests || s.emuStops) lines.push(`  ptrace in the view: ${s.emuRequests} requests answered, ${s.emuStops} stops reported to inner tracers, ${s.emuWaits} waits seen, ${s.emuWakes} waits woken`);
  const arch = currentArch();
  const top = Object.entries(s.seccompStops)
    .map(([nr, n]) => [arch.names.get(Number(nr)) ?? `#${nr}`, n] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  if (top.length) lines.push(`  seccomp stops by syscall: ${top.map(([name, n]) => `${name} ${n}`).join(', ')}`);
  if (rows.length) {
    lines.push(`  ${'module'.padEnd(12)} ${'syscall'.padEnd(18)} ${'calls'.padStart(9)} ${'handler ms'.padStart(11)} ${'µs/call'.padStart(8)}`);
    for (const r of rows) {
      const ms = Number(r.ns) / 1e6;
      lines.push(`  ${r.module.padEnd(12)} ${r.syscall.padEnd(18)} ${String(r.calls).padStart(9)} ${ms.toFixed(2).padStart(11)} ${((ms * 1000) / r.calls).toFixed(1).padStart(8)}`);
    }
  } else lines.push('  no call reached a module');
  say(fd, lines.join('\n'));
}

/**
 * Joined (src/vm/layers.ts): the outer monitor traces the command and sends
 * the calls this view's modules answer; this process serves them with its
 * router, keeps its modules' per-process state from the process events, and
 * reaps its command. Returns when its command is reaped and the outer
 * monitor says no process of the layer is left (or the channel closed: the
 * outer monitor is gone).
 */
async function serveJoined(
  ch: Channel, rn: Native, n: Native, router: Router, procs: ProcessTable, pid: number,
  poke: () => void, setWake: (w: () => void) => void,
): Promise<void> {
  const codec = await import('./channel.js');
  const tops = new Map<number, bigint>();
  Object.assign(rn, {
    resume: (tid: number, action: NativeAction) => {
      const top = tops.get(tid);
      tops.delete(tid);
      ch.send({ t: 'resume', tid, action: codec.encodeAction((top === undefined ? action : { ...action, scratchTop: top }) as unknown as Record<string, unknown>) });
      return 0;
    },
    scratch: (tid: number, len: number) => {
      const cur = tops.get(tid);
      if (cur === undefined) return -3; // ESRCH: not parked
      const top = (cur - BigInt(len)) & ~15n;
      tops.set(tid, top);
      return Number(top);
    },
  });
  let rootGone = false;
  let empty = false; // the outer monitor says no process of the layer is left
  let closed = false;
  ch.onFrame = (f: Frame) => {
    if (f.t === 'sys' || f.t === 'exit') f.ev = codec.decodeEvent(f.ev as Record<string, unknown>);
    const ev = f.ev as { tid: number; pid: number; child: number; thread: boolean; oldTid: number; last: boolean; scratchTop?: bigint };
    switch (f.t) {
      case 'sys':
        tops.set(ev.tid, ev.scratchTop ?? 0n);
        router.onSyscall(f.ev as Parameters<Router['onSyscall']>[0]);
        break;
      case 'exit':
        router.onSyscallExit(f.ev as Parameters<Router['onSyscallExit']>[0]);
        break;
      case 'spawn':
        procs.onSpawn(ev.tid, ev.child, ev.thread);
        break;
      case 'exec':
        if (ev.oldTid !== ev.tid) router.forget(ev.oldTid);
        procs.onExec(ev.pid, ev.oldTid);
        break;
      case 'gone':
        router.forget(ev.tid);
        procs.onExit(ev.tid, ev.last);
        if (ev.tid === pid) rootGone = true;
        if (f.left === 0) empty = true;
        break;
    }
    poke();
  };
  ch.onClose = () => {
    closed = true;
    poke();
  };
  let reaped = false;
  while (!closed && !(reaped && empty)) {
    if (rootGone && !reaped) {
      // The outer monitor has seen the command's exit: it is ours to reap now.
      const ev = n.next(false);
      if (ev.type === EventType.Done) {
        reaped = true;
        continue;
      }
      if (ev.type === EventType.Exit) {
        if (ev.tid === pid) reaped = true;
        continue;
      }
      if (ev.type === EventType.Foreign) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      await new Promise<void>((resolve) => {
        setWake(resolve);
        n.armWaker();
      });
      continue;
    }
    await new Promise<void>((resolve) => setWake(resolve));
  }
}
