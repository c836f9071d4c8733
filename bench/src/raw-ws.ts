/**
 * A minimal WebSocket client (RFC 6455) for the swarm: the HTTP upgrade, then frames parsed
 * straight off the TCP socket's chunks, with the payload handed over chunk by chunk as it
 * arrives and never reassembled.
 *
 * Why not `ws` (which typha/client uses, and which the swarm used first): its Receiver copies
 * every message into one contiguous Buffer before emitting it. For the felix syncer at
 * R = 35,000 each client receives ~15 MB of snapshot, so at 1,000 clients that is 15 GB of
 * copies and large-buffer garbage in the swarm: a profile of the swarm worker showed ws's
 * `consume` at 18% and GC at 20% of its busy time, and the swarm, not Typha, set the pace of
 * the connect storm. Here a message is matched against the frames the worker has already seen
 * (FrameCache) a chunk at a time with memcmp, so a known frame costs no allocation at all.
 *
 *   connect ─▶ GET /path Upgrade (Sec-WebSocket-Key, subprotocol) ─▶ 101 + accept checked
 *           ─▶ frames: header (2..14 bytes, may straddle chunks) ─▶ payload slices ─▶ end
 *
 * Scope: what a Typha or floor server sends. Server frames must be unmasked; text and binary
 * data frames, continuation frames (FIN=0) passed through as further slices of the same
 * message, ping (answered with pong), pong (ignored), close (answered, then the socket ends).
 * Client frames (hello, pong) are masked as the RFC requires. No extensions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { maskedFrame } from '@cattail/typha/testing';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/**
 * Every socket of the process reads into this one buffer (net's `onread`): no allocation per
 * read. Safe because each chunk is consumed synchronously: slices handed to a handler are only
 * compared or copied, never kept.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Receives what one RawWebSocket sees; implemented once per kind of client, not per socket. */
export interface RawHandler<T> {
  open(owner: T): void;
  /** A data message starts: its first frame's payload length and whether that frame is final. */
  messageStart(owner: T, length: number, final: boolean): void;
  /** The next slice of the current message's payload (a view into the socket's chunk: do not keep). */
  messageData(owner: T, slice: Buffer): void;
  messageEnd(owner: T): void;
  /** Exactly once, when the connection is gone (or never opened). */
  closed(owner: T, code: number, reason: string, opened: boolean): void;
}

export interface RawOptions {
  host: string;
  port: number;
  path: string;
  /** Sec-WebSocket-Protocol to offer (and require in the answer); none when undefined. */
  protocol?: string;
  localAddress?: string;
}

const enum State {
  Upgrading,
  Header,
  Payload,
  Closed,
}

const kRaw = Symbol('bench.rawWebSocket');
type TaggedSocket = Socket & { [kRaw]: RawWebSocket<unknown> };

export class RawWebSocket<T> {
  readonly #socket: TaggedSocket;
  readonly #owner: T;
  readonly #handler: RawHandler<T>;
  readonly #key: string;
  readonly #protocol: string | undefined;
  #state = State.Upgrading;
  #upgradeBuf = '';
  /** Header bytes gathered so far (a header may straddle chunks). */
  readonly #hdr = Buffer.alloc(14);
  #hdrLen = 0;
  #opcode = 0;
  #fin = true;
  #left = 0;
  /** Inside a data message (its first frame seen, its final frame not yet ended). */
  #inMessage = false;
  /** Payload of the current control frame (≤ 125 bytes). */
  #control: Buffer[] = [];
  #opened = false;
  #closeCode = 1006;
  #closeReason = '';
  #ended = false;

