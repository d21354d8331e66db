/**
 * The channel between a monitor and a joined inner vview (src/vm/layers.ts):
 * frames of a 4-byte little-endian length and JSON, bigints and buffers
 * tagged, over a stream socket. Loaded only when a view joins (node:net).
 */
import fs from 'node:fs';
import net from 'node:net';

export type Frame = { t: string } & Record<string, unknown>;

/** The first character of a frame whose bigints and buffers are tagged. */
const TAGGED = '~';

/** The largest frame accepted (a routing table with many objects fits easily). */
const MAX_FRAME = 64 << 20;

function replacer(this: unknown, _k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return { $n: v.toString() };
  if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data))
    return { $b: Buffer.from((v as { data: number[] }).data).toString('base64') };
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as { $n?: string; $b?: string };
    if (typeof o.$n === 'string' && Object.keys(o).length === 1) return BigInt(o.$n);
    if (typeof o.$b === 'string' && Object.keys(o).length === 1) return Buffer.from(o.$b, 'base64');
  }
  return v;
}

/** A framed, ordered channel over a stream socket fd (owned: closed with it). */
export class Channel {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;
  onFrame: (f: Frame) => void = () => {};
  onClose: () => void = () => {};

  constructor(private readonly fd: number) {
    this.sock = new net.Socket({ fd, readable: true, writable: true });
    this.sock.on('data', (d: Buffer) => this.data(d));
    this.sock.on('error', () => this.end());
    this.sock.on('close', () => this.end());
  }

  /**
   * tagged: the frame may hold bigints and buffers (a table, an owner); the
   * frames of every stop (sys, exit, resume) are plain JSON, encoded by
   * encodeEvent / encodeAction, because a replacer or reviver costs V8 more
   * than the whole rest of the trip.
   */
  send(f: Frame, tagged = false): void {
    if (this.closed) return;
    const body = Buffer.from(tagged ? TAGGED + JSON.stringify(f, replacer) : JSON.stringify(f));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    let frame = Buffer.concat([head, body]);
    // Written now when nothing is queued (a stop waits for it: no trip
    // through the stream machinery); what the socket cannot take yet goes
    // after the queue, in order.
    if (this.sock.writableLength === 0) {
      try {
        const n = fs.writeSync(this.fd, frame);
        if (n === frame.length) return;
        frame = frame.subarray(n);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
          this.end();
          return;
        }
      }
    }
    this.sock.write(frame);
  }

  /** The next frame of one of these types (other frames go to onFrame meanwhile); rejects if the channel closes. */
  expect(...types: string[]): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const prev = this.onFrame;
      const prevClose = this.onClose;
      this.onFrame = (f) => {
        if (!types.includes(f.t)) return prev(f);
        this.onFrame = prev;
        this.onClose = prevClose;
        resolve(f);
      };
      this.onClose = () => {
        this.onClose = prevClose;
        reject(new Error('the monitor of the view around this one closed the channel'));
        prevClose();
      };
    });
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  private data(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (len > MAX_FRAME) {
        this.close(); // not a peer that speaks this protocol
        return;
      }
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len).toString();
      this.buf = this.buf.subarray(4 + len);
      let f: Frame;
      try {
        f = (body.startsWith(TAGGED) ? JSON.parse(body.slice(TAGGED.length), reviver) : JSON.parse(body)) as Frame;
      } catch {
        this.close();
        return;
      }
      if (!f || typeof f !== 'object' || typeof f.t !== 'string') {
        this.close();
        return;
      }
      this.onFrame(f);
    }
  }
}


// ---- the frames of a stop, as plain JSON ------------------------------------------

type Ev = Record<string, unknown> & { args?: bigint[]; fds?: { dev: bigint; ino: bigint }[]; scratchTop?: bigint };

/** A syscall event (entry or exit) for the wire: bigints as decimal strings. */
export function encodeEvent(ev: Ev): Record<string, unknown> {
  const o: Record<string, unknown> = { ...ev };
  if (ev.args) o.args = ev.args.map(String);
  if (ev.fds) o.fds = ev.fds.map((f) => ({ ...f, dev: String(f.dev), ino: String(f.ino) }));
  if (ev.scratchTop !== undefined) o.scratchTop = String(ev.scratchTop);
  return o;
}

export function decodeEvent(o: Record<string, unknown>): Ev {
  const ev: Ev = { ...o };
  if (Array.isArray(o.args)) ev.args = (o.args as string[]).map((a) => BigInt(a));
  if (Array.isArray(o.fds)) ev.fds = (o.fds as { dev: string; ino: string }[]).map((f) => ({ ...f, dev: BigInt(f.dev), ino: BigInt(f.ino) }));
  if (typeof o.scratchTop === 'string') ev.scratchTop = BigInt(o.scratchTop);
  return ev;
}

type Act = { value?: number | bigint; args?: [number, bigint][]; strings?: [number, string | Buffer][]; scratchTop?: bigint } & Record<string, unknown>;

/** A native action for the wire: bigints as decimal strings, byte strings in base64. */
export function encodeAction(a: Act): Record<string, unknown> {
  const o: Record<string, unknown> = { ...a };
  if (a.value !== undefined) o.value = String(a.value);
  if (a.args) o.args = a.args.map(([i, v]) => [i, String(v)]);
  if (a.strings) o.strings = a.strings.map(([i, v]) => (typeof v === 'string' ? [i, v] : [i, { b: v.toString('base64') }]));
  if (a.scratchTop !== undefined) o.scratchTop = String(a.scratchTop);
  return o;
}

export function decodeAction(o: Record<string, unknown>): Act {
  const a: Act = { ...o };
  const big = (v: unknown) => BigInt(typeof v === 'string' || typeof v === 'number' ? v : 0);
  if (o.value !== undefined) a.value = big(o.value);
  if (o.args !== undefined) a.args = (o.args as [number, string][]).map(([i, v]) => [i, big(v)]);
  if (o.strings !== undefined)
    a.strings = (o.strings as [number, string | { b: string }][]).map(([i, v]) => [i, typeof v === 'string' ? v : Buffer.from(String(v?.b), 'base64')]);
  if (o.scratchTop !== undefined) a.scratchTop = big(o.scratchTop);
  return a;
}
