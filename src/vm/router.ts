/**
 * The router: compiles the modules' declarations into the native routing table
 * (and so the seccomp filter), and sends each call native code hands up to the
 * module(s) that claimed it, then applies the answer.
 */
import fs from 'node:fs';
import { currentArch, type SyscallName } from './arch/index.js';
import { SYSCALL_SPECS } from './syscalls/table.js';
import { REFUSALS } from './syscalls/spec.js';
import { formatCall, formatResult, type MemReader } from './syscalls/decode.js';
import { errnoNumber } from './errno.js';
import {
  EventType, ResumeKind, RouteBits,
  type ArgRoute, type Native, type NativeAction, type NativeEvent, type NativePrefix, type NativeRoute,
} from './native.js';
import { Join } from './abi.js';
import { openFlags } from './syscalls/open.js';
import type { SyscallSpec } from './syscalls/spec.js';
import {
  RESTART, SyscallError, rewrite,
  type Action, type CallFd, type CallPath, type ExitHook, type Handler, type ModuleInstance,
  type SyscallCall, type SyscallExit, type TraceeMemory,
} from './module.js';

/** Calls the native ptrace emulation answers (docs/ptrace-emulation.md), in every view. */
const EMULATED: ReadonlySet<string> = new Set(['ptrace', 'wait4', 'waitid', 'seccomp', 'prctl']);
const PR_SET_SECCOMP = 22;

export interface LoadedModule {
  name: string;
  instance: ModuleInstance;
  /** Where it was configured, for messages (ModuleEntry.where). */
  where?: string;
}

export interface TraceSink {
  line(text: string): void;
}

interface StatRow {
  module: string;
  syscall: string;
  calls: number;
  ns: bigint;
}

const EIO = -BigInt(errnoNumber('EIO'));

type SyscallEvent = Extract<NativeEvent, { type: typeof EventType.Syscall }>;
type ExitEvent = Extract<NativeEvent, { type: typeof EventType.SyscallExit }>;

interface Pending {
  hook?: ExitHook;
  module: string;
  text: string; // the call as --trace prints it
}

export class Router {
  private readonly arch = currentArch();
  private readonly byName = new Map<number, number[]>(); // nr -> module indices
  private readonly byFd = new Map<number, number[]>();
  private readonly refused = new Map<number, { errno: string; why: string }>();
  private readonly prefixes: NativePrefix[] = [];
  private readonly objects: [bigint, bigint, number][] = [];
  /** Some module serves whole subtrees: every path syscall is a candidate. */
  private mounts = false;
  /** Path syscalls that modules with narrowed prefixes (paths.syscalls) asked for. */
  private readonly pathOnly = new Set<SyscallName>();
  private readonly pending = new Map<number, Pending>(); // tid -> exit hook awaited
  private readonly stats = new Map<string, StatRow>();
  private readonly reported = new Set<string>();
  private readonly refusedSeen = new Set<string>();
  /** Refuse the exec of a 32-bit program (see nativeConfig). */
  private archCheck = false;
  /** 32-bit programs whose exec was refused (the message is printed once each). */
  private readonly foreignSeen = new Set<string>();
  /** Calls whose handler has not answered yet (tracee parked). */
  inFlight = 0;
  onSettled: () => void = () => {};

