/**
 * LiteClient: the Typha sync protocol (docs/PROTOCOL.md) spoken by a swarm client that costs
 * ~150 KB instead of a SyncClient's tens of MB.
 *
 * Why not SyncClient for the whole swarm: a SyncClient keeps its own decoded copy of every
 * update (LocalState), which is right for an agent (one per node) but, for the felix syncer at
 * R = 35,000, is ~34,000 decoded objects per client; a few hundred of them fill this machine.
 * A LiteClient speaks the same protocol on the wire (hello with resume, snapshot pages, in-sync,
 * deltas, ping/pong, goodbye; msgpack subprotocol) and keeps the same information in a compact
 * form: one Uint32Array of value hashes indexed by the worker's KeyTable (0 = absent). Decoding
 * is shared per worker (FrameCache); every client applies every frame to its own array, so its
 * digest is its own. The swarm also runs a few real SyncClients and the run ends with a fresh
 * reference SyncClient, whose digests must equal the LiteClients'.
 *
 *   idle ─connect()─▶ connecting ─open: hello─▶ handshake ─ServerHello─▶ syncing ─InSync─▶ live
 *                         ▲                                                              │
 *                         └──── unexpected close: retry after 250..1000 ms (resume) ◀────┘
 *   any ─disconnect()─▶ parked (no retry until connect() again)
 *
 * Bytes are counted per WebSocket message (payload + frame header), per session and in total.
 * The transport is RawWebSocket (raw-ws.ts): each message is matched against the worker's
 * FrameCache slice by slice as it arrives (FrameAssembler), so a frame the worker has seen
 * before costs a memcmp and no allocation. Socket events go to one module-level handler object
 * shared by all clients, not closures per client.
 */
import {
  CloseCode,
  Features,
  MAX_SERVER_FRAME_BYTES,
  PROTOCOL_VERSION,
  SYNC_PATH,
  msgpackCodec,
  type ClientHello,
  type SyncerType,
} from '@cattail/typha/protocol';
import { monoMs } from './clock.js';
import { FrameAssembler, type FrameCache, type FrameInfo } from './frame-cache.js';
import { RawWebSocket, type RawHandler } from './raw-ws.js';

export type LitePhase = 'idle' | 'connecting' | 'handshake' | 'syncing' | 'live' | 'parked' | 'backoff';

/** What a client reports to the worker that owns it; implemented once per worker. */
export interface LiteHost {
  readonly frames: FrameCache;
  /** The socket is open (upgrade done): the connect slot can go to the next client. */
  opened(c: LiteClient): void;
  /** The connect attempt ended without an upgrade. */
  connectFailed(c: LiteClient): void;
  inSync(c: LiteClient, now: number, sessionBytes: number): void;
  /** A live delta batch (after in-sync), with the frame's churn stamps. */
  liveDeltas(c: LiteClient, info: FrameInfo, now: number): void;
  closed(c: LiteClient, code: number, reason: string, planned: boolean): void;
}

export interface LiteClientConfig {
  host: string;
  port: number;
  syncer: SyncerType;
  node: string;
  /** Bind the client's end to this loopback address (spreads ephemeral ports). */
  localAddress: string | undefined;
  handshakeTimeoutMs: number;
  /** Offer `deflate-snapshot`: snapshot pages arrive compressed (the frame cache inflates them once). */
  deflateSnapshot: boolean;
  /** Offer `deflate-deltas`: delta batches arrive as Deflated frames (the frame cache inflates them once). */
  deflateDeltas: boolean;
}

export class LiteClient {
  readonly id: number;
  readonly cfg: LiteClientConfig;
  readonly #host: LiteHost;
  readonly #assembler: FrameAssembler;
  #ws: RawWebSocket<LiteClient> | undefined;
  #msgBytes = 0;
  #wireBytes = 0;
  /** Wire bytes of the Deltas frames received while live. */
  deltaWireBytes = 0;
  #tooBig = false;
  phase: LitePhase = 'idle';
  mode: 'snapshot' | 'resume' | undefined;
  /** Value hash per key index of the worker's KeyTable; 0 = absent. */
  state = new Uint32Array(0);
  revision = 0;
  datastoreId: string | undefined;
  /** Set after the first in-sync: offered in the next hello. */
  canResume = false;

