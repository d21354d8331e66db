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
import { native, EventType } from './native.js';
import { currentArch } from './arch/index.js';
import { watchOwnChildren } from './children.js';
import { ProcessTable } from './process.js';
import { Router, type LoadedModule, type TraceSink } from './router.js';
import type { ModuleContext } from './module.js';
import { PathAliases, viewPathsModule } from './viewpaths.js';
import type { ViewConfig } from './config.js';

export interface RunOptions {
  command: string[];
  config: ViewConfig;
  /** --trace: where lines go (a file descriptor). */
  traceFd?: number;
  stats?: boolean;
  /** Where vview's own messages go. */
  stderrFd?: number;
}

export class SetupError extends Error {}

function say(fd: number, text: string): void {
  try {
    fs.writeSync(fd, text.endsWith('\n') ? text : text + '\n');
  } catch {
    /* nowhere to report */
  }
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
  watchOwnChildren();
  const procs = new ProcessTable();
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
      claimInode: (dev, ino) => n.claimInode(dev, ino, i),
      perProcess: (init, fork) => procs.perProcess(init, fork),
      processOf: (tid) => procs.processOf(tid),
      showOwnership: (ids) => {
        if (ownershipBy !== undefined) throw new Error(`ownership is already shown by module ${ownershipBy}; two fake-owner modules cannot share a view`);
        ownershipBy = entry.name;
        n.statView(ids);
        return {
          set: (dev, ino, o) =>
            n.statOwner(dev, ino, o && {
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
      modules.push({ name: entry.name, instance: await entry.def.setup(entry.options, ctx), where: entry.where });
    } catch (e) {
      await closeAll(modules, errFd);
      scratch.remove();
      throw new SetupError(`module ${entry.name}: ${(e as Error).message}`);
    }
  }
  settingUp = false;
  if (aliases.entries.length) modules.push({ name: 'vview', instance: viewPathsModule(n) });

  const trace: TraceSink | undefined =
    opts.traceFd === undefined ? undefined : { line: (t) => say(opts.traceFd!, t) };
  try {
    router = new Router(n, modules, trace, (msg) => say(errFd, `vview: ${msg}`), ownershipBy !== undefined);
  } catch (e) {
    await closeAll(modules, errFd);
    scratch.remove();
    throw new SetupError((e as Error).message);
  }
  const cfg = router.nativeConfig();
  n.configure({ routes: cfg.routes, prefixes: cfg.prefixes, objects: cfg.objects, aliases: [...aliases.entries] });

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

  const t0 = process.hrtime.bigint();
  try {
    for (;;) {
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
          router.onSyscall(ev);
          continue;
        case EventType.SyscallExit:
          router.onSyscallExit(ev);
          continue;
        case EventType.Spawn:
          procs.onSpawn(ev.tid, ev.child, ev.thread);
          continue;
        case EventType.Exec:
          if (ev.oldTid !== ev.tid) router.forget(ev.oldTid);
          procs.onExec(ev.pid, ev.oldTid);
          continue;
        case EventType.Exit:
          router.forget(ev.tid);
          procs.onExit(ev.tid, ev.last);
          continue;
      }
      break;
    }
  } finally {
    n.stopWaker();
    await closeAll(modules, errFd);
    scratch.remove();
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  if (opts.stats) printStats(errFd, router, n.stats(), elapsed);
  return exitStatus(n.rootStatus());
}

async function closeAll(modules: LoadedModule[], errFd: number): Promise<void> {
  for (const m of modules) {
    try {
      await m.instance.close?.();
    } catch (e) {
      say(errFd, `vview: ${m.name}: close failed: ${(e as Error).message}`);
    }
  }
}

/** The monitor's private scratch tree (0700), made on first use, removed at the end. */
class Scratch {
  private root: string | undefined;

  dir(name: string): string {
    if (!this.root) this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-scratch-')); // mode 0700
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

function printStats(fd: number, router: Router, s: ReturnType<ReturnType<typeof native>['stats']>, elapsed: number): void {
  const rows = router.statsRows();
  const lines = [`vview: ${elapsed.toFixed(3)} s; ${s.stops} tracer stops, ${s.fastResumes} resumed in native code, ${s.jsEvents} handed to JavaScript, ${s.lookups} host path lookups, ${s.cacheHits} answered from the cache`];
  if (s.nativeRewrites) lines.push(`  mounts: ${s.nativeRewrites} calls rewritten to their host path in native code`);
  if (s.statsEmulated || s.statsPatched) lines.push(`  stat view: ${s.statsEmulated} stat calls answered in native code, ${s.statsPatched} run by the kernel and shown at exit`);
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