  constructor(
    private readonly native: Native,
    private readonly modules: LoadedModule[],
    private readonly trace: TraceSink | undefined,
    private readonly warn: (msg: string) => void,
    /** A module shows fake ownership: the stat family goes through native code's stat view. */
    private readonly statView = false,
  ) {
    const { numbers } = this.arch;
    modules.forEach((m, i) => {
      for (const name of Object.keys(m.instance.syscalls ?? {}) as SyscallName[]) push(this.byName, numbers[name], i);
      for (const name of Object.keys(m.instance.fds?.handlers ?? {}) as SyscallName[]) {
        if (!SYSCALL_SPECS[name].fds?.length) throw new Error(`module ${m.name}: ${name} takes no fd; it cannot be routed by fd`);
        push(this.byFd, numbers[name], i);
      }
      const paths = m.instance.paths;
      if (!paths) return;
      if (!paths.syscalls) this.mounts = true;
      else for (const name of paths.syscalls) {
        if (!SYSCALL_SPECS[name]?.paths?.length) throw new Error(`module ${m.name}: ${name} takes no path; it cannot be routed by path`);
        this.pathOnly.add(name);
      }
      const nrs = paths.syscalls?.map((n) => numbers[n]);
      const direct = paths.direct?.map((n) => numbers[n]);
      for (const p of paths.prefixes) this.prefixes.push({ path: p, module: i, ...(nrs && { nrs }), ...(direct && { direct }) });
      for (const o of paths.objects ?? []) this.objects.push([o.dev, o.ino, i]);
    });
    // Two mounts one inside the other: which one serves a path would depend on
    // the order of lookups; refused.
    const mounts = this.prefixes.filter((p) => !p.nrs);
    const where = (i: number) => modules[i].where ?? `modules[${i}]`;
    for (const a of mounts)
      for (const b of mounts)
        if (a.module !== b.module && (b.path === a.path || b.path.startsWith(a.path === '/' ? '/' : a.path + '/')))
          throw new Error(
            `${where(b.module)}: the mount ${b.path} (${modules[b.module].name}) overlaps the mount ${a.path} (${modules[a.module].name}) of ${where(a.module)}; mounts cannot be nested`,
          );
    // Under a mount, calls that would change what paths mean (mount, chroot) or
    // reach files without a path syscall (io_uring) are refused.
    if (this.mounts) {
      for (const [name, spec] of Object.entries(SYSCALL_SPECS) as [SyscallName, (typeof SYSCALL_SPECS)[SyscallName]][])
        if (spec.refuse) this.refused.set(numbers[name], REFUSALS[spec.refuse]);
    }
  }

  /** The routing table for native code; `traced` is what the seccomp filter stops. */
  nativeConfig(): {
    routes: NativeRoute[]; prefixes: NativePrefix[]; objects: [bigint, bigint, number][]; traced: number[]; tracedIfArg: ArgRoute[]; modulesRoute: boolean;
  } {
    const routes: NativeRoute[] = [];
    const { numbers } = this.arch;
    for (const [name, spec] of Object.entries(SYSCALL_SPECS) as [SyscallName, (typeof SYSCALL_SPECS)[SyscallName]][]) {
      const nr = numbers[name];
      let bits = 0;
      if (this.byName.has(nr) || this.refused.has(nr)) bits |= RouteBits.Name;
      if (spec.paths?.length && (this.mounts || this.pathOnly.has(name))) bits |= RouteBits.Path;
      if (this.byFd.has(nr)) bits |= RouteBits.Fd;
      // Native code caches each tracee's cwd for relative paths; it must see
      // every change of directory.
      if ((this.prefixes.length || this.statView) && (name === 'chdir' || name === 'fchdir')) bits |= RouteBits.Cwd;
      // The stat view (fake ownership) answers stat-family calls in native code.
      if (this.statView && spec.stat) bits |= RouteBits.Stat;
      // ptrace inside the view is emulated in native code (docs/ptrace-emulation.md);
      // so are the program's own seccomp filters (installed retagged).
      if (EMULATED.has(name)) bits |= RouteBits.Emu;
      if (bits) routes.push([nr, bits]);
    }
    const traced: number[] = [];
    const tracedIfArg: ArgRoute[] = [];
    for (const [nr, bits] of routes) {
      // prctl stops for the emulation only as prctl(PR_SET_SECCOMP, ...).
      if (bits === RouteBits.Emu && nr === numbers.prctl) {
        tracedIfArg.push([nr, 0, PR_SET_SECCOMP]);
        // ... and as an inner vview's request to join this monitor (src/vm/layers.ts).
        tracedIfArg.push([nr, 0, Join.prctl]);
        continue;
      }
      const arg = bits === RouteBits.Name && !this.refused.has(nr) ? this.argCondition(nr) : undefined;
      if (arg === undefined) traced.push(nr);
      else tracedIfArg.push([nr, arg]);
    }
    // Only the ptrace emulation routes: no module sees any call, so i386 and
    // x32 calls need not be refused (the empty view stays transparent for them).
    const modulesRoute = routes.some(([, bits]) => (bits & ~RouteBits.Emu) !== 0);
    // With modules, a 32-bit program would get ENOSYS for every call (the
    // filter's i386/x32 answer) and die of it: its exec is refused first.
    this.archCheck = modulesRoute;
    if (modulesRoute) {
      for (const name of EXECS) {
        const nr = numbers[name];
        const r = routes.find(([n]) => n === nr);
        if (r) r[1] |= RouteBits.Exec;
        else routes.push([nr, RouteBits.Exec]);
        if (!traced.includes(nr)) traced.push(nr);
        const k = tracedIfArg.findIndex(([n]) => n === nr);
        if (k >= 0) tracedIfArg.splice(k, 1);
      }
    }
    return { routes, prefixes: this.prefixes, objects: this.objects, traced, tracedIfArg, modulesRoute };
  }

