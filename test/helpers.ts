/**
 * Test helpers: run bin/vview (and the same command natively) as child
 * processes, compile C fixtures, write configs into a per-run temp dir.
 *
 * Every process is spawned detached (its own process group). When it exits,
 * any live member left in its group is recorded (`leftovers`) and killed; if a
 * test ends before the process did (timeout, failure), t.teardown kills the
 * whole group, and a last process 'exit' hook kills whatever is still running.
 */
import { spawn, execFile, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';

const execFileP = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const VVIEW = path.join(ROOT, 'bin', 'vview');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const IS_ROOT = process.getuid?.() === 0;
export const NOBODY = 65534;

// ---- temp dirs ----------------------------------------------------------------

let tmpRootDir: string | undefined;

/** The per-run temp dir (os.tmpdir()/vview-test-XXXX), mode 0755, removed at exit. */
export function tmpRoot(): string {
  if (!tmpRootDir) {
    tmpRootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vview-test-'));
    fs.chmodSync(tmpRootDir, 0o755);
  }
  return tmpRootDir;
}

/**
 * A fresh directory inside the run's temp dir. `shared`: mode 0777, so that the
 * unprivileged user can create files in it (the run dir itself is 0755, so
 * everything below is readable by that user).
 */
export function makeTempDir(prefix = 'd-', opts: { shared?: boolean } = {}): string {
  const d = fs.mkdtempSync(path.join(tmpRoot(), prefix));
  fs.chmodSync(d, opts.shared ? 0o777 : 0o755);
  return d;
}

let configCounter = 0;
/** Writes a YAML config to a temp file (readable by everyone); returns its path. */
export function writeConfig(yamlText: string, name?: string): string {
  const dir = path.join(tmpRoot(), 'configs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  const file = path.join(dir, name ?? `view-${process.pid}-${++configCounter}.yaml`);
  fs.writeFileSync(file, yamlText, { mode: 0o644 });
  return file;
}

// ---- fixtures -----------------------------------------------------------------

const compiled = new Map<string, Promise<string>>();

/** Compiles test/fixtures/NAME.c once per run; resolves to the binary's path. */
export function compileFixture(name: string, opts: { static?: boolean; debug?: boolean } = {}): Promise<string> {
  const key = `${name}${opts.static ? ':static' : ''}${opts.debug ? ':debug' : ''}`;
  let p = compiled.get(key);
  if (!p) {
    p = (async () => {
      const dir = path.join(tmpRoot(), 'bin');
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      const out = path.join(dir, `${name}${opts.static ? '-static' : ''}${opts.debug ? '-g' : ''}`);
      // debug: for gdb (line numbers, no optimization).
      const args = [...(opts.debug ? ['-g', '-O0'] : ['-O1']), '-Wall', '-pthread', ...(opts.static ? ['-static'] : []), '-o', out, path.join(FIXTURES, `${name}.c`)];
      try {
        await execFileP('cc', args);
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`cc ${args.join(' ')} failed:\n${err.stderr ?? err.message}`);
      }
      fs.chmodSync(out, 0o755);
      return out;
    })();
    compiled.set(key, p);
  }
  return p;
}

// ---- processes ----------------------------------------------------------------

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What a shell reports: code, or 128 + signal number. */
  status: number;
  timedOut: boolean;
  /** Live processes still in the process group when the leader exited (then killed). */
  leftovers: { pid: number; comm: string; state: string }[];
  pid: number;
  ms: number;
}

export interface RunOptions {
  /** Registers the group kill with t.teardown. */
  t?: ExecutionContext;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed. Default: stdin closed (empty). */
  input?: string | Buffer;
  /** Full stdio spec (overrides input handling: stdin must be 'pipe' for input). */
  stdio?: StdioOptions;
  /** ms; the whole group is killed with SIGKILL when it expires. Default 60 s. */
  timeout?: number;
  /** Run as the unprivileged user (root: through setpriv; otherwise as is). */
  unprivileged?: boolean;
  /** Do not kill what is left in the group when the leader exits (t.teardown / process exit will). */
  keepLeftovers?: boolean;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** Stdout so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout contains the text (or matches); rejects if the process ends first. */
  waitForStdout(what: string | RegExp, ms?: number): Promise<string>;
  result: Promise<RunResult>;
  kill(signal?: NodeJS.Signals): void;
}

