/**
 * One agent's WebSocket on the server: the per-connection state machine.
 *
 *   handshake ──hello──▶ waiting ──cache ready (bounded wait)──▶ syncing ──InSync──▶ lagging ⇄ live
 *       │                  │ unknown syncer, bad version,           │  pages / replayed frames / coalesced
 *       │                  │ malformed or unexpected frame:          │  pages, written as the socket drains
 *       │                  └ close(code, reason)                     ▼
 *       └─ no hello in handshakeTimeoutMs: close(HandshakeTimeout)   catch-up from the cache until current,
 *                                                                    then live: the FanOut writes batches
 *   any state ──goodbye()/close()──▶ closing ──ws 'close'──▶ closed  (terminated after closeGraceMs)
 *
 * Syncing. A client that resumes (its revision and datastore match, feature `resume` offered)
 * gets the changes since its revision: the encoded frames the cache kept, or coalesced updates
 * (see `catch-up.ts`); any other client gets the snapshot (`SyncCache.join`: pages encoded once
 * per revision and codec, plus the delta frames since). A client is never brought below the
 * newest revision it holds (its resume revision, or the `floor` it sends after a snapshot was
 * cut off): when this replica is behind it, it waits up to `resumeWaitMs` for its watch to get
 * there, then says Goodbye(ReplicaBehind) with a hint toward a peer that is. Every write in this state respects the high-water mark: the
 * pump writes while `bufferedAmount` is under it and resumes on the socket's 'drain'.
 *
 * Live and lagging. Once current, the connection joins its syncer's FanOut and receives the
 * shared frames. When its socket buffer passes the high-water mark it leaves the live set and
 * remembers the revision it was fully sent (`lagging`); on 'drain' (or the server's tick, if a
 * drain is missed) it catches up from the cache and goes live again. Lagging longer than
 * `maxLagMs`, or more than `maxLagRevisions` behind, or behind the cache's resumable horizon:
 * Goodbye(TooSlow). A new client is not cut for lag during its initial sync nor for
 * `newClientGraceMs` after it (the new-client grace, `lag-policy.ts`): a large snapshot to a
 * slow link legitimately takes a while, and its buffer is bounded all the same. Ping timeouts
 * and the resumable horizon apply throughout.
 *
 * Liveness. The server's tick (one timer for all connections) calls `tick(now)`: a ping every
 * `pingIntervalMs` (one encoding per codec per tick, shared), and a close with PingTimeout
 * when nothing at all has arrived for `pongTimeoutMs`.
 *
 * Isolation. Socket events go to named module-level handlers that find the Connection through
 * a symbol on the socket (as in ws: no closure per connection or event); each entry point
 * catches what it calls, so one connection's failure closes that connection only.
 */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { SyncCache } from '../cache/sync-cache.js';
import type { ServerMetrics, DropReason } from '../metrics/server-metrics.js';
import type { Codec } from '../protocol/codec.js';
import { MalformedFrameError, ProtocolError, UnexpectedMessageError, truncateReason } from '../protocol/errors.js';
import { CloseCode, Features, type ClientHello, type ClientMessage, type Goodbye, type Message, type SyncerType } from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/parse.js';
import { CoalescedPages, planCatchUp, type CatchUpPlan } from './catch-up.js';
import type { TimerHandle } from '../common/clock.js';
import type { FanOut, FanOutMember, SweepPacer } from './fan-out.js';
import { rawSocket, type FrameWriter, type SharedRun } from './frame-writer.js';
import { OutboundQueue } from './outbound-queue.js';
import type { Logger } from '../common/logger.js';
import type { GoodbyeHint, ResolvedServerOptions } from './options.js';
import type { ClientSummary, ConnectionState } from './status.js';
import { lagVerdict } from './lag-policy.js';
import { deltaFrameKind } from '../protocol/deflated-deltas.js';

/** RFC 6455 "internal error": a bug or a failure on our side, not the client's. */
const CLOSE_INTERNAL_ERROR = 1011;