  /** The argument every module routing nr by name agrees must be non-zero for a stop, if any. */
  private argCondition(nr: number): number | undefined {
    const name = this.arch.names.get(nr);
    if (!name) return undefined;
    let arg: number | undefined;
    for (const i of this.byName.get(nr) ?? []) {
      const a = this.modules[i].instance.when?.[name]?.argNonZero;
      if (a === undefined || !Number.isInteger(a) || a < 0 || a > 5 || (arg !== undefined && a !== arg)) return undefined;
      arg = a;
    }
    return arg;
  }

  // ---- entry -----------------------------------------------------------------

  onSyscall(ev: SyscallEvent): void {
    const name = this.arch.names.get(ev.nr);
    if (!name) {
      this.resume(ev.tid, { kind: 'forward' }, '', '');
      return;
    }
    const refuse = this.refused.get(ev.nr);
    if (refuse && !this.byName.has(ev.nr)) {
      const text = this.traceText(ev, name);
      if (!this.refusedSeen.has(name)) {
        this.refusedSeen.add(name);
        this.warn(`${name} refused with ${refuse.errno}: ${refuse.why}`);
      }
      this.resume(ev.tid, { kind: 'return', value: -BigInt(errnoNumber(refuse.errno)) }, 'vview', text);
      return;
    }
    // A path native code's walk refused (openat2's RESOLVE_* scope) after it
    // reached a module: the kernel's own walk from the host could reach
    // another object, so the view answers the walk's error.
    const refusedPath = ev.paths.find((p) => p.module >= 0 && p.error !== undefined);
    if (refusedPath) {
      this.resume(ev.tid, { kind: 'return', value: BigInt(refusedPath.error!) }, this.modules[refusedPath.module].name, this.traceText(ev, name));
      return;
    }
    if (this.archCheck && (name === 'execve' || name === 'execveat')) {
      const foreign = this.foreignExec(ev, name);
      if (foreign) {
        if (!this.foreignSeen.has(foreign) && !this.isLoaderProbe(foreign)) this.warn(`${foreign}: a 32-bit program; with modules loaded, vview runs x86-64 programs only (exec refused: Exec format error)`);
        this.foreignSeen.add(foreign);
        this.resume(ev.tid, { kind: 'return', value: -BigInt(errnoNumber('ENOEXEC')) }, 'vview', this.traceText(ev, name));
        return;
      }
    }
    const order: { module: number; route: 'name' | 'path' | 'fd' }[] = [];
    const add = (module: number, route: 'name' | 'path' | 'fd') => {
      if (!order.some((o) => o.module === module)) order.push({ module, route });
    };
    if (ev.route & RouteBits.Name) for (const m of this.byName.get(ev.nr) ?? []) add(m, 'name');
    if (ev.route & RouteBits.Path) for (const p of ev.paths) if (p.module >= 0) add(p.module, 'path');
    if (ev.route & RouteBits.Fd) for (const f of ev.fds) if (f.module >= 0) add(f.module, 'fd');
    this.runChain(ev, name, order, 0);
  }

