/**
 * The last step of the write path: how an encoded message reaches a client's socket.
 *
 * The fan-out writes one delta batch to thousands of sockets, so the per-socket cost is what
 * counts. Two writers:
 *
 *   wsSendWriter   ws.send(payload, {binary})   per socket: an options object spread, a frame
 *                                               options object and a fresh header buffer, a
 *                                               cork, two writes, an uncork
 *   directWriter   socket.write(wire)            per socket: one write of ONE Buffer, the same
 *                  (the default)                 for every client: header + payload, built once
 *                                               per message (`SharedFrame.wire`)
 *
 * Measured with `node typha/dist/test/server/fan-out.bench.js` (server in-process, clients in a
 * child process, 2 cores, Node 20, loopback; two runs each, µs per batch for the whole loop):
 *
 *   clients  payload   ws.send        direct         server CPU (ws.send → direct)
 *   2000     200 B     9697, 9409     7785, 7766     1792 → 1488, 1789 → 1525 ms
 *   2000     2 KB      10928, 10936   7875, 9652     2039 → 1476, 2007 → 1587 ms
 *   2000     20 KB     28877, 32154   47438, 27490   5241 → 4721, 4300 → 5125 ms (noise)
 *   5000     2 KB      42140, 35382   34356, 32178   3933 → 3252, 3476 → 3183 ms
 *
 * So 10–30% less time in the fan-out loop and 8–25% less server CPU for the small and medium
 * frames that live deltas are; for large frames the kernel's copy dominates and the two are
 * within noise. The rest of the ~4–7 µs per socket is the write syscall itself, which both
 * pay. The direct writer also allocates nothing per socket (ws.send allocates two option
 * objects and a header per call), which matters for GC at 10,000 clients.
 *
 * Why this is safe with ws's internals. A server-side frame is unmasked, so header + payload is
 * exactly what ws's Sender would write. ws only holds frames back in its own queue (where a
 * direct write could overtake them) while compressing (permessage-deflate, which the server
 * disables) or reading a Blob (never sent here); otherwise Sender.sendFrame writes straight to
 * the socket, as we do, so frames never interleave. Writes happen only while the WebSocket is
 * OPEN, never after its close frame. `bufferedAmount` keeps working because it reads the
 * socket's own buffer. `supportsDirectWrites()` checks those assumptions on every new socket
 * (the fields we touch exist and the sender is idle, no extension negotiated) and the
 * connection falls back to ws.send if they do not hold, e.g. after a ws upgrade changes them.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/** A message as the fan-out hands it to every socket of one codec. */
export class SharedFrame {
  readonly payload: Buffer;
  readonly binary: boolean;
  #wire: Buffer | undefined;

  constructor(payload: Buffer, binary: boolean) {
    this.payload = payload;
    this.binary = binary;
  }

  /** Header + payload in one Buffer, built on first use and then written to every socket. */
  get wire(): Buffer {
    return (this.#wire ??= wireFrame(this.payload, this.binary));
  }
}

/**
 * Consecutive live frames that one visit of the fan-out's sweep writes to a client in ONE write
 * (see fan-out.ts): clients that had the same frames so far get the same run, so the frames are
 * concatenated once per run, not per client. Each frame stays its own WebSocket message.
 */
export class SharedRun {
  readonly frames: readonly SharedFrame[];
  /** The revision of the last frame: where a client that got the run is. */
  readonly revision: number;
  #wire: Buffer | undefined;

  constructor(frames: readonly SharedFrame[], revision: number) {
    this.frames = frames;
    this.revision = revision;
  }