/** What a connection needs of its server; SyncServer implements it once, not per connection. */
export interface ConnectionOwner {
  readonly options: ResolvedServerOptions;
  readonly metrics: ServerMetrics;
  /** Frames replayed to a lagging client at most; past this it gets coalesced changes. */
  readonly replayMaxBytes: number;
  fanOut(syncer: SyncerType): FanOut<Connection> | undefined;
  /** This tick's Ping, encoded once per codec. */
  pingFrame(codec: Codec, now: number): Buffer;
  overloadHint(): GoodbyeHint | undefined;
  /** Where to send a client this replica is behind: a peer at or past `revision`, if one is known. */
  behindHint(revision: number): GoodbyeHint | undefined;
  connectionClosed(conn: Connection): void;
}

/** What the accept gate counts for this connection until its hello (see accept-gate.ts). */
export interface HandshakeAdmission {
  helloReceived(): void;
}

/**
 * A socket held by a fan-out worker (see fanout-pool.ts). The hub sweeps it in the worker's lane
 * (`pacer`); the worker writes its live runs and is the one that knows what it was written.
 */
export interface RemoteLive {
  readonly pacer: SweepPacer;
  /** The client is live, having everything up to `revision`. */
  goLive(revision: number): void;
  /** Not live any more; with `report`, the worker reports the revision of the last run it wrote (`remoteFellBehind`). */
  leaveLive(report: boolean): void;
  writeLive(run: SharedRun): void;
}

export interface ConnectionInit {
  id: number;
  remote: string;
  codec: Codec;
  writer: FrameWriter;
  logger: Logger;
  connectedAtWall: number;
  admission?: HandshakeAdmission | undefined;
  /** Set when the socket is in a fan-out worker. */
  worker?: RemoteLive | undefined;
}

const kConnection = Symbol('typha.server.connection');
type Tagged = { [kConnection]: Connection };
const OPEN = WebSocket.OPEN;
const ACCEPTED_FEATURES: readonly string[] = [Features.Resume, Features.Goodbye, Features.DeflateSnapshot, Features.DeflateDeltas];

/** Whether this server would accept `feature` from a client of `codec`. */
function acceptsFeature(feature: string, codec: Codec, o: ResolvedServerOptions): boolean {
  if (!ACCEPTED_FEATURES.includes(feature)) return false;
  if (feature === Features.DeflateSnapshot) return codec.binary && o.compressSnapshots;
  if (feature === Features.DeflateDeltas) return codec.binary && o.compressDeltas;
  return true;
}

export class Connection implements FanOutMember {
  readonly id: number;
  readonly remote: string;
  readonly codec: Codec;
  readonly connectedAt: number;
  readonly connectedAtWall: number;
  /** The delta frames this client takes: its codec's, or `<codec>+deflate` once it accepted `deflate-deltas`. */
  frameKind: string;
  readonly #owner: ConnectionOwner;
  readonly #o: ResolvedServerOptions;
  readonly #ws: WebSocket;
  readonly #writer: FrameWriter;
  readonly #hwm: number;
  #log: Logger;
  #state: ConnectionState = 'handshake';
  #syncer: SyncerType | undefined;
  #node = '';
  #client: string | undefined;
  #protocolVersion = 0;
  #features: string[] = [];
  #hub: FanOut<Connection> | undefined;
  #cache: SyncCache | undefined;
  #mode: 'snapshot' | 'resume' = 'snapshot';
  #helloSent = false;
  /** The revision this client has been sent everything up to. */
  #revision = 0;
  #laggingSince = -1;
  /** When the client was last current, for the lag limits (-1: current); see lag-policy.ts. */
  #behindSince = -1;
  /** End of the new-client grace: Infinity through the initial sync, then InSync + newClientGraceMs. */
  #graceEndsAt = Infinity;
  #graceUsed = false;
  #syncStartedAt = 0;
  #lastRecvAt: number;
  #nextPingAt = Infinity;
  /** What the pump writes while the client is not live; then InSync, if still to be sent. */
  readonly #queue = new OutboundQueue();
  #inSyncRevision = -1;
  #handshakeTimer: TimerHandle | undefined;
  #waitTimer: TimerHandle | undefined;
  #graceTimer: TimerHandle | undefined;
  #abort: AbortController | undefined;
  #admission: HandshakeAdmission | undefined;
  readonly #remote: RemoteLive | undefined;
  /** Left the live set of a fan-out worker: the pump waits for the revision the worker wrote last. */
  #awaitingWorker = false;

