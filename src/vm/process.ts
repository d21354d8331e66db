/**
 * The process tree as the monitor sees it: threads grouped into processes, with
 * per-module state that follows fork (copied), exec (kept) and exit (dropped).
 */
import type { PerProcess } from './module.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  threads: Set<number>;
}

interface StateSlot {
  init: (pid: number) => unknown;
  fork?: (parent: unknown, child: number) => unknown;
  values: Map<number, unknown>;
}

export class ProcessTable {
  readonly processes = new Map<number, ProcessInfo>();
  private readonly threadToPid = new Map<number, number>();
  private readonly slots: StateSlot[] = [];
  private readonly exitListeners: ((pid: number) => unknown)[] = [];

  /** cb(pid) after the last thread of a process has exited. */
  onProcessExit(cb: (pid: number) => unknown): void {
    this.exitListeners.push(cb);
  }

  add(pid: number, ppid: number): void {
    this.processes.set(pid, { pid, ppid, threads: new Set([pid]) });
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
    this.add(child, ppid);
    for (const slot of this.slots) {
      if (!slot.values.has(ppid)) continue;
      const parent = slot.values.get(ppid);
      slot.values.set(child, slot.fork ? slot.fork(parent, child) : structuredCloneOr(parent));
    }
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
    if (last || (p && p.threads.size === 0)) {
      this.processes.delete(pid);
      for (const slot of this.slots) slot.values.delete(pid);
      for (const cb of this.exitListeners) cb(pid);
    }
  }

  perProcess<T>(init: (pid: number) => T, fork?: (parent: T, child: number) => T): PerProcess<T> {
    const slot: StateSlot = {
      init,
      fork: fork as StateSlot['fork'],
      values: new Map(),
    };
    this.slots.push(slot);
    return {
      get: (pid: number): T => {
        if (!slot.values.has(pid)) slot.values.set(pid, slot.init(pid));
        return slot.values.get(pid) as T;
      },
      has: (pid: number) => slot.values.has(pid),
    };
  }
}

function structuredCloneOr(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return v;
  }
}
