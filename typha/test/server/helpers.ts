/**
 * Test harness for the sync server: real SyncCaches and DeltaBatchers fed directly through
 * their SyncCallbacks (no datastore at this layer), a real SyncServer on 127.0.0.1:0, and raw
 * `ws` clients that speak the protocol with the codecs and rebuild the state they are sent.
 * Everything waits on events (a message arrived, a socket closed), never on sleeps; time-driven
 * behaviour uses FakeClock, which only moves when a test advances it.
 */
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { DeltaBatcher } from '../../src/cache/delta-batcher.js';
import { SyncCache, type SyncCacheOptions } from '../../src/cache/sync-cache.js';
import { updateKey } from '../../src/common/update-key.js';
import {
  CODECS,
  Features,
  PROTOCOL_VERSION,
  SYNC_PATH,
  decodeServerFrame,
  type FrameAcceptance,
  parseServerMessage,
  type ClientHello,
  type Codec,
  type Goodbye,
  type Message,
  type ServerHello,
  type ServerMessage,
  type SyncerType,
  type Update,
} from '../../src/protocol/index.js';
import { SyncServer, type SyncServerOptions } from '../../src/server/index.js';
import { realClock, type Clock } from '../../src/common/clock.js';
import { FakeClock as SharedFakeClock } from '../../src/testing/fake-clock.js';
import type { Logger } from '../../src/common/logger.js';
import { Waitable } from '../waitable.js';

/** The shared FakeClock, started at 1 000 000 ms as this harness's tests expect. */
export class FakeClock extends SharedFakeClock {
  constructor(start = 1_000_000) {
    super(start);
  }
}

/** A clock whose timers never fire: tests flush batchers explicitly. */
export const manualClock: Clock = { now: realClock.now, setTimeout: () => 0, clearTimeout: () => {} };

export function upd(name: string, revision: number, spec?: Record<string, unknown>, kind = 'WorkloadEndpoint'): Update {
  const u: Update = { kind, name, namespace: 'ns', revision };
  if (spec !== undefined) u.value = { spec };
  return u;
}

/** A codec that counts what it encodes, by message type, keeping the built-in name and subprotocol. */
export interface CountingCodec extends Codec {
  readonly counts: Map<string, number>;
}

export function countingCodec(base: Codec): CountingCodec {
  const counts = new Map<string, number>();
  return {
    name: base.name,
    subprotocol: base.subprotocol,
    binary: base.binary,
    counts,
    encode(msg: Message): Buffer {
      counts.set(msg.type, (counts.get(msg.type) ?? 0) + 1);
      return base.encode(msg);
    },
    decode: (frame: Buffer) => base.decode(frame),
  };
}

/**
 * CATTAIL_TEST_FANOUTWORKERS=K runs every harness server with K fan-out workers (the sockets in
 * worker processes), so the server tests cover both write paths.
 */
export const TEST_FANOUT_WORKERS = Number(process.env.CATTAIL_TEST_FANOUTWORKERS ?? '1') || 1;

export interface HarnessOptions extends Partial<Omit<SyncServerOptions, 'caches'>> {
  syncers?: SyncerType[];
  cache?: Partial<SyncCacheOptions>;
  /** Codecs for both the batcher and the server (default the built-in ones). */
  codecList?: Codec[];
  /** Leave the caches waiting for the datastore (not in sync). */
  notReady?: boolean;
  /** Keys loaded into each cache before it goes in sync (`init-<i>`, revision 100). */
  initialKeys?: number;
}

/** Caches, batchers and a started server, plus the model state the clients should converge on. */
export class Harness {
  readonly server: SyncServer;
  readonly caches = new Map<SyncerType, SyncCache>();
  readonly batchers = new Map<SyncerType, DeltaBatcher>();
  readonly model = new Map<SyncerType, Map<string, Update>>();
  readonly codecs: Codec[];
  readonly datastoreId = 'etcd-cluster-1';
  port = 0;
  revision = 100;
  /** Changed whenever the server logs (every connection open, close, refusal…). */
  readonly serverEvents = new Waitable();
  readonly logs: Array<{ level: string; obj: object; msg?: string }> = [];