const liveGroups = new Set<number>();

function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* gone already */
  }
}

process.on('exit', () => {
  for (const g of liveGroups) killGroup(g);
  liveGroups.clear();
  if (tmpRootDir) {
    try {
      fs.rmSync(tmpRootDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
});

/** /proc/PID/stat: state and process group (comm may contain spaces and parens). */
export function procStat(pid: number): { comm: string; state: string; ppid: number; pgrp: number } | undefined {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = s.lastIndexOf(')');
  const comm = s.slice(s.indexOf('(') + 1, close);
  const f = s.slice(close + 2).split(' ');
  return { comm, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]) };
}

/** True while PID exists and is not a zombie (this container's init does not reap orphans). */
export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** Live (non-zombie) processes whose process group is PGID. */
export function groupMembers(pgid: number): { pid: number; comm: string; state: string }[] {
  const out: { pid: number; comm: string; state: string }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push({ pid: Number(name), comm: st.comm, state: st.state });
  }
  return out;
}

const SIGNUMS = os.constants.signals as Record<string, number>;

/** Starts FILE ARGS detached; see RunOptions. */
export function start(file: string, args: string[], opts: RunOptions = {}): Running {
  let cmd = file;
  let argv = args;
  if (opts.unprivileged && IS_ROOT) {
    cmd = 'setpriv';
    argv = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', file, ...args];
  }
  const stdio: StdioOptions = opts.stdio ?? [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'];
  const t0 = Date.now();
  const child = spawn(cmd, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio, detached: true });
  if (child.pid === undefined) {
    // spawn failed (ENOENT...): the 'error' event follows.
  }
  const pid = child.pid ?? -1;
  if (pid > 0) liveGroups.add(pid);
  let stdout = '';
  let stderr = '';
  const waiters: { what: string | RegExp; resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (typeof w.what === 'string' ? stdout.includes(w.what) : w.what.test(stdout)) {
        waiters.splice(i, 1);
        w.resolve(stdout);
      }
    }
  };
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    stdout += d;
    check();
  });
  child.stderr?.on('data', (d: string) => {
    stderr += d;
  });
  if (opts.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {
      /* EPIPE: the command did not read it all */
    });
    child.stdin.end(opts.input);
  }
  let timedOut = false;
  let exited = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (pid > 0) killGroup(pid);
    // Something outside the group still holds the pipes: stop waiting for them.
    if (exited) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
  }, opts.timeout ?? 60_000);
  const result = new Promise<RunResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      if (pid > 0) liveGroups.delete(pid);
      reject(e);
    });
    let leftovers: RunResult['leftovers'] = [];
    child.on('exit', () => {
      exited = true;
      // The group id stays valid while a member lives: look, then kill them
      // (they may hold stdout open, which would delay 'close').
      if (pid > 0) {
        leftovers = groupMembers(pid);
        if (!opts.keepLeftovers) {
          if (leftovers.length) killGroup(pid);
          liveGroups.delete(pid);
        }
      }
      // What the command wrote is read until the pipes close, however busy
      // this machine is (a fixed delay here lost output under load); only the
      // run's own timeout gives up on a pipe held outside the group.
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid > 0 && !opts.keepLeftovers) liveGroups.delete(pid);
      for (const w of waiters.splice(0)) w.reject(new Error(`process ended before stdout matched ${String(w.what)}; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`));
      resolve({
        stdout,
        stderr,
        code,
        signal,
        status: code ?? 128 + (signal ? SIGNUMS[signal] ?? 0 : 0),
        timedOut,
        leftovers,
        pid,
        ms: Date.now() - t0,
      });
    });
  });
  // Never an unhandled rejection from a result nobody awaited.
  result.catch(() => {});
  opts.t?.teardown(() => {
    if (pid > 0 && liveGroups.has(pid)) {
      killGroup(pid);
      liveGroups.delete(pid);
    }
  });
  return {
    child,
    pid,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitForStdout(what, ms = 20_000) {
      return new Promise<string>((resolve, reject) => {
        const timer2 = setTimeout(() => reject(new Error(`timed out waiting for ${String(what)} on stdout; got ${JSON.stringify(stdout)}; stderr ${JSON.stringify(stderr)}`)), ms);
        waiters.push({
          what,
          resolve: (s) => {
            clearTimeout(timer2);
            resolve(s);
          },
          reject: (e) => {
            clearTimeout(timer2);
            reject(e);
          },
        });
        check();
        if (child.exitCode !== null || child.signalCode !== null) {
          // close may not have fired yet; it will reject the waiter if needed.
        }
      });
    },
    result,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (pid > 0) process.kill(pid, signal);
    },
  };
}

