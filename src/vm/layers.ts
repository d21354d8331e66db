/**
 * Joined views: one monitor, a stack of views (README "A vview inside a
 * vview"; native/tracer.h Layer).
 *
 * An inner `vview run` inside a view does not trace its command itself. It
 * sets up its modules as usual, then asks the monitor that traces it to take
 * its view as a new *layer*: `prctl(Join.prctl, Join.open, fd)` with one end
 * of a socket pair. The monitor sees that request at a ptrace stop, so it
 * knows exactly which process made it (no path, no variable a program could
 * forge), and copies the socket (pidfd_getfd): that is the layer's private
 * channel. The inner vview sends its routing table; the monitor loads it as
 * the layer's native tables and answers `ready`; the inner vview's command
 * enters the layer before its exec (`Join.enter`, allowed to that child
 * only, once) and installs the layer's filter. From then on every stop of
 * that subtree is taken once, by the one monitor, which runs each layer's
 * native fast path (innermost first) and sends the calls a layer's modules
 * must answer over its channel. The inner vview serves them with its own
 * router and modules: it is itself a process of the outer view, so its own
 * files (its config, its state, its scratch copy) are seen through the layers
 * outside it only, as DESIGN.md §5 asks.
 *
 * Wire format: frames of a 4-byte little-endian length and JSON (bigints and
 * buffers tagged). Monitor -> inner: ready, sys (an entry event), exit (an
 * exit event), spawn, exec, gone. Inner -> monitor: config, resume, and the
 * relayed native calls of its modules (statView, statOwner, claim).
 */
import fs from 'node:fs';
import type { Channel, Frame } from './channel.js';
import type * as ChannelModule from './channel.js';
import type { Native, NativeAction, NativeEvent, NativePrefix, NativeRoute } from './native.js';
import { EventType } from './native.js';

/** What the monitor's event loop lends a layer: pending work keeps it from blocking in native code. */
export interface Busy {
  inc(): void;
  dec(): void;
}

/** The routing table an inner vview sends (its Router.nativeConfig() and aliases). */
export interface LayerConfig {
  routes: NativeRoute[];
  prefixes: NativePrefix[];
  objects: [bigint, bigint, number][];
  aliases: [string, string][];
}

// ---- the monitor's side --------------------------------------------------------

/**
 * Why a layer cannot be joined, if it cannot: native code resolves a layer's
 * paths below its mounts by looking at the host directories behind them
 * (aliases). When such a directory is itself virtual in a layer outside it
 * (a vfs whose state, and so its working copy, lives in an outer memfs; a
 * bind whose source is an outer mount), only a monitor that sees it through
 * the outer layers can resolve it: the inner vview then traces its command
 * itself, through the ptrace emulation.
 */
export function joinRefusal(cfg: LayerConfig, outer: LayerConfig[]): string | undefined {
  const overlaps = (a: string, b: string) => a === b || a.startsWith(b === '/' ? '/' : b + '/') || b.startsWith(a === '/' ? '/' : a + '/');
  for (const [host] of cfg.aliases)
    for (const o of outer)
      for (const p of o.prefixes)
        if (overlaps(host, p.path)) return `its mount's directory ${host} is in the outer view's ${p.path}`;
  return undefined;
}

/**
 * The routing table a joining process sent, checked before native code sees
 * it (any process of the view can ask to join: a malformed table is refused,
 * never a crash of the monitor). Returns the table or why it is refused.
 */
export function checkLayerConfig(c: unknown): LayerConfig | string {
  const o = c as Partial<LayerConfig> | null;
  const int = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;
  const ints = (v: unknown) => v === undefined || (Array.isArray(v) && v.length <= 4096 && v.every((x) => int(x, 4095)));
  const str = (v: unknown) => typeof v === 'string' && v.startsWith('/') && v.length < 4096 && !v.includes('\0');
  if (!o || typeof o !== 'object') return 'no table';
  if (!Array.isArray(o.routes) || o.routes.length > 4096 || !o.routes.every((r) => Array.isArray(r) && r.length === 2 && int(r[0], 4095) && int(r[1], 255)))
    return 'bad routes';
  if (!Array.isArray(o.prefixes) || o.prefixes.length > 65536 || !o.prefixes.every((p) => p && str(p.path) && int(p.module, 65535) && ints(p.nrs) && ints(p.direct)))
    return 'bad prefixes';
  if (!Array.isArray(o.objects) || !o.objects.every((x) => Array.isArray(x) && x.length === 3 && typeof x[0] === 'bigint' && typeof x[1] === 'bigint' && x[0] >= 0n && x[1] >= 0n && x[0] < 1n << 64n && x[1] < 1n << 64n && int(x[2], 65535)))
    return 'bad objects';
  if (!Array.isArray(o.aliases) || !o.aliases.every((a) => Array.isArray(a) && a.length === 2 && str(a[0]) && str(a[1]))) return 'bad aliases';
  return { routes: o.routes, prefixes: o.prefixes, objects: o.objects, aliases: o.aliases };
}

