/**
 * A slow consumer for the slow-consumers scenario: a Typha client that reads its socket at a
 * trickle (`readBytesPerSec`) or, with 0, not at all after the upgrade. It cannot be a k6 VU:
 * k6's WebSocket reader goroutine drains every socket into an unbounded queue whatever the
 * script does, so Typha would never see a k6 client fall behind. This one is a plain TCP socket
 * speaking just enough of RFC 6455 (upgrade, masked client frames, frame headers) and of the
 * protocol (hello, pong, spotting InSync) with Typha's own msgpack codec.
 *
 *   connect ─upgrade─▶ hello ─▶ read ≤ readBytesPerSec (pause/resume the socket) … until stop()
 *
 * Throttling pauses the socket, so the kernel's receive buffer fills and TCP's window closes:
 * Typha sees exactly what a slow Felix looks like, a socket that stops accepting bytes.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { msgpackCodec, PROTOCOL_VERSION, SUBPROTOCOL_MSGPACK, type SyncerType } from '@cattail/typha/protocol';

const SMALL_FRAME = 64 * 1024;

export interface SlowConsumerOptions {
  /** ws://host:port of Typha (the path /sync is added). */
  url: string;
  node: string;
  syncer: SyncerType;
  /** Bytes per second read from the socket; 0: read the upgrade answer, then nothing. */
  readBytesPerSec: number;
}

export interface SlowConsumerStats {
  node: string;
  bytes: number;
  inSync: boolean;
  /** Close code Typha sent, if the close frame was read; -1 for a TCP close without one. */
  closeCode: number | undefined;
  closeReason: string | undefined;
}

export class SlowConsumer {
  readonly #o: SlowConsumerOptions;
  readonly #socket: Socket;
  #upgraded = false;
  #head: Buffer = Buffer.alloc(0);
  #frame: { opcode: number; remaining: number; keep: Buffer[] | undefined } | undefined;
  #throttle: NodeJS.Timeout | undefined;
  #stopped = false;
  #onInSync: (() => void) | undefined;
  readonly stats: SlowConsumerStats;
  /** Resolves when InSync has been read (never, for a consumer that reads too little). */
  readonly inSync: Promise<void>;

  private constructor(o: SlowConsumerOptions, socket: Socket) {
    this.#o = o;
    this.#socket = socket;
    this.stats = { node: o.node, bytes: 0, inSync: false, closeCode: undefined, closeReason: undefined };
    this.inSync = new Promise((resolve) => {
      this.#onInSync = resolve;
    });
  }

  /** Connects and upgrades; resolves once the hello is sent. */
  static open(o: SlowConsumerOptions): Promise<SlowConsumer> {
    const u = new URL(o.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port || 80), u.hostname);
      const c = new SlowConsumer(o, socket);
      const fail = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        const key = randomBytes(16).toString('base64');
        socket.write(
          `GET /sync HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${SUBPROTOCOL_MSGPACK}\r\n\r\n`,
        );
      });
      socket.on('data', (chunk: Buffer) => {
        if (c.#upgraded) {
          c.#onData(chunk);
          return;
        }
        c.#head = Buffer.concat([c.#head, chunk]);
        const end = c.#head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (c.#head.length > 16_384) fail(new Error(`${o.node}: no HTTP answer to the upgrade`));
          return;
        }
        const status = c.#head.subarray(0, c.#head.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          fail(new Error(`${o.node}: upgrade refused: ${status}`));
          return;
        }
        c.#upgraded = true;
        socket.removeListener('error', fail);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          if (c.stats.closeCode === undefined) c.stats.closeCode = -1;
        });
        const rest = c.#head.subarray(end + 4);
        c.#head = Buffer.alloc(0);
        c.#send(
          2,
          msgpackCodec.encode({
            type: 'hello',
            protocolVersion: PROTOCOL_VERSION,
            syncer: o.syncer,
            node: o.node,
            client: 'cattail-loadtest-slow/0.1.0',
            features: [],
          }),
        );
        resolve(c);
        if (rest.length > 0) c.#onData(rest);
      });
    });
  }

  /** A masked client frame (opcode 2 binary, 10 pong). */
  #send(opcode: number, payload: Buffer): void {
    const len = payload.length;
    const head = len < 126 ? Buffer.alloc(2) : Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    if (len < 126) head[1] = 0x80 | len;
    else {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(len, 2);
    }
    const mask = randomBytes(4);
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
    this.#socket.write(Buffer.concat([head, mask, body]));
  }

  #onData(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    this.#parse(chunk);
    if (this.#stopped) return;
    // Throttle: pause for as long as this chunk "should" have taken at the configured rate.
    this.#socket.pause();
    if (this.#o.readBytesPerSec > 0) {
      this.#throttle = setTimeout(
        () => {
          this.#throttle = undefined;
          if (!this.#stopped) this.#socket.resume();
        },
        Math.ceil((chunk.length / this.#o.readBytesPerSec) * 1000),
      );
    }
  }

  #parse(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      if (this.#frame === undefined) {
        this.#head = this.#head.length > 0 ? Buffer.concat([this.#head, buf]) : buf;
        const h = this.#head;
        if (h.length < 2) return;
        const opcode = h[0] & 0x0f;
        let len = h[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (h.length < 4) return;
          len = h.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (h.length < 10) return;
          len = Number(h.readBigUInt64BE(2));
          off = 10;
        }
        this.#frame = { opcode, remaining: len, keep: len <= SMALL_FRAME ? [] : undefined };
        buf = h.subarray(off);
        this.#head = Buffer.alloc(0);
        if (len === 0) this.#endFrame();
        continue;
      }
      const f = this.#frame;
      const take = Math.min(f.remaining, buf.length);
      f.keep?.push(buf.subarray(0, take));
      f.remaining -= take;
      buf = buf.subarray(take);
      if (f.remaining === 0) this.#endFrame();
    }
  }

  #endFrame(): void {
    const f = this.#frame;
    this.#frame = undefined;
    if (f === undefined || f.keep === undefined) return;
    const payload = Buffer.concat(f.keep);
    if (f.opcode === 8) {
      this.stats.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.stats.closeReason = payload.subarray(2).toString('utf8');
      return;
    }
    if (f.opcode !== 2) return;
    try {
      const msg = msgpackCodec.decode(payload) as { type?: string; ts?: number };
      if (msg.type === 'in-sync') {
        this.stats.inSync = true;
        this.#onInSync?.();
      } else if (msg.type === 'ping') this.#send(2, msgpackCodec.encode({ type: 'pong', ts: msg.ts ?? 0 }));
    } catch {
      // not ours to judge: the k6 clients check the protocol
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#throttle !== undefined) clearTimeout(this.#throttle);
    this.#socket.destroy();
  }
}