/** Starts `bin/vview ARGS` (e.g. ['run', '--', 'true']). */
export function startVview(args: string[], opts: RunOptions = {}): Running {
  return start(VVIEW, args, opts);
}

/** Runs `bin/vview ARGS` to completion. */
export function vview(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return startVview(args, opts).result;
}

/** `vview run [--config FILE] -- CMD...` */
export function vviewRun(cmd: string[], opts: RunOptions & { config?: string; flags?: string[] } = {}): Promise<RunResult> {
  const args = ['run', ...(opts.config ? ['--config', opts.config] : []), ...(opts.flags ?? []), '--', ...cmd];
  return vview(args, opts);
}

/** Runs CMD (argv) without vview, with the same process handling. */
export function native(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  return start(cmd[0], cmd.slice(1), opts).result;
}

/** Runs as the unprivileged user: `setpriv --reuid=65534 ... bin/vview ARGS` when root. */
export function vviewUnprivileged(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return vview(args, { ...opts, unprivileged: true });
}

/** Whether the unprivileged user can be used here (root with a working setpriv). */
export async function canRunUnprivileged(): Promise<boolean> {
  if (!IS_ROOT) return true;
  try {
    const r = await native(['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', 'id', '-u'], { timeout: 10_000 });
    return r.code === 0 && r.stdout.trim() === String(NOBODY);
  } catch {
    return false;
  }
}

/** A short description of a result for assertion messages. */
export function describe(r: RunResult): string {
  return `status ${r.status}${r.timedOut ? ' (TIMED OUT)' : ''}; stdout ${JSON.stringify(r.stdout.slice(0, 2000))}; stderr ${JSON.stringify(r.stderr.slice(0, 2000))}`;
}

/** Polls until fn() is true or ms elapse; resolves to the last value of fn(). */
export async function waitUntil(fn: () => boolean, ms: number, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, step));
  }
}

// ---- side by side: the same script in a view and natively --------------------

/** Replaces every occurrence of each key (longest first) with its value. */
export function replaceAll(text: string, map: Record<string, string>): string {
  let out = text;
  for (const k of Object.keys(map).sort((a, b) => b.length - a.length)) if (k) out = out.split(k).join(map[k]);
  return out;
}

export interface SideBySide {
  view: RunResult;
  native: RunResult;
  /** stdout and stderr of each, with the side's own paths replaced by their names (e.g. "$W"). */
  viewOut: string;
  nativeOut: string;
  viewErr: string;
  nativeErr: string;
}

/**
 * Runs `sh -c SCRIPT` under `vview run VIEWFLAGS --` and natively, with the
 * same options. `viewVars` and `nativeVars` are environment variables (e.g.
 * W: the work directory, the mount in the view and a real directory natively);
 * their values are replaced by "$NAME" in the outputs, so only what must
 * differ is normalized.
 */
export async function sideBySideScript(
  t: ExecutionContext,
  script: string,
  o: { viewFlags: string[]; viewVars: Record<string, string>; nativeVars: Record<string, string> } & Omit<RunOptions, 't'>,
): Promise<SideBySide> {
  const env = o.env ?? process.env;
  const names = (vars: Record<string, string>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [v, `$${k}`]));
  const [view, nat] = await Promise.all([
    vview(['run', ...o.viewFlags, '--', 'sh', '-c', script], { ...o, t, env: { ...env, ...o.viewVars } }),
    native(['sh', '-c', script], { ...o, t, env: { ...env, ...o.nativeVars } }),
  ]);
  return {
    view,
    native: nat,
    viewOut: replaceAll(view.stdout, names(o.viewVars)),
    nativeOut: replaceAll(nat.stdout, names(o.nativeVars)),
    viewErr: replaceAll(view.stderr, names(o.viewVars)),
    nativeErr: replaceAll(nat.stderr, names(o.nativeVars)),
  };
}
