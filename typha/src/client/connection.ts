/**
 * One WebSocket connection to one Typha replica: the transport half of the client. It opens the
 * socket, sends the hello, decodes and validates every frame, answers pings, sends its own,
 * enforces the handshake and read deadlines, and reports exactly one end. What the messages
 * mean (snapshot, deltas, resume) is the SyncClient's business; this class forwards them.
 *
 *   new ──open──▶ hello sent ──ServerHello──▶ streaming ──close/error/timeout──▶ ended(end)
 *    └──handshakeTimeoutMs without ServerHello: terminate ────────────────────────▶ ended
 *
 * Deadlines use the injected Clock. The read deadline is checked lazily: each frame only
 * records its arrival time, and one timer per connection wakes up when the deadline could
 * have passed, so the hot path does no timer work. Socket events go to named module-level
 * handlers (as in ws), which find their Connection through a symbol on the socket.
 */
import WebSocket from 'ws';
import type { Codec } from '../protocol/codec.js';
import { MalformedFrameError, ProtocolError, UnexpectedMessageError, truncateReason } from '../protocol/errors.js';
import { CloseCode, Features, type ClientHello, type Deltas, type Goodbye, type InSync, type ServerHello, type SnapshotPage } from '../protocol/messages.js';
import { decodeServerFrame, type FrameAcceptance } from '../protocol/compressed.js';
import { MAX_SERVER_FRAME_BYTES } from '../protocol/transport.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import { ConnectError, HandshakeTimeoutError, ReadTimeoutError, ServerClosedError } from './errors.js';
import type { Logger } from '../common/logger.js';

export type StreamMessage = ServerHello | SnapshotPage | InSync | Deltas | Goodbye;

/** Who the connection reports to; the SyncClient implements it once, not per connection. */
export interface ConnectionOwner {
  opened(conn: Connection): void;
  message(conn: Connection, msg: StreamMessage): void;
  ended(conn: Connection, end: ConnectionEnd): void;
}

export interface ConnectionEnd {
  /** The WebSocket upgrade succeeded. */
  opened: boolean;
  helloReceived: boolean;
  /** Our close code when we closed (timeouts, protocol errors, close()), else the server's. */
  code: number;
  reason: string;
  byClient: boolean;
  error?: Error;
  /** HTTP status of a refused upgrade. */
  status?: number;
}

export interface ConnectionConfig {
  url: string;
  codec: Codec;
  hello: ClientHello;
  clock: Clock;
  handshakeTimeoutMs: number;
  readTimeoutMs: number;
  pingIntervalMs: number;
  wsOptions: Readonly<WebSocket.ClientOptions>;
  logger: Logger;
}

/** After we start a close handshake, how long the server gets to answer before we cut the TCP connection. */
const CLOSE_GRACE_MS = 2000;

const kConnection = Symbol('typha.connection');
type Socket = WebSocket & { [kConnection]: Connection };

const BINARY = Object.freeze({ binary: true });
const TEXT = Object.freeze({ binary: false });
const NORMAL_CLOSES: ReadonlySet<number> = new Set([CloseCode.Normal, CloseCode.GoingAway]);

export class Connection {
  readonly url: string;
  readonly #owner: ConnectionOwner;
  readonly #cfg: ConnectionConfig;
  readonly #ws: Socket | undefined;
  #opened = false;
  #helloReceived = false;
  /** Set from the ServerHello: the server accepted the `deflate-snapshot` this client offered. */
  /** What this connection accepts compressed (from the ServerHello), and the delta dictionary it was sent. */
  readonly #accept: FrameAcceptance = { snapshots: false };
  #ended = false;
  #lastFrameAt = 0;
  #handshakeTimer: TimerHandle | undefined;
  #readTimer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;
  #graceTimer: TimerHandle | undefined;
  /** Set once this side decides to close: what to report instead of the server's code. */
  #ours: { code: number; reason: string; error: Error | undefined } | undefined;
  #error: Error | undefined;
  #status: number | undefined;
  #rttMs: number | undefined;

