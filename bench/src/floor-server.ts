/**
 * The floor: the cost of writing a delta-sized message to N sockets with no pipeline at all.
 * A plain `ws` server in the bench process accepts one raw connection per swarm client (held
 * by the same worker processes that hold the Typha clients); each round writes ONE pre-built
 * buffer of the size of a typical Typha delta frame to every socket, in a tight loop, and the
 * workers time its arrival. Two write paths are measured, and the faster is the floor:
 *
 *   ws-send    ws.send(payload, {binary: true}) per socket   (what a plain ws server does)
 *   raw-write  socket.write(frame) of one prebuilt header+payload Buffer per socket
 *              (what Typha's own directWriter does: frame-writer.ts)
 *
 * Round r's payload starts with r (UInt32BE) so receipts are matched to rounds.
 */
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { monoMs } from './clock.js';

export type FloorMode = 'ws-send' | 'raw-write';

export interface FloorWrite {
  round: number;
  mode: FloorMode;
  /** Monotonic ms just before the first write and just after the last. */
  firstWrite: number;
  lastWrite: number;
  /** CPU time (user + system) of this process during the write loop, ms. */
  cpuMs: number;
  sockets: number;
  bytes: number;
}

const BINARY = Object.freeze({ binary: true });

export class FloorServer {
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  port = 0;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    wss.on('connection', (ws: WebSocket) => {
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.on('error', () => this.#sockets.delete(ws));
    });
  }

  static start(host = '127.0.0.1'): Promise<FloorServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host, port: 0, perMessageDeflate: false, backlog: 4096, clientTracking: false });
      const s = new FloorServer(wss);
      wss.once('error', reject);
      wss.once('listening', () => {
        const addr = wss.address();
        s.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
        resolve(s);
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** One round: the same `size`-byte message to every socket. */
  round(round: number, size: number, mode: FloorMode): FloorWrite {
    const payload = Buffer.alloc(Math.max(4, size), 0x5a);
    payload.writeUInt32BE(round, 0);
    const wire = mode === 'raw-write' ? frame(payload) : payload;
    const cpu0 = process.cpuUsage();
    const firstWrite = monoMs();
    let n = 0;
    for (const ws of this.#sockets) {
      if (mode === 'raw-write') (ws as unknown as { _socket: Duplex })._socket.write(wire);
      else ws.send(payload, BINARY);
      n++;
    }
    const lastWrite = monoMs();
    const cpu = process.cpuUsage(cpu0);
    return { round, mode, firstWrite, lastWrite, cpuMs: (cpu.user + cpu.system) / 1000, sockets: n, bytes: wire.length };
  }

  close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}

/** An unmasked, final binary frame: header + payload in one Buffer. */
function frame(payload: Buffer): Buffer {
  const n = payload.length;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(h + n);
  out[0] = 0x82;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(out, h);
  return out;
}
