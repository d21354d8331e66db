/**
 * The channel between a monitor and a joined inner vview (src/vm/layers.ts):
 * frames of a 4-byte little-endian length and JSON, bigints and buffers
 * tagged, over a stream socket. Loaded only when a view joins (node:net).
 */
import net from 'node:net';

export type Frame = { t: string } & Record<string, unknown>;

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

  constructor(fd: number) {
    this.sock = new net.Socket({ fd, readable: true, writable: true });
    this.sock.on('data', (d: Buffer) => this.data(d));
    this.sock.on('error', () => this.end());
    this.sock.on('close', () => this.end());
  }

  send(f: Frame): void {
    if (this.closed) return;
    const body = Buffer.from(JSON.stringify(f, replacer));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length);
    this.sock.write(Buffer.concat([head, body]));
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
        f = JSON.parse(body, reviver) as Frame;
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