  constructor(opts: HarnessOptions = {}) {
    const syncers = opts.syncers ?? ['felix', 'bgp'];
    this.codecs = opts.codecList ?? [CODECS.msgpack, CODECS.json];
    const caches: Partial<Record<SyncerType, SyncCache>> = {};
    for (const s of syncers) {
      const cache = new SyncCache({ syncer: s, ...opts.cache });
      caches[s] = cache;
      this.caches.set(s, cache);
      this.model.set(s, new Map());
    }
    const codecMap: SyncServerOptions['codecs'] = {};
    for (const c of this.codecs) codecMap[c.name] = c;
    const { syncers: _s, cache: _c, codecList: _l, notReady: _n, initialKeys: _i, ...serverOpts } = opts;
    const rec = recordingLogger(this.logs, () => this.serverEvents.changed());
    this.server = new SyncServer({
      logger: rec.logger,
      serverId: 'typha-test',
      datastoreId: () => this.datastoreId,
      host: '127.0.0.1',
      port: 0,
      codecs: codecMap,
      // A test of the in-process write path (its own frameWriter) keeps it.
      ...(TEST_FANOUT_WORKERS > 1 && opts.frameWriter === undefined ? { fanoutWorkers: TEST_FANOUT_WORKERS } : {}),
      ...serverOpts,
      caches,
    });
    for (const s of syncers) {
      const cache = this.caches.get(s) as SyncCache;
      const binary = this.codecs.find((c) => c.binary);
      const variants = binary !== undefined && opts.compressDeltas !== false ? [cache.deltaVariant(binary)] : [];
      const batcher = new DeltaBatcher({ next: cache, recorder: cache, codecs: this.codecs, publish: this.server.publisher(s), clock: manualClock, variants });
      this.batchers.set(s, batcher);
      const initial = Array.from({ length: opts.initialKeys ?? 0 }, (_, i) => upd(`init-${i}`, this.revision, { i, syncer: s }));
      batcher.onStatus('resync', 0);
      if (initial.length > 0) {
        batcher.onUpdates(initial, this.revision);
        const model = this.model.get(s) as Map<string, Update>;
        for (const u of initial) model.set(updateKey(u), u);
      }
      if (!opts.notReady) batcher.onStatus('in-sync', this.revision);
    }
  }