  private handlerFor(m: ModuleInstance, route: 'name' | 'path' | 'fd', name: SyscallName): Handler | undefined {
    if (route === 'name') return m.syscalls?.[name];
    if (route === 'fd') return m.fds?.handlers[name];
    return m.paths?.handlers?.[name] ?? m.paths?.other;
  }

  /**
   * Offers the call to each module in order. A module that answers `forward`
   * lets the call run as it otherwise would: the modules after it (say, the
   * mount a path goes through) still decide how, and its exit hook runs after
   * theirs. Any other answer ends the chain.
   */
  private runChain(
    ev: SyscallEvent, name: SyscallName, order: { module: number; route: 'name' | 'path' | 'fd' }[], from: number,
    forwarded: { module: string; hooks: ExitHook[] } | undefined = undefined,
  ): void {
    for (let i = from; i < order.length; i++) {
      const { module, route } = order[i];
      const mod = this.modules[module];
      const handler = this.handlerFor(mod.instance, route, name);
      if (!handler) continue;
      const call = this.makeCall(ev, name, module, route);
      const t0 = process.hrtime.bigint();
      let answer: ReturnType<Handler>;
      try {
        answer = handler(call);
      } catch (err) {
        this.account(mod.name, name, t0);
        this.failed(ev, name, mod.name, err);
        return;
      }
      if (answer instanceof Promise) {
        this.inFlight++;
        answer.then(
          (a) => {
            this.account(mod.name, name, t0);
            const bad = a === undefined ? undefined : badAnswer(a);
            if (bad) this.failed(ev, name, mod.name, new AnswerError(mod.name, name, bad));
            else if (a !== undefined) this.settle(ev, name, mod.name, a, order, i, forwarded);
            else this.runChain(ev, name, order, i + 1, forwarded);
          },
          (err) => {
            this.account(mod.name, name, t0);
            this.failed(ev, name, mod.name, err);
          },
        ).finally(() => {
          this.inFlight--;
          this.onSettled();
        });
        return;
      }
      this.account(mod.name, name, t0);
      if (answer !== undefined) {
        const bad = badAnswer(answer);
        if (bad) this.failed(ev, name, mod.name, new AnswerError(mod.name, name, bad));
        else this.settle(ev, name, mod.name, answer, order, i, forwarded);
        return;
      }
    }
    if (forwarded) {
      this.apply(ev, name, forwarded.module, { kind: 'forward', onExit: chainHooks(forwarded.hooks) });
      return;
    }
    // Nobody answered: the kernel runs it.
    this.resume(ev.tid, { kind: 'forward' }, this.trace ? 'kernel' : '', this.trace ? this.traceText(ev, name) : '');
  }

  /** Module order[i] answered `a` (see runChain). */
  private settle(
    ev: SyscallEvent, name: SyscallName, module: string, a: Action, order: { module: number; route: 'name' | 'path' | 'fd' }[], i: number,
    forwarded: { module: string; hooks: ExitHook[] } | undefined,
  ): void {
    if (a.kind === 'forward' && i + 1 < order.length) {
      const hooks = [...(forwarded?.hooks ?? []), ...(a.onExit ? [a.onExit] : [])];
      this.runChain(ev, name, order, i + 1, { module: forwarded?.module ?? module, hooks });
      return;
    }
    // The kernel runs it (forwarded or rewritten): the earlier modules' hooks see the exit too.
    if (forwarded?.hooks.length && a.kind !== 'return') a = { ...a, onExit: chainHooks([...forwarded.hooks, ...(a.onExit ? [a.onExit] : [])]) };
    this.apply(ev, name, module, a);
  }

