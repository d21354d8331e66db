/**
 * The process tree as the monitor sees it: threads grouped into processes, with
 * per-module state that follows fork (copied), exec (kept) and exit (the
 * module's exit hook sees it, then it is dropped).
 */
import type { PerProcess, ProcessHooks } from './module.js';

export interface ProcessInfo {
  pid: number;
  threads: Set<number>;
}

interface StateSlot {
  init: (pid: number) => unknown;
  hooks: ProcessHooks<unknown>;
  values: Map<number, unknown>;
}

export class ProcessTable {
  readonly processes = new Map<number, ProcessInfo>();
  private readonly threadToPid = new Map<number, number>();
  private readonly slots: StateSlot[] = [];
  private readonly exitListeners: ((pid: number) => unknown)[] = [];

  /**
   * cb(pid) after the last thread of a process has exited: the process is no
   * longer live (perProcess get() refuses it), its state is still there (peek()).
   */
  onProcessExit(cb: (pid: number) => unknown): void {
    this.exitListeners.push(cb);
  }

  /** A process of the view (the command; children come through onSpawn). */
  add(pid: number): void {
    this.processes.set(pid, { pid, threads: new Set([pid]) });
    this.threadToPid.set(pid, pid);
  }

  /** The process of a thread of the view, or undefined when it is not one. */
  processOf(tid: number): number | undefined {
    return this.threadToPid.get(tid);
  }

  pidOf(tid: number): number {
    return this.threadToPid.get(tid) ?? tid;
  }

  onSpawn(parentTid: number, child: number, thread: boolean): void {
    const ppid = this.pidOf(parentTid);
    if (thread) {
      this.processes.get(ppid)?.threads.add(child);
      this.threadToPid.set(child, ppid);
      return;
    }
    // Already known: native code reports a new task at its first stop when
    // that comes before its parent's fork event (Tracer::adopt_orphan), and
    // the parent's event, when it arrives, is the same news again.
    if (this.processes.has(child)) return;
    this.add(child);
    this.inherit(ppid, child);
  }

  onExec(pid: number, oldTid: number): void {
    const p = this.processes.get(pid);
    if (!p) return;
    // execve kills every other thread; the process keeps its pid and its state.
    for (const t of p.threads) if (t !== pid) this.threadToPid.delete(t);
    if (oldTid !== pid) this.threadToPid.delete(oldTid);
    p.threads = new Set([pid]);
  }

  onExit(tid: number, last: boolean): void {
    const pid = this.pidOf(tid);
    this.threadToPid.delete(tid);
    const p = this.processes.get(pid);
    p?.threads.delete(tid);
    if (!(last || (p && p.threads.size === 0))) return;
    this.processes.delete(pid);
    try {
      for (const slot of this.slots) if (slot.hooks.exit && slot.values.has(pid)) slot.hooks.exit(slot.values.get(pid), pid);
      for (const cb of this.exitListeners) cb(pid);
    } finally {
      for (const slot of this.slots) slot.values.delete(pid);
    }
  }

  perProcess<T>(init: (pid: number) => T, hooks: ProcessHooks<T> = {}): PerProcess<T> {
    const slot: StateSlot = { init, hooks: hooks as ProcessHooks<unknown>, values: new Map() };
    this.slots.push(slot);
    return {
      get: (pid: number): T => {
        if (!this.processes.has(pid))
          throw new Error(`per-process state: ${pid} is not a live process of the view (it has exited, or was never in it)`);
        if (!slot.values.has(pid)) slot.values.set(pid, slot.init(pid));
        return slot.values.get(pid) as T;
      },
      peek: (pid: number) => slot.values.get(pid) as T | undefined,
      has: (pid: number) => slot.values.has(pid),
    };
  }

  /** The child's state in every slot where the parent has some. */
  private inherit(ppid: number, child: number): void {
    for (const slot of this.slots) {
      if (!slot.values.has(ppid)) continue;
      const parent = slot.values.get(ppid);
      slot.values.set(child, slot.hooks.fork ? slot.hooks.fork(parent, child) : structuredCloneOr(parent));
    }
  }
}

function structuredCloneOr(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}