  constructor(opts: RawOptions, owner: T, handler: RawHandler<T>) {
    this.#owner = owner;
    this.#handler = handler;
    this.#protocol = opts.protocol;
    this.#key = randomBytes(16).toString('base64');
    const socket = connect({
      host: opts.host,
      port: opts.port,
      localAddress: opts.localAddress,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: rawOnRead },
    }) as TaggedSocket;
    socket[kRaw] = this;
    this.#socket = socket;
    const headers = [
      `GET ${opts.path} HTTP/1.1`,
      `Host: ${opts.host}:${opts.port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${this.#key}`,
      'Sec-WebSocket-Version: 13',
    ];
    if (opts.protocol !== undefined) headers.push(`Sec-WebSocket-Protocol: ${opts.protocol}`);
    socket.write(`${headers.join('\r\n')}\r\n\r\n`);
    socket.on('close', rawOnClose);
    socket.on('error', rawOnError);
    socket.on('end', rawOnEnd);
  }

  get open(): boolean {
    return this.#opened && this.#state !== State.Closed;
  }

  /** Sends one binary (or text) message, masked. */
  send(payload: Buffer, binary = true): void {
    if (!this.open) return;
    this.#socket.write(maskedFrame(binary ? 0x2 : 0x1, payload));
  }

  /** Starts the closing handshake; the socket is cut if the server does not finish it in 2 s. */
  close(code = 1000, reason = ''): void {
    if (this.#state === State.Closed || this.#ended) return;
    if (!this.#opened) {
      this.terminate();
      return;
    }
    this.#closeCode = code;
    this.#closeReason = reason;
    const body = Buffer.alloc(2 + Buffer.byteLength(reason));
    body.writeUInt16BE(code, 0);
    body.write(reason, 2);
    this.#socket.write(maskedFrame(0x8, body));
    this.#socket.end();
    setTimeout(rawOnCloseTimeout, 2000, this).unref();
  }

  terminate(): void {
    this.#socket.destroy();
  }

  // ── socket events ─────────────────────────────────────────────────────────────────────────

  onData(chunk: Buffer): void {
    let off = 0;
    if (this.#state === State.Upgrading) {
      off = this.#upgrade(chunk);
      if (off < 0) return;
    }
    while (off < chunk.length && this.#state !== State.Closed) {
      if (this.#state === State.Header) off = this.#header(chunk, off);
      else off = this.#payload(chunk, off);
    }
  }

  /** Returns the offset of the first frame byte, or -1 when the answer is incomplete or refused. */
  #upgrade(chunk: Buffer): number {
    const prev = this.#upgradeBuf.length;
    this.#upgradeBuf += chunk.toString('latin1');
    const end = this.#upgradeBuf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#upgradeBuf.length > 16384) this.#fail(1002, 'upgrade answer too long');
      return -1;
    }
    const head = this.#upgradeBuf.slice(0, end);
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1];
    const hdrs = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) hdrs.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const accept = createHash('sha1')
      .update(this.#key + GUID)
      .digest('base64');
    if (status !== '101') return this.#fail(1002, `upgrade refused with HTTP ${status ?? '?'}`);
    if (hdrs.get('sec-websocket-accept') !== accept) return this.#fail(1002, 'bad Sec-WebSocket-Accept');
    if (this.#protocol !== undefined && hdrs.get('sec-websocket-protocol') !== this.#protocol) {
      return this.#fail(1002, `server chose subprotocol "${hdrs.get('sec-websocket-protocol') ?? ''}"`);
    }
    this.#upgradeBuf = '';
    this.#state = State.Header;
    this.#opened = true;
    this.#handler.open(this.#owner);
    return end + 4 - prev;
  }

  #fail(code: number, reason: string): -1 {
    this.#closeCode = code;
    this.#closeReason = reason;
    this.#state = State.Closed;
    this.#socket.destroy();
    return -1;
  }

  #header(chunk: Buffer, off: number): number {
    const hdr = this.#hdr;
    while (off < chunk.length) {
      hdr[this.#hdrLen++] = chunk[off++];
      if (this.#hdrLen < 2) continue;
      const len7 = hdr[1] & 0x7f;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      if (this.#hdrLen < need) continue;
      if (hdr[1] & 0x80) {
        this.#fail(1002, 'masked frame from the server');
        return chunk.length;
      }
      this.#fin = (hdr[0] & 0x80) !== 0;
      this.#opcode = hdr[0] & 0x0f;
      this.#left = len7 === 126 ? hdr.readUInt16BE(2) : len7 === 127 ? hdr.readUInt32BE(2) * 0x1_0000_0000 + hdr.readUInt32BE(6) : len7;
      this.#hdrLen = 0;
      this.#frameStart();
      return off;
    }
    return off;
  }

  #frameStart(): void {
    const op = this.#opcode;
    if (op >= 0x8) {
      this.#control = [];
    } else if (op === 0x0) {
      if (!this.#inMessage) {
        this.#fail(1002, 'continuation frame outside a message');
        return;
      }
    } else {
      this.#inMessage = true;
      this.#handler.messageStart(this.#owner, this.#left, this.#fin);
    }
    this.#state = State.Payload;
    if (this.#left === 0) this.#frameEnd();
  }

  #payload(chunk: Buffer, off: number): number {
    const n = Math.min(this.#left, chunk.length - off);
    const slice = chunk.subarray(off, off + n);
    this.#left -= n;
    if (this.#opcode >= 0x8) this.#control.push(Buffer.from(slice));
    else this.#handler.messageData(this.#owner, slice);
    if (this.#left === 0) this.#frameEnd();
    return off + n;
  }

  #frameEnd(): void {
    this.#state = State.Header;
    const op = this.#opcode;
    if (op < 0x8) {
      if (this.#fin) {
        this.#inMessage = false;
        this.#handler.messageEnd(this.#owner);
      }
      return;
    }
    const body = Buffer.concat(this.#control);
    this.#control = [];
    if (op === 0x9) this.#socket.write(maskedFrame(0xa, body));
    else if (op === 0x8) {
      this.#closeCode = body.length >= 2 ? body.readUInt16BE(0) : 1005;
      this.#closeReason = body.length > 2 ? body.subarray(2).toString('utf8') : '';
      if (!this.#socket.writableEnded) {
        this.#socket.write(maskedFrame(0x8, body.subarray(0, 2)));
        this.#socket.end();
      }
      this.#state = State.Closed;
    }
  }

  /** A socket error before any close frame: its code (ECONNRESET…) becomes the close reason. */
  onError(err: NodeJS.ErrnoException): void {
    if (this.#closeReason === '') this.#closeReason = `${this.#opened ? '' : 'connect: '}${err.code ?? err.message}`;
  }

  /** The server ended the TCP stream: without a close frame that is an abnormal close. */
  onEnd(): void {
    if (this.#closeCode === 1006 && this.#closeReason === '') this.#closeReason = this.#opened ? 'EOF without close frame' : 'connect: EOF during upgrade';
  }

  onClose(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#state = State.Closed;
    this.#handler.closed(this.#owner, this.#closeCode, this.#closeReason, this.#opened);
  }
}

function rawOnRead(this: Socket, n: number, buf: Buffer): boolean {
  (this as TaggedSocket)[kRaw].onData(buf.subarray(0, n));
  return true;
}

function rawOnClose(this: Socket): void {
  (this as TaggedSocket)[kRaw].onClose();
}

function rawOnError(this: Socket, err: NodeJS.ErrnoException): void {
  (this as TaggedSocket)[kRaw].onError(err);
}

function rawOnEnd(this: Socket): void {
  (this as TaggedSocket)[kRaw].onEnd();
}

function rawOnCloseTimeout(ws: RawWebSocket<unknown>): void {
  ws.terminate();
}