  constructor(owner: ConnectionOwner, ws: WebSocket, init: ConnectionInit) {
    this.#owner = owner;
    this.#o = owner.options;
    this.#ws = ws;
    this.id = init.id;
    this.remote = init.remote;
    this.codec = init.codec;
    this.frameKind = init.codec.name;
    this.#writer = init.writer;
    this.#log = init.logger;
    this.#hwm = this.#o.highWaterMarkBytes;
    this.connectedAtWall = init.connectedAtWall;
    this.#admission = init.admission;
    this.#remote = init.worker;
    const clock = this.#o.clock;
    this.connectedAt = this.#lastRecvAt = clock.now();
    (ws as unknown as Tagged)[kConnection] = this;
    ws.on('message', wsOnMessage);
    ws.on('close', wsOnClose);
    ws.on('error', wsOnError);
    ws.on('ping', wsOnActivity);
    ws.on('pong', wsOnActivity);
    const socket = rawSocket(ws);
    if (socket !== undefined) {
      (socket as unknown as Tagged)[kConnection] = this;
      socket.on('drain', socketOnDrain);
    }
    this.#handshakeTimer = clock.setTimeout(connectionOnHandshakeTimeout, this.#o.handshakeTimeoutMs, this);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get syncer(): SyncerType | undefined {
    return this.#syncer;
  }

  get node(): string {
    return this.#node;
  }

  /** The revision this client has been sent everything up to. */
  get revision(): number {
    return this.#revision;
  }

  get bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  /** Whether the connection is still open and not on its way out. */
  get active(): boolean {
    return this.#state !== 'closing' && this.#state !== 'closed';
  }

  summary(now: number): ClientSummary {
    const lagMs = this.#behindSince >= 0 ? now - this.#behindSince : 0;
    return {
      id: this.id,
      node: this.#node,
      syncer: this.#syncer ?? null,
      client: this.#client ?? null,
      codec: this.codec.name,
      remote: this.remote,
      state: this.#state,
      mode: this.#helloSent ? this.#mode : null,
      revision: this.#revision,
      lagMs: Math.max(0, Math.round(lagMs)),
      bufferedBytes: this.#ws.bufferedAmount,
      connectedAt: new Date(this.connectedAtWall).toISOString(),
    };
  }

  // ── the fan-out (FanOutMember) ──────────────────────────────────────────────────────────────

  /** The fan-out worker's lane when a worker holds the socket (FanOutMember). */
  get pacer(): SweepPacer | undefined {
    return this.#remote?.pacer;
  }

  writeLive(run: SharedRun, now: number): void {
    const ws = this.#ws;
    if (ws.readyState !== OPEN) return;
    const remote = this.#remote;
    if (remote !== undefined) {
      // The worker checks the real socket buffer and says where it stopped (remoteFellBehind).
      remote.writeLive(run);
      this.#revision = run.revision;
      return;
    }
    if (ws.bufferedAmount > this.#hwm) {
      this.fallBehind(now);
      return;
    }
    try {
      const writer = this.#writer;
      const frames = run.frames;
      if (frames.length === 1) writer.writeShared(ws, frames[0]);
      else if (writer.writeRun !== undefined) writer.writeRun(ws, run);
      else for (const f of frames) writer.writeShared(ws, f);
    } catch (err) {
      this.#internalError(err);
      return;
    }
    this.#revision = run.revision;
  }