  static async start(t: TestContext, opts: HarnessOptions = {}): Promise<Harness> {
    const h = new Harness(opts);
    h.port = await h.server.start();
    t.after(() => h.server.stop());
    return h;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}${SYNC_PATH}`;
  }

  /** Resolves once `pred` holds, re-checked on every server log line (connections log as they close). */
  untilServer(pred: () => boolean): Promise<void> {
    return this.serverEvents.until(pred);
  }

  cache(s: SyncerType): SyncCache {
    return this.caches.get(s) as SyncCache;
  }

  /** Applies `updates` (stamped with the next revision) through the batcher and flushes it. */
  feed(s: SyncerType, make: (revision: number) => Update[]): number {
    const revision = ++this.revision;
    const updates = make(revision);
    const model = this.model.get(s) as Map<string, Update>;
    for (const u of updates) {
      if (u.value === undefined) model.delete(updateKey(u));
      else model.set(updateKey(u), u);
    }
    const b = this.batchers.get(s) as DeltaBatcher;
    b.onUpdates(updates, revision);
    b.flush();
    return revision;
  }

  /** `n` updates with specs of about `bytes` bytes each. */
  feedMany(s: SyncerType, n: number, bytes = 64, prefix = 'wep'): number {
    const filler = 'x'.repeat(bytes);
    return this.feed(s, (rev) => Array.from({ length: n }, (_, i) => upd(`${prefix}-${i}`, rev, { filler, rev })));
  }
}

export interface ClientOptions {
  codec?: Codec;
  syncer?: string;
  node?: string;
  features?: string[];
  resume?: { revision: number; datastoreId: string };
  /** Answer server pings (default true). */
  autoPong?: boolean;
  /** Do not send a hello on open. */
  noHello?: boolean;
  hello?: Partial<ClientHello> & Record<string, unknown>;
  /** State to start from (for resume). */
  state?: Map<string, Update>;
  protocols?: string[];
  wsOptions?: WebSocket.ClientOptions;
}

/** A raw ws client that keeps what the server sent and the state it implies. */
export class TestClient {
  readonly ws: WebSocket;
  readonly codec: Codec;
  /** The syncer this client asks for. */
  readonly syncer: string;
  readonly events = new Waitable();
  readonly messages: ServerMessage[] = [];
  state: Map<string, Update>;
  #pending: Map<string, Update> | undefined;
  hello: ServerHello | undefined;
  inSyncRevision = -1;
  /** Revision of the last deltas or InSync applied. */
  revision = -1;
  /** Revisions of Deltas received after InSync, in order. */
  readonly liveRevisions: number[] = [];
  goodbye: Goodbye | undefined;
  opened = false;
  closed: { code: number; reason: string } | undefined;
  error: Error | undefined;
  httpStatus: number | undefined;
  httpBody = '';
  bytes = 0;
  frames = 0;
  /** Deltas frames received, their wire bytes, and how many of them came as Deflated frames. */
  deltaFrames = 0;
  deltaBytes = 0;
  deflatedFrames = 0;
  readonly #accept: FrameAcceptance = { snapshots: false };
  readonly arrivals: number[] = [];

  constructor(url: string, opts: ClientOptions = {}) {
    this.codec = opts.codec ?? CODECS.msgpack;
    this.syncer = String(opts.syncer ?? 'felix');
    this.state = opts.state ?? new Map();
    const protocols = opts.protocols ?? [this.codec.subprotocol];
    this.ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...opts.wsOptions });
    this.ws.on('open', () => {
      this.opened = true;
      if (!opts.noHello) this.sendHello(opts);
      this.events.changed();
    });
    this.ws.on('message', (data: Buffer) => this.#onFrame(data, opts.autoPong ?? true));
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.events.changed();
    });
    this.ws.on('error', (err) => {
      this.error = err;
      this.events.changed();
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.httpStatus = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (this.httpBody += chunk));
      res.on('end', () => {
        this.closed = { code: -res.statusCode!, reason: this.httpBody };
        this.events.changed();
      });
    });
  }

  sendHello(opts: ClientOptions = {}): void {
    const hello: Record<string, unknown> = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      syncer: opts.syncer ?? 'felix',
      node: opts.node ?? 'node-1',
      features: opts.features ?? [Features.Resume, Features.Goodbye],
      ...opts.hello,
    };
    if (opts.resume) hello.resume = opts.resume;
    this.send(hello);
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(this.codec.encode(msg as unknown as Message), { binary: this.codec.binary });
  }

  get live(): boolean {
    return this.inSyncRevision >= 0;
  }

  /** Resolves once `pred` holds, or the socket has closed (so a test fails on its assertions, not by hanging). */
  until(pred: (c: TestClient) => boolean): Promise<void> {
    return this.events.until(() => pred(this) || this.closed !== undefined);
  }

  untilInSync(): Promise<void> {
    return this.until((c) => c.inSyncRevision >= 0 || c.closed !== undefined);
  }

  untilClosed(): Promise<{ code: number; reason: string }> {
    return this.until((c) => c.closed !== undefined).then(() => this.closed!);
  }

  untilRevision(rev: number): Promise<void> {
    return this.until((c) => c.revision >= rev || c.closed !== undefined);
  }

  count(type: ServerMessage['type']): number {
    return this.messages.filter((m) => m.type === type).length;
  }

  close(): void {
    this.ws.close(1000, 'test done');
  }

  #onFrame(data: Buffer, autoPong: boolean): void {
    this.bytes += data.length;
    this.frames++;
    this.arrivals.push(performance.now());
    const msg = decodeServerFrame(this.codec, data, this.#accept);
    this.messages.push(msg);
    switch (msg.type) {
      case 'hello':
        this.hello = msg;
        this.#accept.snapshots = msg.features.includes(Features.DeflateSnapshot);
        if (msg.features.includes(Features.DeflateDeltas)) this.#accept.deltas = { dictionary: undefined };
        if (msg.mode === 'snapshot') this.#pending = new Map();
        break;
      case 'snapshot':
        for (const u of msg.updates) this.#apply(this.#pending as Map<string, Update>, u);
        break;
      case 'deltas':
        this.deltaFrames++;
        this.deltaBytes += data.length;
        if ((this.codec.decode(data) as { type?: string }).type === 'deflated') this.deflatedFrames++;
        this.#apply(this.#pending ?? this.state, msg.updates);
        if (this.live) this.liveRevisions.push(msg.revision);
        this.revision = msg.revision;
        break;
      case 'in-sync':
        if (this.#pending) this.state = this.#pending;
        this.#pending = undefined;
        this.inSyncRevision = msg.revision;
        this.revision = msg.revision;
        break;
      case 'ping':
        if (autoPong) this.send({ type: 'pong', ts: msg.ts });
        break;
      case 'goodbye':
        this.goodbye = msg;
        break;
    }
    this.events.changed();
  }

  #apply(into: Map<string, Update>, u: Update | Update[]): void {
    for (const x of Array.isArray(u) ? u : [u]) {
      if (x.value === undefined) into.delete(updateKey(x));
      else into.set(updateKey(x), x);
    }
  }
}

/** Opens `n` clients and waits until every one is in sync. */
export async function connectAll(url: string, n: number, make: (i: number) => ClientOptions): Promise<TestClient[]> {
  const clients = Array.from({ length: n }, (_, i) => new TestClient(url, make(i)));
  await Promise.all(clients.map((c) => c.untilInSync()));
  return clients;
}

/** Sorted `key@revision` lines: compact and order-independent state comparison. */
export function fingerprint(state: Map<string, Update>): string[] {
  return [...state.values()].map((u) => `${updateKey(u)}@${u.revision}:${JSON.stringify(u.value)}`).sort();
}

/** The cache's current content, decoded from its own snapshot pages. */
export function cacheContent(cache: SyncCache, codec: Codec = CODECS.json): Map<string, Update> {
  const out = new Map<string, Update>();
  for (const frame of cache.snapshotFrames(codec)) {
    const page = parseServerMessage(codec.decode(frame));
    if (page.type !== 'snapshot') throw new Error(`expected a snapshot page, got ${page.type}`);
    for (const u of page.updates) out.set(updateKey(u), u);
  }
  return out;
}

type LogRecord = { level: string; obj: object; msg?: string };

/** A logger that keeps records (for asserting what was logged) and calls `onLog` after each. */
export function recordingLogger(records: LogRecord[] = [], onLog: () => void = () => {}): { logger: Logger; records: LogRecord[] } {
  const make = (bindings: object): Logger => {
    const at = (level: string) => (obj: object, msg?: string) => {
      records.push({ level, obj: { ...bindings, ...obj }, msg });
      onLog();
    };
    return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: (b) => make({ ...bindings, ...b }) };
  };
  return { logger: make({}), records };
}