  private failed(ev: SyscallEvent, name: SyscallName, module: string, err: unknown): void {
    if (err instanceof AnswerError) {
      const key = `${module}\0${name}\0answer`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.warn(`${err.message} (answered EIO; reported once)`);
      }
      this.resume(ev.tid, { kind: 'return', value: EIO }, module, this.traceText(ev, name));
      return;
    }
    if (err instanceof SyscallError) {
      this.resume(ev.tid, { kind: 'return', value: -BigInt(errnoNumber(err.errno)) }, module, this.traceText(ev, name));
      return;
    }
    const key = `${module}\0${name}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.warn(`module ${module} failed on ${name} (answered EIO; reported once): ${stack}`);
    }
    this.resume(ev.tid, { kind: 'return', value: EIO }, module, this.traceText(ev, name));
  }

  private apply(ev: SyscallEvent, name: SyscallName, module: string, a: Action): void {
    const text = this.trace ? this.traceText(ev, name) : '';
    try {
      this.resume(ev.tid, a, module, text);
    } catch (err) {
      this.failed(ev, name, module, err);
    }
  }

  private resume(tid: number, a: Action, module: string, text: string): void {
    if (a.kind === 'return') {
      if (this.trace && text) this.trace.line(`${prefix(tid)}${text} = ${formatResult(a.value)} <${module}>`);
      this.native.resume(tid, { kind: ResumeKind.Return, value: a.value });
      return;
    }
    const action: NativeAction = { kind: ResumeKind.Continue };
    if (a.kind === 'rewrite') {
      const args: [number, bigint][] = [];
      const strings: [number, string | Buffer][] = [];
      for (const [k, v] of Object.entries(a.args)) {
        const i = Number(k);
        if (typeof v === 'string') strings.push([i, v]);
        else if (Buffer.isBuffer(v)) strings.push([i, v]);
        else args.push([i, BigInt(v)]);
      }
      if (args.length) action.args = args;
      if (strings.length) action.strings = strings;
      if (a.hostPaths?.length) action.hostPaths = a.hostPaths.reduce((m, i) => m | (1 << i), 0);
    }
    const wantExit = !!a.onExit || (!!this.trace && !!text);
    if (wantExit) {
      this.pending.set(tid, { hook: a.onExit, module, text });
      action.wantExit = true;
    }
    const r = this.native.resume(tid, action);
    if (r < 0) this.pending.delete(tid);
  }

  /**
   * The program an execve/execveat would run, when it is a 32-bit ELF (i386,
   * or x32): its path as the process gave it. Undefined otherwise, or when the
   * kernel will refuse the call anyway (it answers then).
   */
  private foreignExec(ev: SyscallEvent, name: 'execve' | 'execveat'): string | undefined {
    const mem = this.memory(ev.tid);
    const at = name === 'execveat' ? 1 : 0;
    let raw: string;
    try {
      raw = ev.paths[0]?.raw ?? mem.readString(ev.args[at]);
    } catch {
      return undefined;
    }
    let file: string;
    const p = ev.paths[0];
    if (p?.host !== undefined) file = p.host;
    else if (p?.canonical !== undefined && p.raw !== '') file = p.canonical;
    else {
      const dirfd = name === 'execveat' ? Number(BigInt.asIntN(32, ev.args[0])) : -100;
      const base = dirfd === -100 ? `/proc/${ev.tid}/cwd` : `/proc/${ev.tid}/fd/${dirfd}`;
      if (raw === '') file = base;
      else if (raw.startsWith('/')) file = raw.replace(/^\/proc\/(self|thread-self)(?=\/|$)/, (_m, w: string) => (w === 'self' ? `/proc/${ev.pid}` : `/proc/${ev.pid}/task/${ev.tid}`));
      else file = `${base}/${raw}`;
    }
    const head = Buffer.alloc(20);
    try {
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        if (fs.readSync(fd, head, 0, 20, 0) < 20) return undefined;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return undefined;
    }
    const elf = head[0] === 0x7f && head.toString('latin1', 1, 4) === 'ELF';
    const ELFCLASS32 = 1;
    return elf && head[4] === ELFCLASS32 ? raw || file : undefined;
  }

  /**
   * A 32-bit dynamic loader run as a program (ldd tries /lib/ld-linux.so.2
   * --verify on every binary and takes a failure as "not this one"): refused
   * without a message, which would only be noise there.
   */
  private isLoaderProbe(raw: string): boolean {
    return /(^|\/)ld-linux\.so\.2$/.test(raw);
  }

  // ---- exit ------------------------------------------------------------------

  onSyscallExit(ev: ExitEvent): void {
    const p = this.pending.get(ev.tid);
    this.pending.delete(ev.tid);
    const name = this.arch.names.get(ev.nr) ?? (`syscall_${ev.nr}` as SyscallName);
    const finish = (res: number | bigint | typeof RESTART | void) => {
      const bad = p ? badResult(res) : undefined;
      if (bad) {
        const key = `${p!.module}\0${name}\0exit-answer`;
        if (!this.reported.has(key)) {
          this.reported.add(key);
          this.warn(`module ${p!.module}: the exit hook of ${name} returned ${bad} (answered EIO; reported once)`);
        }
        res = -errnoNumber('EIO');
      }
      if (res === RESTART) {
        this.native.resume(ev.tid, { kind: ResumeKind.Restart });
        return;
      }
      const result = res === undefined ? ev.ret : res;
      if (this.trace && p?.text) this.trace.line(`${prefix(ev.tid)}${p.text} = ${formatResult(result)} <${p.module}>`);
      if (res === undefined) this.native.resume(ev.tid, { kind: ResumeKind.Continue });
      else this.native.resume(ev.tid, { kind: ResumeKind.Return, value: BigInt(res) });
    };
    if (!p?.hook) return finish(undefined);
    const exit: SyscallExit = { pid: ev.pid, tid: ev.tid, name, args: ev.args, result: ev.ret, mem: this.memory(ev.tid) };
    const t0 = process.hrtime.bigint();
    const fail = (err: unknown) => {
      const key = `${p.module}\0${name}\0exit`;
      if (!(err instanceof SyscallError) && !this.reported.has(key)) {
        this.reported.add(key);
        this.warn(`module ${p.module} failed at the exit of ${name} (answered EIO; reported once): ${err instanceof Error ? err.stack : String(err)}`);
      }
      finish(err instanceof SyscallError ? -errnoNumber(err.errno) : -errnoNumber('EIO'));
    };
    let res: ReturnType<ExitHook>;
    try {
      res = p.hook(exit);
    } catch (err) {
      this.account(p.module, name, t0);
      return fail(err);
    }
    if (res instanceof Promise) {
      this.inFlight++;
      res.then((r) => { this.account(p.module, name, t0); finish(r); }, (err) => { this.account(p.module, name, t0); fail(err); })
        .finally(() => { this.inFlight--; this.onSettled(); });
      return;
    }
    this.account(p.module, name, t0);
    finish(res);
  }

  /** A thread vanished (killed, exec by a sibling): forget what it awaited. */
  forget(tid: number): void {
    this.pending.delete(tid);
  }

  // ---- helpers ---------------------------------------------------------------

  private makeCall(ev: SyscallEvent, name: SyscallName, module: number, route: 'name' | 'path' | 'fd'): SyscallCall {
    const paths: CallPath[] = ev.paths.map((p) => ({ raw: p.raw, canonical: p.canonical, host: p.host, lexical: !!p.lexical, mine: p.module === module }));
    const fds: CallFd[] = ev.fds.map((f) => ({ fd: f.fd, dev: f.dev, ino: f.ino, mine: f.module === module }));
    return new Call(ev, name, route, paths, fds, this.memory(ev.tid), () => formatCall(name, ev.args, this.reader(ev.tid)));
  }


  memory(tid: number): TraceeMemory {
    const n = this.native;
    return {
      read(addr, len) {
        const r = n.readMemory(tid, addr, len);
        if (typeof r === 'number') throw new SyscallError('EFAULT');
        return r;
      },
      write(addr, data) {
        if (n.writeMemory(tid, addr, data) < 0) throw new SyscallError('EFAULT');
      },
      readString(addr, max = 4095) {
        const r = n.readString(tid, addr, max);
        if (typeof r === 'number') throw new SyscallError(r === -36 ? 'ENAMETOOLONG' : 'EFAULT');
        return r.toString('utf8');
      },
      alloc(len) {
        const a = n.scratch(tid, len);
        if (a < 0) throw new SyscallError('EFAULT');
        return a;
      },
    };
  }

  private reader(tid: number): MemReader {
    const n = this.native;
    return {
      readString(addr) {
        const r = n.readString(tid, addr, 4095);
        return typeof r === 'number' ? undefined : r.toString('utf8');
      },
      readPointer(addr) {
        const r = n.readMemory(tid, addr, 8);
        return typeof r === 'number' ? undefined : r.readBigUInt64LE(0);
      },
    };
  }

  private traceText(ev: SyscallEvent, name: SyscallName): string {
    return this.trace ? formatCall(name, ev.args, this.reader(ev.tid)) : '';
  }

  private account(module: string, syscall: string, t0: bigint): void {
    const key = `${module}\0${syscall}`;
    let row = this.stats.get(key);
    if (!row) this.stats.set(key, (row = { module, syscall, calls: 0, ns: 0n }));
    row.calls++;
    row.ns += process.hrtime.bigint() - t0;
  }

  statsRows(): StatRow[] {
    return [...this.stats.values()].sort((a, b) => b.calls - a.calls);
  }
}

/**
 * Several modules' exit hooks as one: the last one (the module closest to the
 * kernel) sees the result first; each earlier one sees the result as the later
 * ones left it. RESTART from any of them restarts the call.
 */
function chainHooks(hooks: ExitHook[]): ExitHook | undefined {
  if (hooks.length <= 1) return hooks[0];
  return (exit: SyscallExit) => {
    let cur = exit;
    let changed: number | bigint | undefined;
    const step = (k: number): ReturnType<ExitHook> => {
      if (k < 0) return changed;
      const next = (v: number | bigint | typeof RESTART | void): ReturnType<ExitHook> => {
        if (v === RESTART) return RESTART;
        if (v !== undefined) {
          changed = v;
          cur = { ...cur, result: Number(v) };
        }
        return step(k - 1);
      };
      const r = hooks[k](cur);
      return r instanceof Promise ? r.then(next) : next(r);
    };
    return step(hooks.length - 1);
  };
}

const EXECS = ['execve', 'execveat'] as const;

function push(m: Map<number, number[]>, k: number, v: number): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function prefix(tid: number): string {
  return `[pid ${tid}] `;
}
/** SyscallCall.flags: the open flags, or the flags argument the table names for a path call. */
/**
 * A call as a handler sees it. A class, not an object literal: a literal with
 * a getter made every call's objects survive young-generation collections
 * (measured: ×30 GC time, +5 µs per routed call).
 */
class Call implements SyscallCall {
  readonly pid: number;
  readonly tid: number;
  readonly nr: number;
  readonly args: readonly bigint[];
  readonly path: string | undefined;
  readonly effect: SyscallSpec['effect'];
  private readonly spec: SyscallSpec;
  private readonly mine: number;
  private flagsRead = false;
  private flagsValue: number | undefined;

  constructor(
    ev: SyscallEvent,
    readonly name: SyscallName,
    readonly route: 'name' | 'path' | 'fd',
    readonly paths: readonly CallPath[],
    readonly fds: readonly CallFd[],
    readonly mem: TraceeMemory,
    readonly format: () => string,
  ) {
    this.pid = ev.pid;
    this.tid = ev.tid;
    this.nr = ev.nr;
    this.args = ev.args;
    this.spec = SYSCALL_SPECS[name];
    this.effect = this.spec.effect;
    this.mine = paths.findIndex((p) => p.mine);
    this.path = this.mine < 0 ? undefined : paths[this.mine].canonical;
  }

  int(i: number): number {
    return Number(BigInt.asIntN(32, this.args[i]));
  }

  ulong(i: number): bigint {
    return BigInt.asUintN(64, this.args[i]);
  }

  ptr(i: number): number {
    return Number(BigInt.asUintN(64, this.args[i]));
  }

  get flags(): number | undefined {
    if (!this.flagsRead) {
      this.flagsValue = callFlags(this, this.spec);
      this.flagsRead = true;
    }
    return this.flagsValue;
  }

  rewritePath(newPath: string | Buffer, onExit?: ExitHook): Action {
    const arg = this.mine < 0 ? undefined : this.spec.paths?.[this.mine]?.arg;
    if (arg === undefined) throw new Error(`rewritePath: this ${this.name} has no path of this module (routed by ${this.route})`);
    return rewrite({ [arg]: newPath }, onExit);
  }
}

function callFlags(call: SyscallCall, spec: SyscallSpec): number | undefined {
  if (spec.effect === 'open') return openFlags(call);
  const p = spec.paths?.[0];
  const arg = p?.nofollowFlag?.arg ?? p?.followFlag?.arg ?? p?.emptyPathFlag?.arg ?? (p ? spec.args.indexOf('atflags') : -1);
  return arg === undefined || arg < 0 ? undefined : call.int(arg);
}

/** A handler's answer that is not an Action. */
class AnswerError extends Error {
  constructor(module: string, syscall: string, what: string) {
    super(`module ${module}: the handler of ${syscall} returned ${what}; expected ret(), errno(), forward(), rewrite() or undefined`);
  }
}

const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/** A value for messages: strings quoted, objects as JSON (bigints as 123n), cut at 80 characters. */
function show(v: unknown): string {
  let text: string;
  if (typeof v === 'bigint') text = `${v}n`;
  else if (typeof v === 'function') text = 'a function';
  else {
    try {
      text = JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : Buffer.isBuffer(x) ? '<Buffer>' : x)) ?? String(v);
    } catch {
      text = String(v);
    }
  }
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** What is wrong with a handler's answer, or undefined when it is a valid Action. */
function badAnswer(a: unknown): string | undefined {
  if (a === null || typeof a !== 'object') return show(a);
  const act = a as Partial<Action> & { kind?: unknown };
  const hook = (h: unknown) => (h === undefined || typeof h === 'function' ? undefined : `an onExit that is not a function (${show(a)})`);
  switch (act.kind) {
    case 'return': {
      const v = (act as { value?: unknown }).value;
      if (typeof v !== 'bigint') return `a return value that is not a bigint (${show(a)})`;
      if (v < I64_MIN || v > U64_MAX) return `a return value outside 64 bits (${v}n)`;
      return undefined;
    }
    case 'forward':
      return hook((act as { onExit?: unknown }).onExit);
    case 'rewrite': {
      const r = act as { args?: unknown; hostPaths?: unknown; onExit?: unknown };
      if (!r.args || typeof r.args !== 'object') return `a rewrite without arguments (${show(a)})`;
      for (const [k, v] of Object.entries(r.args)) {
        if (!/^[0-5]$/.test(k)) return `a rewrite of argument ${show(k)} (arguments are 0 to 5)`;
        if (typeof v === 'string' || Buffer.isBuffer(v)) continue;
        if (typeof v === 'number' && Number.isSafeInteger(v)) continue;
        if (typeof v === 'bigint' && v >= I64_MIN && v <= U64_MAX) continue;
        return `a rewrite of argument ${k} to ${show(v)} (expected an integer within 64 bits, a string or a Buffer)`;
      }
      if (r.hostPaths !== undefined && !(Array.isArray(r.hostPaths) && r.hostPaths.every((i) => Number.isInteger(i) && i >= 0 && i <= 5)))
        return `hostPaths ${show(r.hostPaths)} (expected argument indices 0 to 5)`;
      return hook(r.onExit);
    }
    default:
      return show(a);
  }
}

/** What is wrong with an exit hook's result, or undefined. */
function badResult(res: unknown): string | undefined {
  if (res === undefined || res === RESTART) return undefined;
  if (typeof res === 'number' && Number.isSafeInteger(res)) return undefined;
  if (typeof res === 'bigint' && res >= I64_MIN && res <= U64_MAX) return undefined;
  return show(res);
}