  constructor(owner: ConnectionOwner, cfg: ConnectionConfig) {
    this.url = cfg.url;
    this.#owner = owner;
    this.#cfg = cfg;
    let ws: Socket | undefined;
    try {
      ws = new WebSocket(cfg.url, [cfg.codec.subprotocol], {
        ...cfg.wsOptions,
        perMessageDeflate: false, // the server writes the same encoded bytes to every client
        maxPayload: MAX_SERVER_FRAME_BYTES,
        followRedirects: false,
      }) as Socket;
    } catch (err) {
      this.#error = new ConnectError(cfg.url, (err as Error).message, { cause: err });
      this.#ws = undefined;
      process.nextTick(connectionOnConstructFailure, this);
      return;
    }
    ws[kConnection] = this;
    ws.on('open', socketOnOpen);
    ws.on('message', socketOnMessage);
    ws.on('ping', socketOnActivity);
    ws.on('pong', socketOnActivity);
    ws.on('close', socketOnClose);
    ws.on('error', socketOnError);
    ws.on('unexpected-response', socketOnUnexpectedResponse);
    this.#ws = ws;
    this.#handshakeTimer = cfg.clock.setTimeout(connectionOnHandshakeTimeout, cfg.handshakeTimeoutMs, this);
  }

  /** Round trip of the last ping we sent, in clock ms. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  get opened(): boolean {
    return this.#opened && !this.#ended;
  }

  /** Closes with `code`/`reason` (a close handshake; cut after CLOSE_GRACE_MS). First call wins. */
  close(code: number, reason: string, error?: Error): void {
    if (this.#ended || this.#ours !== undefined) return;
    this.#ours = { code, reason: truncateReason(reason), error };
    this.#stopTimers();
    const ws = this.#ws;
    if (ws === undefined) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(code, this.#ours.reason);
    this.#graceTimer = this.#cfg.clock.setTimeout(connectionOnGraceExpired, CLOSE_GRACE_MS, this);
  }

  /** Closes because the server broke the protocol: the close code and reason come from `err`. */
  fail(err: ProtocolError): void {
    this.#cfg.logger.warn({ err, url: this.url }, 'typha protocol error; closing');
    this.close(err.closeCode, err.reason, err);
  }

  /** Drops the TCP connection without a close handshake (the peer is presumed dead). */
  terminate(code: number, reason: string, error: Error): void {
    if (this.#ended) return;
    if (this.#ours === undefined) this.#ours = { code, reason, error };
    this.#stopTimers();
    this.#ws?.terminate();
  }

  // ── event handling (called by the module-level handlers below) ────────────────────────────

  handleOpen(): void {
    this.#opened = true;
    this.#lastFrameAt = this.#cfg.clock.now();
    this.#send(this.#cfg.hello);
    this.#owner.opened(this);
  }

  handleFrame(data: WebSocket.RawData): void {
    if (this.#ours !== undefined || this.#ended) return;
    const clock = this.#cfg.clock;
    this.#lastFrameAt = clock.now();
    let msg;
    try {
      msg = decodeServerFrame(this.#cfg.codec, toBuffer(data), this.#accept);
    } catch (err) {
      this.fail(err instanceof ProtocolError ? err : new MalformedFrameError('undecodable frame', { cause: err }));
      return;
    }
    switch (msg.type) {
      case 'ping':
        this.#send({ type: 'pong', ts: msg.ts });
        return;
      case 'pong':
        this.#rttMs = clock.now() - msg.ts;
        return;
      case 'hello':
        if (this.#helloReceived) {
          this.fail(new UnexpectedMessageError('a second server hello'));
          return;
        }
        this.#helloReceived = true;
        this.#accept.snapshots = msg.features.includes(Features.DeflateSnapshot) && this.#cfg.hello.features.includes(Features.DeflateSnapshot);
        if (msg.features.includes(Features.DeflateDeltas) && this.#cfg.hello.features.includes(Features.DeflateDeltas)) {
          this.#accept.deltas = { dictionary: undefined };
        }
        clock.clearTimeout(this.#handshakeTimer);
        this.#handshakeTimer = undefined;
        this.#readTimer = clock.setTimeout(connectionOnReadCheck, this.#cfg.readTimeoutMs, this);
        this.#pingTimer = clock.setTimeout(connectionOnPingTick, this.#cfg.pingIntervalMs, this);
        break;
      case 'goodbye':
        break;
      case 'dictionary':
        // Kept by decodeServerFrame in #accept for the Deflated frames that follow.
        if (!this.#helloReceived) this.fail(new UnexpectedMessageError('"dictionary" before the server hello'));
        return;
      default:
        if (!this.#helloReceived) {
          this.fail(new UnexpectedMessageError(`"${msg.type}" before the server hello`));
          return;
        }
    }
    this.#owner.message(this, msg);
  }

  handleActivity(): void {
    this.#lastFrameAt = this.#cfg.clock.now();
  }

  handleError(err: Error): void {
    this.#error ??= new ConnectError(this.url, err.message, { cause: err });
  }

  handleUnexpectedResponse(status: number): void {
    this.#status = status;
    this.#error ??= new ConnectError(this.url, `upgrade refused with HTTP ${status}`, { status });
    this.#ws?.terminate();
  }

  handleClose(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopTimers();
    this.#cfg.clock.clearTimeout(this.#graceTimer);
    const ours = this.#ours;
    const end: ConnectionEnd = ours
      ? { opened: this.#opened, helloReceived: this.#helloReceived, code: ours.code, reason: ours.reason, byClient: true }
      : { opened: this.#opened, helloReceived: this.#helloReceived, code, reason, byClient: false };
    const error =
      ours?.error ??
      this.#error ??
      (ours === undefined && this.#opened && !NORMAL_CLOSES.has(code) ? new ServerClosedError(this.url, code, reason) : undefined);
    if (error !== undefined) end.error = error;
    if (this.#status !== undefined) end.status = this.#status;
    this.#owner.ended(this, end);
  }

  handshakeExpired(): void {
    this.#handshakeTimer = undefined;
    const ms = this.#cfg.handshakeTimeoutMs;
    this.terminate(CloseCode.HandshakeTimeout, `no server hello within ${ms} ms`, new HandshakeTimeoutError(this.url, ms));
  }

  readCheck(): void {
    const { clock, readTimeoutMs } = this.#cfg;
    const idle = clock.now() - this.#lastFrameAt;
    if (idle >= readTimeoutMs) {
      this.#readTimer = undefined;
      this.terminate(CloseCode.PingTimeout, `nothing received for ${readTimeoutMs} ms`, new ReadTimeoutError(this.url, readTimeoutMs));
      return;
    }
    this.#readTimer = clock.setTimeout(connectionOnReadCheck, readTimeoutMs - idle, this);
  }

  pingTick(): void {
    const clock = this.#cfg.clock;
    this.#send({ type: 'ping', ts: clock.now() });
    this.#pingTimer = clock.setTimeout(connectionOnPingTick, this.#cfg.pingIntervalMs, this);
  }

  graceExpired(): void {
    this.#graceTimer = undefined;
    this.#ws?.terminate();
  }

  constructFailed(): void {
    this.handleClose(1006, '');
  }

  #send(msg: Parameters<Codec['encode']>[0]): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    const codec = this.#cfg.codec;
    ws.send(codec.encode(msg), codec.binary ? BINARY : TEXT);
  }

  #stopTimers(): void {
    const clock = this.#cfg.clock;
    clock.clearTimeout(this.#handshakeTimer);
    clock.clearTimeout(this.#readTimer);
    clock.clearTimeout(this.#pingTimer);
    this.#handshakeTimer = this.#readTimer = this.#pingTimer = undefined;
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function socketOnOpen(this: WebSocket): void {
  (this as Socket)[kConnection].handleOpen();
}

function socketOnMessage(this: WebSocket, data: WebSocket.RawData): void {
  (this as Socket)[kConnection].handleFrame(data);
}

function socketOnActivity(this: WebSocket): void {
  (this as Socket)[kConnection].handleActivity();
}

function socketOnClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as Socket)[kConnection].handleClose(code, reason.toString('utf8'));
}

function socketOnError(this: WebSocket, err: Error): void {
  (this as Socket)[kConnection].handleError(err);
}

function socketOnUnexpectedResponse(this: WebSocket, _req: unknown, res: { statusCode?: number; resume(): void }): void {
  res.resume();
  (this as Socket)[kConnection].handleUnexpectedResponse(res.statusCode ?? 0);
}

function connectionOnHandshakeTimeout(conn: Connection): void {
  conn.handshakeExpired();
}

function connectionOnReadCheck(conn: Connection): void {
  conn.readCheck();
}

function connectionOnPingTick(conn: Connection): void {
  conn.pingTick();
}

function connectionOnGraceExpired(conn: Connection): void {
  conn.graceExpired();
}

function connectionOnConstructFailure(conn: Connection): void {
  conn.constructFailed();
}