/** One joined layer, as the monitor tracing its processes sees it. */
class RemoteLayer {
  readonly ch: Channel;
  private readonly pending = new Set<number>();
  private ready = false;
  config: LayerConfig | undefined;

  constructor(
    private readonly n: Native,
    readonly layer: number,
    readonly parent: number,
    ch: Channel,
    private readonly codec: typeof ChannelModule,
    private readonly busy: Busy,
    private readonly warn: (msg: string) => void,
    /** The configurations of the layers outside it, outermost last. */
    private readonly outer: () => LayerConfig[],
  ) {
    this.ch = ch;
    busy.inc(); // until its configuration is loaded: the inner vview waits for `ready`
    this.ch.onFrame = (f) => {
      try {
        this.frame(f);
      } catch (e) {
        // A malformed message from the joining process: its layer ends here.
        this.warn(`joined view ${this.layer}: ${(e as Error).message}; its channel is closed`);
        this.ch.close();
      }
    };
    this.ch.onClose = () => this.closed();
  }

  private frame(f: Frame): void {
    const L = this.layer;
    switch (f.t) {
      case 'config': {
        if (this.ready) return;
        this.ready = true;
        this.busy.dec();
        const c = checkLayerConfig(f.config);
        if (typeof c === 'string') throw new Error(`its routing table is refused (${c})`);
        const why = joinRefusal(c, this.outer());
        if (why) {
          this.ch.send({ t: 'refused', why });
          return;
        }
        this.config = c;
        this.n.configure({ routes: c.routes, prefixes: c.prefixes, objects: c.objects, aliases: c.aliases }, L);
        this.ch.send({ t: 'ready' });
        return;
      }
      case 'resume': {
        const tid = f.tid as number;
        if (!this.pending.delete(tid)) return;
        this.busy.dec();
        if (!f.action || typeof f.action !== 'object') throw new Error('an answer without an action');
        this.n.resume(tid, this.codec.decodeAction(f.action as Record<string, unknown>) as unknown as NativeAction);
        return;
      }
      case 'statView':
        this.n.statView(f.ids as Parameters<Native['statView']>[0], L);
        return;
      case 'statOwner':
        this.n.statOwner(f.dev as bigint, f.ino as bigint, (f.owner ?? null) as Parameters<Native['statOwner']>[2], L);
        return;
      case 'claim':
        this.n.claimInode(f.dev as bigint, f.ino as bigint, f.module as number, L);
        return;
      default:
        this.warn(`joined view ${L}: unknown message ${JSON.stringify(f.t)}`);
    }
  }

  /** An event its modules must answer: sent, and the tracee stays parked until the answer. */
  call(t: 'sys' | 'exit', ev: NativeEvent & { tid: number }): void {
    if (this.pending.has(ev.tid)) return;
    this.pending.add(ev.tid);
    this.busy.inc();
    this.ch.send({ t, ev: this.codec.encodeEvent(ev as unknown as Record<string, unknown>) });
  }

  tell(t: string, ev: NativeEvent, left?: number): void {
    this.ch.send(left === undefined ? { t, ev } : { t, ev, left });
  }

  private closed(): void {
    // The inner vview is gone (or going): the monitor kills what is left of
    // its layer when its process exits; nothing it owed will come.
    if (!this.ready) {
      this.ready = true;
      this.busy.dec();
    }
    for (const _ of this.pending) this.busy.dec();
    this.pending.clear();
  }

  close(): void {
    this.ch.close();
  }
}

/** The joined layers of this monitor (layer 0, its own view, is the Router's). */
export class Layers {
  private readonly remote = new Map<number, RemoteLayer>();
  private readonly parent = new Map<number, number>([[0, -1]]);