  /** Every frame's header + payload, back to back, built on first use. */
  get wire(): Buffer {
    const frames = this.frames;
    if (frames.length === 1) return frames[0].wire;
    return (this.#wire ??= Buffer.concat(frames.map(frameWire)));
  }
}

function frameWire(f: SharedFrame): Buffer {
  return f.wire;
}

export interface FrameWriter {
  readonly name: string;
  /** The fan-out: the same frame to one of many sockets. The socket is OPEN. */
  writeShared(ws: WebSocket, frame: SharedFrame): void;
  /**
   * The fan-out's sweep: the same run of frames to one of many sockets, as one write where the
   * writer can. Without it, a run is written as `writeShared` per frame. The socket is OPEN.
   */
  writeRun?(ws: WebSocket, run: SharedRun): void;
  /** One message to one socket (hello, snapshot page, catch-up, ping…). The socket is OPEN. */
  write(ws: WebSocket, payload: Buffer, binary: boolean): void;
}

const BINARY = Object.freeze({ binary: true });
const TEXT = Object.freeze({ binary: false });

export const wsSendWriter: FrameWriter = Object.freeze({
  name: 'ws-send',
  writeShared(ws: WebSocket, frame: SharedFrame): void {
    ws.send(frame.payload, frame.binary ? BINARY : TEXT);
  },
  writeRun(ws: WebSocket, run: SharedRun): void {
    for (const f of run.frames) ws.send(f.payload, f.binary ? BINARY : TEXT);
  },
  write(ws: WebSocket, payload: Buffer, binary: boolean): void {
    ws.send(payload, binary ? BINARY : TEXT);
  },
});

export const directWriter: FrameWriter = Object.freeze({
  name: 'direct',
  writeShared(ws: WebSocket, frame: SharedFrame): void {
    (ws as unknown as WsInternals)._socket.write(frame.wire);
  },
  writeRun(ws: WebSocket, run: SharedRun): void {
    (ws as unknown as WsInternals)._socket.write(run.wire);
  },
  write(ws: WebSocket, payload: Buffer, binary: boolean): void {
    const socket = (ws as unknown as WsInternals)._socket;
    socket.cork();
    socket.write(frameHeader(payload.length, binary));
    socket.write(payload);
    socket.uncork();
  },
});

/** The ws fields this module relies on (ws 8.x). */
interface WsInternals {
  _socket: Duplex;
  _sender: { _state: number; _queue: unknown[] } | undefined;
  _extensions: Record<string, unknown>;
}

/** The TCP/TLS socket under a server-side WebSocket, or undefined if ws no longer exposes it. */
export function rawSocket(ws: WebSocket): Duplex | undefined {
  const s = (ws as unknown as Partial<WsInternals>)._socket;
  return s !== undefined && s !== null && typeof s.write === 'function' ? s : undefined;
}

/** Whether `directWriter` may write to this socket (see the module comment). */
export function supportsDirectWrites(ws: WebSocket): boolean {
  const w = ws as unknown as Partial<WsInternals>;
  const sender = w._sender;
  return (
    rawSocket(ws) !== undefined &&
    sender !== undefined &&
    sender._state === 0 &&
    Array.isArray(sender._queue) &&
    sender._queue.length === 0 &&
    w._extensions !== undefined &&
    Object.keys(w._extensions).length === 0
  );
}

/** An unmasked, final WebSocket frame header (RFC 6455 §5.2) for a payload of `length` bytes. */
export function frameHeader(length: number, binary: boolean): Buffer {
  const opcode = binary ? 0x82 : 0x81; // FIN + binary/text
  let h: Buffer;
  if (length < 126) {
    h = Buffer.allocUnsafe(2);
    h[1] = length;
  } else if (length < 65536) {
    h = Buffer.allocUnsafe(4);
    h[1] = 126;
    h.writeUInt16BE(length, 2);
  } else {
    h = Buffer.allocUnsafe(10);
    h[1] = 127;
    h.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    h.writeUInt32BE(length >>> 0, 6);
  }
  h[0] = opcode;
  return h;
}

/** Header and payload copied into one Buffer: a single write per socket. */
export function wireFrame(payload: Buffer, binary: boolean): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + n);
  frameHeader(n, binary).copy(out, 0);
  payload.copy(out, headerLength);
  return out;
}