  connectAt = 0;
  firstInSyncAt = 0;
  sessionBytes = 0;
  totalBytes = 0;
  /** Bytes from the socket opening to the first InSync (the full snapshot). */
  snapshotBytes = 0;
  /** Churn-stamped updates received live. */
  stampsReceived = 0;
  sessions = 0;
  /** connect() calls, including retries after a failed or lost connection. */
  attempts = 0;
  unexpectedCloses = 0;
  lastClose = '';
  #resumeOffered = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(id: number, cfg: LiteClientConfig, host: LiteHost) {
    this.id = id;
    this.cfg = cfg;
    this.#host = host;
    this.#assembler = new FrameAssembler(host.frames);
  }

  get socketOpen(): boolean {
    return this.#ws?.open ?? false;
  }

  /** Opens a session; offers resume when the client has been in sync before and `resume` is set. */
  connect(resume = true): void {
    if (this.#ws !== undefined) return;
    clearTimeout(this.#retryTimer);
    this.phase = 'connecting';
    this.attempts++;
    this.mode = undefined;
    this.sessionBytes = 0;
    this.connectAt = monoMs();
    this.#ws = new RawWebSocket(
      { host: this.cfg.host, port: this.cfg.port, path: SYNC_PATH, protocol: msgpackCodec.subprotocol, localAddress: this.cfg.localAddress },
      this,
      LITE_HANDLER,
    );
    this.#resumeOffered = resume && this.canResume;
    this.#handshakeTimer = setTimeout(clientOnHandshakeTimeout, this.cfg.handshakeTimeoutMs, this);
  }

  /** Closes the session on purpose (code 1000) and stays parked until connect(). */
  disconnect(): void {
    clearTimeout(this.#retryTimer);
    this.phase = 'parked';
    this.#ws?.close(CloseCode.Normal, 'bench: parked');
  }

  /** Stops for good. */
  shutdown(): void {
    this.disconnect();
  }

  // ── socket events ─────────────────────────────────────────────────────────────────────────

  onOpen(): void {
    this.#host.opened(this);
    this.phase = 'handshake';
    this.sessions++;
    const hello: ClientHello = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      syncer: this.cfg.syncer,
      node: this.cfg.node,
      client: 'cattail-bench-lite/0.1.0',
      features: [
        Features.Resume,
        Features.Goodbye,
        ...(this.cfg.deflateSnapshot ? [Features.DeflateSnapshot] : []),
        ...(this.cfg.deflateDeltas ? [Features.DeflateDeltas] : []),
      ],
    };
    if (this.#resumeOffered && this.datastoreId !== undefined) hello.resume = { revision: this.revision, datastoreId: this.datastoreId };
    this.#ws?.send(msgpackCodec.encode(hello));
  }

  onMessageStart(length: number, final: boolean): void {
    const wire = length + (length < 126 ? 2 : length < 65536 ? 4 : 10);
    this.sessionBytes += wire;
    this.totalBytes += wire;
    this.#msgBytes = length;
    this.#wireBytes = wire;
    this.#tooBig = length > MAX_SERVER_FRAME_BYTES;
    this.#assembler.start(length, final);
  }

  onMessageData(slice: Buffer): void {
    if (!this.#tooBig) this.#assembler.data(slice);
  }

  onMessageEnd(): void {
    const now = monoMs();
    if (this.#tooBig) {
      this.#fail(CloseCode.MessageTooBig, `bench: ${this.#msgBytes} bytes is over the frame limit`);
      return;
    }
    let info: FrameInfo;
    try {
      info = this.#assembler.end();
    } catch (err) {
      this.#fail(CloseCode.MalformedFrame, `bench: ${(err as Error).message}`.slice(0, 120));
      return;
    }
    switch (info.kind) {
      case 'hello': {
        const h = info.hello!;
        clearTimeout(this.#handshakeTimer);
        this.mode = h.mode;
        if (h.mode === 'resume' && (!this.#resumeOffered || h.datastoreId !== this.datastoreId)) {
          this.#fail(CloseCode.UnexpectedMessage, 'bench: resume mode not asked for');
          return;
        }
        this.datastoreId = h.datastoreId;
        // A snapshot replaces everything: keys it does not mention are gone.
        if (h.mode === 'snapshot') this.state = new Uint32Array(Math.max(1024, this.#host.frames.keys.size));
        this.phase = 'syncing';
        return;
      }
      case 'dictionary':
        return;
      case 'snapshot':
      case 'deltas':
        if (info.kind === 'deltas' && this.phase === 'live') this.deltaWireBytes += this.#wireBytes;
        if (this.phase !== 'syncing' && this.phase !== 'live') {
          this.#fail(CloseCode.UnexpectedMessage, `bench: ${info.kind} in phase ${this.phase}`);
          return;
        }
        this.#apply(info);
        if (info.kind === 'deltas' && this.phase === 'live') {
          this.revision = info.revision;
          this.stampsReceived += info.stamps.length;
          this.#host.liveDeltas(this, info, now);
        }
        return;
      case 'in-sync':
        if (this.phase !== 'syncing') return;
        this.phase = 'live';
        this.revision = info.revision;
        this.canResume = true;
        if (this.firstInSyncAt === 0) {
          this.firstInSyncAt = now;
          this.snapshotBytes = this.sessionBytes;
        }
        this.#host.inSync(this, now, this.sessionBytes);
        return;
      case 'ping':
        this.#ws?.send(msgpackCodec.encode({ type: 'pong', ts: info.pingTs }));
        return;
      case 'pong':
        return;
      case 'goodbye':
        this.#ws?.close(CloseCode.Normal, 'goodbye');
        return;
    }
  }

  #apply(info: FrameInfo): void {
    if (info.maxKey >= this.state.length) {
      const grown = new Uint32Array(Math.max(info.maxKey + 1, this.#host.frames.keys.size, this.state.length * 2));
      grown.set(this.state);
      this.state = grown;
    }
    const st = this.state;
    const k = info.keyIdx;
    const v = info.valHash;
    for (let i = 0; i < k.length; i++) st[k[i]] = v[i];
  }

  #fail(code: number, reason: string): void {
    this.lastClose = `${code} ${reason}`;
    this.#ws?.close(code, reason);
  }

  onClose(code: number, reason: string, wasOpen: boolean): void {
    clearTimeout(this.#handshakeTimer);
    this.#ws = undefined;
    const planned = this.phase === 'parked';
    if (!wasOpen) this.#host.connectFailed(this);
    if (!planned) {
      this.unexpectedCloses++;
      this.lastClose = `${code} ${reason}`;
      this.phase = 'backoff';
      this.#retryTimer = setTimeout(clientOnRetry, 250 + Math.floor(Math.random() * 750), this);
    }
    this.#host.closed(this, code, reason, planned);
  }

  handshakeExpired(): void {
    this.lastClose = 'handshake timeout';
    this.#ws?.terminate();
  }

  retry(): void {
    if (this.phase === 'backoff') this.connect(true);
  }
}

const LITE_HANDLER: RawHandler<LiteClient> = Object.freeze({
  open: (c: LiteClient) => c.onOpen(),
  messageStart: (c: LiteClient, length: number, final: boolean) => c.onMessageStart(length, final),
  messageData: (c: LiteClient, slice: Buffer) => c.onMessageData(slice),
  messageEnd: (c: LiteClient) => c.onMessageEnd(),
  closed: (c: LiteClient, code: number, reason: string, opened: boolean) => c.onClose(code, reason, opened),
});

function clientOnHandshakeTimeout(c: LiteClient): void {
  c.handshakeExpired();
}

function clientOnRetry(c: LiteClient): void {
  c.retry();
}