  constructor(
    private readonly n: Native,
    private readonly busy: Busy,
    private readonly warn: (msg: string) => void,
    /** This monitor's own view's table (layer 0). */
    private readonly own: LayerConfig,
  ) {}

  get joined(): number {
    return this.remote.size;
  }

  async onJoin(ev: { layer: number; parent: number; fd: number }): Promise<void> {
    const codec = await import('./channel.js');
    this.parent.set(ev.layer, ev.parent);
    const outer = () => {
      const list: LayerConfig[] = [];
      for (let L = ev.parent; L >= 0; L = this.parent.get(L) ?? -1) {
        const c = L === 0 ? this.own : this.remote.get(L)?.config;
        if (c) list.push(c);
      }
      return list;
    };
    this.remote.set(ev.layer, new RemoteLayer(this.n, ev.layer, ev.parent, new codec.Channel(ev.fd), codec, this.busy, this.warn, outer));
  }

  /** An entry or exit event for a joined layer's modules: true when it was one. */
  onCall(ev: NativeEvent & { layer?: number }): boolean {
    const L = ev.layer ?? 0;
    if (L === 0) return false;
    const r = this.remote.get(L);
    if (!r) {
      // (A layer whose server went away: its processes are being killed.)
      this.n.resume((ev as { tid: number }).tid, { kind: 0 });
      return true;
    }
    r.call(ev.type === EventType.Syscall ? 'sys' : 'exit', ev as NativeEvent & { tid: number });
    return true;
  }

  /** A process event (spawn, exec, exit) of a process in layer `ev.layer`: every joined layer around it hears it. */
  onProcess(ev: NativeEvent & { layer?: number }): void {
    const t = ev.type === EventType.Spawn ? 'spawn' : ev.type === EventType.Exec ? 'exec' : 'gone';
    // With an exit: how many processes the layer has left (0: its server is done).
    for (let L = ev.layer ?? 0; L > 0; L = this.parent.get(L) ?? -1)
      this.remote.get(L)?.tell(t, ev, t === 'gone' ? this.n.layerSize(L) : undefined);
  }

  close(): void {
    for (const r of this.remote.values()) r.close();
    this.remote.clear();
  }
}

// ---- the inner vview's side ----------------------------------------------------

/**
 * Asks the monitor tracing this process to join (Join.open). The channel's
 * fd and the layer, or undefined when no monitor joins us (not in a view:
 * EINVAL; an older vview; VVIEW_NO_JOIN).
 */
export function tryJoin(n: Native): { fd: number; layer: number } | { why: string } | undefined {
  const pair = n.socketPair();
  if (typeof pair === 'number') return undefined;
  const layer = n.join(pair[1]);
  fs.closeSync(pair[1]); // the monitor has its own copy now
  if (layer <= 0) {
    fs.closeSync(pair[0]);
    // EAGAIN: as many joined views as the monitor keeps are running.
    return layer === -11 ? { why: 'the monitor of the view around this one serves 63 joined views already' } : undefined;
  }
  return { fd: pair[0], layer };
}

/**
 * The native calls a module makes through its context (claimInode,
 * statView, statOwner): applied here (statShow, viewPath read them back) and,
 * once joined, in the monitor's tables for the layer too. Calls made before
 * the join (in setup) are sent with it.
 */
export class Relay {
  private ch: Channel | undefined;
  private readonly early: Frame[] = [];

  constructor(private readonly n: Native) {}

  attach(ch: Channel): void {
    this.ch = ch;
    for (const f of this.early) ch.send(f, true);
  }

  /** Not joined (or refused): nothing more to send. */
  drop(): void {
    this.ch = undefined;
    this.early.length = 0;
  }

  private send(f: Frame): void {
    if (this.ch) this.ch.send(f, true);
    else this.early.push(f);
  }

  claimInode(dev: bigint | number, ino: bigint | number, module: number): void {
    this.n.claimInode(dev, ino, module);
    this.send({ t: 'claim', dev: BigInt(dev), ino: BigInt(ino), module });
  }

  statView(ids: Parameters<Native['statView']>[0]): void {
    this.n.statView(ids);
    this.send({ t: 'statView', ids });
  }

  statOwner(dev: bigint | number, ino: bigint | number, owner: Parameters<Native['statOwner']>[2]): void {
    this.n.statOwner(dev, ino, owner);
    this.send({ t: 'statOwner', dev: BigInt(dev), ino: BigInt(ino), owner });
  }
}