  fallBehind(now: number): void {
    if (this.#state !== 'live') return;
    this.#state = 'lagging';
    // The worker may not have written every run handed to it: catch up from where it says.
    if (this.#remote !== undefined) this.#awaitingWorker = true;
    this.#leaveHub(true);
    if (this.#behindSince < 0) this.#behindSince = now;
    this.#startLagging(now);
  }

  /**
   * The fan-out worker took this client out of its live set (its socket over the mark, or after
   * `leaveLive`); it wrote every run up to `revision` and none after. Once per live period.
   */
  remoteFellBehind(revision: number, now: number): void {
    if (this.#state === 'live') this.fallBehind(now);
    if (!this.#awaitingWorker) return;
    this.#awaitingWorker = false;
    this.#revision = revision;
  }

  #joinHub(): void {
    const hub = this.#hub;
    if (hub === undefined) return;
    this.#remote?.goLive(this.#revision);
    hub.add(this);
  }

  /** `catchUp`: the client stays and catches up, from where a fan-out worker says it stopped. */
  #leaveHub(catchUp: boolean): void {
    this.#hub?.remove(this);
    this.#remote?.leaveLive(catchUp);
  }

  // ── closing ─────────────────────────────────────────────────────────────────────────────────

  /** Sends Goodbye (if the client takes them) with the hint, then closes with `code`. */
  goodbye(code: number, reason: string, hint: GoodbyeHint | undefined, drop: DropReason): void {
    this.#shutdown(code, reason, drop, true, hint);
  }

  /** Closes with `code` and `reason`, no Goodbye (protocol errors, timeouts). */
  close(code: number, reason: string, drop: DropReason | undefined): void {
    this.#shutdown(code, reason, drop, false, undefined);
  }

  /** Cuts the TCP connection (after the grace period, or on stop()). */
  terminate(): void {
    this.#ws.terminate();
  }

  // ── events (called by the module-level handlers below) ─────────────────────────────────────

  handleMessage(data: WebSocket.RawData): void {
    try {
      this.#onMessage(data);
    } catch (err) {
      this.#internalError(err);
    }
  }

  #onMessage(data: WebSocket.RawData): void {
    const st = this.#state;
    if (st === 'closing' || st === 'closed') return;
    const now = this.#o.clock.now();
    this.#lastRecvAt = now;
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(this.codec.decode(toBuffer(data)));
    } catch (err) {
      this.#protocolError(err);
      return;
    }
    if (st === 'handshake') {
      if (msg.type === 'hello') this.#onHello(msg, now);
      else this.#protocolError(new UnexpectedMessageError(`expected a hello first, got "${msg.type}"`));
      return;
    }
    switch (msg.type) {
      case 'ping':
        if (this.#ws.bufferedAmount <= this.#hwm) this.#send({ type: 'pong', ts: msg.ts });
        return;
      case 'pong':
        if (msg.ts <= now && this.#syncer !== undefined) this.#owner.metrics.pingLatency(this.#syncer, (now - msg.ts) / 1000);
        return;
      case 'hello':
        this.#protocolError(new UnexpectedMessageError('a second hello on the same connection'));
        return;
    }
  }

  handleActivity(): void {
    this.#lastRecvAt = this.#o.clock.now();
  }

  handleDrain(): void {
    const st = this.#state;
    if (st === 'syncing' || st === 'lagging') this.pump();
  }

  handleError(err: Error & { code?: string }): void {
    const tooBig = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
    // ws emits 'error' on a server socket only for what its receiver rejects: the frame layer.
    const msg = tooBig ? `client sent a frame over ${this.#o.maxFrameBytes} bytes; closing (1009)` : 'invalid WebSocket frame from client; closing';
    this.#log.info({ err, code: err.code }, msg);
    if (!this.active) return;
    // ws has already started the close (1009, 1002, 1007…) or destroyed the socket: no more writes.
    this.#state = 'closing';
    this.#leave();
    this.#graceTimer = this.#o.clock.setTimeout(connectionOnGraceExpired, this.#o.closeGraceMs, this);
    this.#owner.metrics.connectionDropped('protocol-error');
  }

  handleClose(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    const byServer = this.#state === 'closing';
    this.#state = 'closed';
    this.#leave();
    this.#o.clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    try {
      const metrics = this.#owner.metrics;
      if (this.#helloSent) metrics.streaming(this.#syncer as SyncerType, -1);
      this.#stopLagging();
      metrics.connectionClosed();
    } finally {
      this.#owner.connectionClosed(this);
    }
    this.#log.info({ code, reason, byClient: !byServer }, 'client connection closed');
  }

  handshakeExpired(): void {
    this.#handshakeTimer = undefined;
    if (this.#state === 'handshake') {
      this.close(CloseCode.HandshakeTimeout, `no hello within ${this.#o.handshakeTimeoutMs} ms`, 'handshake-timeout');
    }
  }

  waitExpired(): void {
    this.#waitTimer = undefined;
    this.#abort?.abort();
  }

  graceExpired(): void {
    this.#graceTimer = undefined;
    this.#ws.terminate();
  }

  /** The server's periodic tick: pings, ping timeout, lag limits, missed drains. */
  tick(now: number): void {
    const st = this.#state;
    if (st === 'handshake' || st === 'closing' || st === 'closed') return;
    const o = this.#o;
    if (now - this.#lastRecvAt >= o.pongTimeoutMs) {
      this.close(CloseCode.PingTimeout, `nothing received for ${o.pongTimeoutMs} ms (ping timeout)`, 'ping-timeout');
      return;
    }
    if (now >= this.#nextPingAt) {
      this.#nextPingAt = now + o.pingIntervalMs;
      this.#write(this.#owner.pingFrame(this.codec, now));
    }
    if (st === 'lagging' && this.#behindSince >= 0) {
      const behind = (this.#hub?.publishedRevision ?? 0) - this.#revision;
      const verdict = lagVerdict({
        now,
        behindSince: this.#behindSince,
        graceEndsAt: this.#graceEndsAt,
        revisionsBehind: behind,
        maxLagMs: o.maxLagMs,
        maxLagRevisions: o.maxLagRevisions,
      });
      if (verdict === 'cut') {
        const grace = this.#graceUsed ? `; new-client grace of ${o.newClientGraceMs} ms used up` : '';
        const reason =
          now - this.#behindSince > o.maxLagMs
            ? `too slow: behind the live stream for more than ${o.maxLagMs} ms${grace}`
            : `too slow: ${behind} revisions behind the live stream (limit ${o.maxLagRevisions})${grace}`;
        this.goodbye(CloseCode.TooSlow, reason, undefined, 'too-slow');
        return;
      }
      if (verdict === 'grace' && !this.#graceUsed) {
        this.#graceUsed = true;
        this.#owner.metrics.graceUsed(this.#syncer as SyncerType);
        this.#log.warn({ lagMs: now - this.#behindSince, graceLeftMs: this.#graceEndsAt - now }, 'new client is far behind; the grace period lets it catch up');
      }
      const oldest = (this.#cache as SyncCache).oldestResumableRevision;
      if (this.#queue.empty && this.#revision < oldest) {
        this.goodbye(
          CloseCode.TooSlow,
          `too slow: revision ${this.#revision} fell behind ${oldest}, the oldest this replica can catch up from`,
          undefined,
          'too-slow',
        );
        return;
      }
    }
    if ((st === 'lagging' || st === 'syncing') && this.#ws.bufferedAmount <= this.#hwm) this.pump();
  }

  /** Writes what is queued while the socket is under its high-water mark; then goes live or waits for 'drain'. */
  pump(): void {
    try {
      this.#pumpLoop();
    } catch (err) {
      this.#internalError(err);
    }
  }

  // ── handshake and initial sync ─────────────────────────────────────────────────────────────

  #onHello(hello: ClientHello, now: number): void {
    this.#o.clock.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#admission?.helloReceived();
    this.#admission = undefined;
    const hub = this.#owner.fanOut(hello.syncer);
    const cache = this.#o.caches[hello.syncer];
    if (hub === undefined || cache === undefined) {
      const served = Object.keys(this.#o.caches).join(', ');
      this.close(CloseCode.UnknownSyncer, `syncer "${hello.syncer}" is not served by this typha (it serves ${served})`, 'protocol-error');
      return;
    }
    this.#hub = hub;
    this.#cache = cache;
    this.#syncer = hello.syncer;
    this.#node = hello.node;
    this.#client = hello.client;
    this.#protocolVersion = hello.protocolVersion;
    this.#features = ACCEPTED_FEATURES.filter((f) => hello.features.includes(f) && acceptsFeature(f, this.codec, this.#o));
    this.frameKind = deltaFrameKind(this.codec.name, this.#features.includes(Features.DeflateDeltas));
    this.#log = this.#log.child({ node: hello.node, syncer: hello.syncer });
    this.#state = 'waiting';
    this.#nextPingAt = now + this.#o.pingIntervalMs;
    this.#log.debug({ client: hello.client, features: this.#features, resume: hello.resume }, 'client hello');
    void this.#begin(cache, hello);
  }

  async #begin(cache: SyncCache, hello: ClientHello): Promise<void> {
    const o = this.#o;
    try {
      if (!cache.ready) {
        const ready = await this.#waitFor(cache, 0, o.readyTimeoutMs);
        if (this.#state !== 'waiting') return;
        if (!ready) {
          const reason = `typha is not in sync with the datastore yet (waited ${o.readyTimeoutMs} ms); try another replica`;
          this.goodbye(CloseCode.ServerOverloaded, reason, this.#owner.overloadHint(), 'not-ready');
          return;
        }
      }
      const ours = o.datastoreId();
      const resume = hello.resume?.datastoreId === ours && this.#features.includes(Features.Resume) ? hello.resume : undefined;
      if (hello.resume !== undefined && hello.resume.datastoreId !== ours) {
        this.#log.info({ theirs: hello.resume.datastoreId, ours }, 'client resumes from another datastore; sending a snapshot');
      }
      // Never bring a client below what it holds: a replica behind it waits, or hands it off.
      const floor = Math.max(resume?.revision ?? 0, hello.floor?.datastoreId === ours ? hello.floor.revision : 0);
      if (floor > cache.revision) {
        this.#log.info({ floor, ours: cache.revision }, 'client is ahead of this replica; waiting for it to catch up');
        o.confirmRevision?.(floor);
        const reached = await this.#waitFor(cache, floor, o.resumeWaitMs);
        if (this.#state !== 'waiting') return;
        if (!reached) {
          const reason = `this replica is at revision ${cache.revision}, behind the client's ${floor}, after ${o.resumeWaitMs} ms; try another replica`;
          this.goodbye(CloseCode.ReplicaBehind, reason, this.#owner.behindHint(floor), 'behind');
          return;
        }
      }
      if (resume !== undefined && this.#startResume(resume.revision, planCatchUp(cache, this.frameKind, resume.revision, this.#owner.replayMaxBytes))) {
        this.pump();
        return;
      }
      this.#startSnapshot(cache);
      this.pump();
    } catch (err) {
      this.#internalError(err);
    }
  }

  /** Resolves true once `cache` is ready at `revision`, false after `ms` or on close. */
  async #waitFor(cache: SyncCache, revision: number, ms: number): Promise<boolean> {
    const ac = new AbortController();
    this.#abort = ac;
    this.#waitTimer = this.#o.clock.setTimeout(connectionOnWaitTimeout, ms, this);
    try {
      await cache.waitForRevision(revision, ac.signal);
      return true;
    } catch (err) {
      if (ac.signal.aborted) return false;
      throw err;
    } finally {
      this.#o.clock.clearTimeout(this.#waitTimer);
      this.#waitTimer = undefined;
      this.#abort = undefined;
    }
  }

  #startResume(from: number, plan: CatchUpPlan): boolean {
    switch (plan.kind) {
      case 'too-old':
      case 'ahead':
        return false;
      case 'frames':
        this.#queue.setFrames(plan.frames, plan.revision);
        break;
      case 'updates':
        this.#queue.setPages(new CoalescedPages(plan.updates, from, plan.revision));
        break;
      case 'current':
        break;
    }
    this.#revision = from;
    this.#inSyncRevision = plan.revision;
    this.#sendHello('resume', plan.revision);
    return true;
  }

  #startSnapshot(cache: SyncCache): void {
    const join = cache.join(this.codec, this.frameKind);
    this.#queue.setSnapshot(join.snapshot, this.#features.includes(Features.DeflateSnapshot));
    if (join.tail.length > 0) this.#queue.setFrames(join.tail, join.revision);
    this.#inSyncRevision = join.revision;
    this.#sendHello('snapshot', join.revision);
  }

  #sendHello(mode: 'snapshot' | 'resume', revision: number): void {
    const o = this.#o;
    this.#mode = mode;
    this.#send({
      type: 'hello',
      protocolVersion: this.#protocolVersion,
      server: o.serverId,
      datastoreId: o.datastoreId(),
      features: this.#features,
      mode,
      revision,
    });
    // deflate-deltas: the dictionary before any Deflated frame (a tail or replay may hold some).
    if (this.frameKind !== this.codec.name) this.#write((this.#cache as SyncCache).deltaCompression(this.codec).dictionaryFrame);
    this.#state = 'syncing';
    this.#helloSent = true;
    this.#syncStartedAt = o.clock.now();
    this.#behindSince = this.#syncStartedAt;
    this.#graceEndsAt = Infinity;
    const syncer = this.#syncer as SyncerType;
    this.#owner.metrics.streaming(syncer, 1);
    this.#owner.metrics.syncStarted(syncer, mode);
    this.#log.debug({ mode, revision }, 'syncing client');
  }

  // ── the pump ───────────────────────────────────────────────────────────────────────────────

  #pumpLoop(): void {
    const ws = this.#ws;
    for (;;) {
      const st = this.#state;
      if ((st !== 'syncing' && st !== 'lagging') || ws.readyState !== OPEN) return;
      if (this.#awaitingWorker) return; // the worker's `behind` report resumes
      if (ws.bufferedAmount > this.#hwm) return; // 'drain' or the tick resumes
      const frame = this.#queue.next(this.codec);
      if (frame !== undefined) {
        if (this.#queue.encodedUpdates > 0) this.#owner.metrics.messageEncoded(this.#syncer as SyncerType, this.#queue.encodedUpdates);
        this.#write(frame);
        continue;
      }
      if (this.#queue.revision > this.#revision) this.#revision = this.#queue.revision;
      if (this.#inSyncRevision >= 0) {
        this.#sendInSync();
        continue;
      }
      if (!this.#planNext()) return;
    }
  }

  #sendInSync(): void {
    const revision = this.#inSyncRevision;
    this.#inSyncRevision = -1;
    this.#revision = revision;
    this.#send({ type: 'in-sync', revision });
    this.#state = 'lagging'; // until #planNext finds it current
    const now = this.#o.clock.now();
    this.#graceEndsAt = now + this.#o.newClientGraceMs;
    const seconds = (now - this.#syncStartedAt) / 1000;
    this.#owner.metrics.initialSyncSent(this.#syncer as SyncerType, this.#mode, seconds);
    this.#log.info({ mode: this.#mode, revision, seconds }, 'client in sync');
  }

  /** Queues what the client misses, or makes it live; false when there is nothing to write. */
  #planNext(): boolean {
    const cache = this.#cache as SyncCache;
    const now = this.#o.clock.now();
    const plan = planCatchUp(cache, this.frameKind, this.#revision, this.#owner.replayMaxBytes);
    switch (plan.kind) {
      case 'current':
      case 'ahead':
        if (plan.revision > this.#revision) this.#revision = plan.revision;
        this.#goLive(now);
        return false;
      case 'too-old':
        this.goodbye(
          CloseCode.TooSlow,
          `too slow: revision ${this.#revision} fell behind ${plan.oldestResumableRevision}, the oldest this replica can catch up from`,
          undefined,
          'too-slow',
        );
        return false;
      case 'frames':
        this.#queue.setFrames(plan.frames, plan.revision);
        break;
      case 'updates':
        this.#queue.setPages(new CoalescedPages(plan.updates, this.#revision, plan.revision));
        break;
    }
    this.#owner.metrics.catchUpPlanned(this.#syncer as SyncerType, (this.#o.clock.now() - now) / 1000);
    this.#startLagging(now);
    return true;
  }

  #goLive(now: number): void {
    this.#state = 'live';
    this.#behindSince = -1;
    this.#joinHub();
    if (this.#laggingSince >= 0) {
      this.#owner.metrics.caughtUp(this.#syncer as SyncerType, (now - this.#laggingSince) / 1000);
      this.#stopLagging();
    }
  }

  #startLagging(now: number): void {
    if (this.#laggingSince >= 0) return;
    this.#laggingSince = now;
    this.#owner.metrics.lagging(this.#syncer as SyncerType, 1);
  }

  #stopLagging(): void {
    if (this.#laggingSince < 0) return;
    this.#laggingSince = -1;
    this.#owner.metrics.lagging(this.#syncer as SyncerType, -1);
  }

  // ── writing and closing ────────────────────────────────────────────────────────────────────

  #send(msg: Message): void {
    this.#write(this.codec.encode(msg));
  }

  #write(payload: Buffer): void {
    if (this.#ws.readyState !== OPEN) return;
    const syncer = this.#syncer;
    if (syncer === undefined) {
      this.#writer.write(this.#ws, payload, this.codec.binary);
      return;
    }
    const clock = this.#o.clock;
    const start = clock.now();
    this.#writer.write(this.#ws, payload, this.codec.binary);
    this.#owner.metrics.writeLatency(syncer, (clock.now() - start) / 1000);
  }

  #protocolError(err: unknown): void {
    const pe = err instanceof ProtocolError ? err : new MalformedFrameError('undecodable frame', { cause: err });
    this.#log.info({ err: pe, closeCode: pe.closeCode }, 'protocol error from client; closing');
    this.close(pe.closeCode, pe.reason, 'protocol-error');
  }

  #internalError(err: unknown): void {
    this.#log.error({ err }, 'internal error on a client connection; closing it');
    this.close(CLOSE_INTERNAL_ERROR, 'internal server error; reconnect', 'internal-error');
  }

  #shutdown(code: number, reason: string, drop: DropReason | undefined, sendGoodbye: boolean, hint: GoodbyeHint | undefined): void {
    const st = this.#state;
    if (st === 'closing' || st === 'closed') return;
    this.#state = 'closing';
    this.#leave();
    const ws = this.#ws;
    const short = truncateReason(reason);
    try {
      if (ws.readyState === OPEN) {
        // Before the hello we cannot know the client's features; every v1 parser knows Goodbye.
        if (sendGoodbye && (st === 'handshake' || this.#features.includes(Features.Goodbye))) {
          const g: Goodbye = { type: 'goodbye', code, reason };
          if (hint?.reconnect !== undefined) g.reconnect = hint.reconnect;
          if (hint?.delayMs !== undefined) g.delayMs = hint.delayMs;
          this.#send(g);
        }
        ws.close(code, short);
      }
    } catch (err) {
      this.#log.warn({ err }, 'closing the socket failed; cutting it');
      ws.terminate();
    }
    this.#graceTimer = this.#o.clock.setTimeout(connectionOnGraceExpired, this.#o.closeGraceMs, this);
    if (drop !== undefined) this.#owner.metrics.connectionDropped(drop);
    this.#log.info({ code, reason, drop, reconnect: hint?.reconnect, delayMs: hint?.delayMs, revision: this.#revision }, 'closing client connection');
  }

  /** Leaves the fan-out, drops what was queued, stops the per-connection timers and waits. */
  #leave(): void {
    this.#leaveHub(false);
    this.#queue.clear();
    this.#inSyncRevision = -1;
    const clock = this.#o.clock;
    clock.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#abort?.abort();
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function connectionOf(target: object): Connection {
  return (target as Tagged)[kConnection];
}

function wsOnMessage(this: WebSocket, data: WebSocket.RawData): void {
  connectionOf(this).handleMessage(data);
}

function wsOnActivity(this: WebSocket): void {
  connectionOf(this).handleActivity();
}

function wsOnClose(this: WebSocket, code: number, reason: Buffer): void {
  connectionOf(this).handleClose(code, reason.toString('utf8'));
}

function wsOnError(this: WebSocket, err: Error): void {
  connectionOf(this).handleError(err);
}

function socketOnDrain(this: Duplex): void {
  connectionOf(this).handleDrain();
}

function connectionOnHandshakeTimeout(conn: Connection): void {
  conn.handshakeExpired();
}

function connectionOnWaitTimeout(conn: Connection): void {
  conn.waitExpired();
}

function connectionOnGraceExpired(conn: Connection): void {
  conn.graceExpired();
}
