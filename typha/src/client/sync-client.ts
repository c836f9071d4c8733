/**
 * SyncClient: how an agent (Felix, confd, `cattail typha watch`) follows one syncer of Typha.
 * Modelled on Calico's syncclient, with three differences: it resumes from its last revision
 * instead of taking a full snapshot on every reconnect; it filters what reaches the agent down
 * to real changes (LocalState); and it follows the server's Goodbye hints during rebalancing.
 *
 *   idle ─start()─▶ connecting ─ServerHello─▶ syncing ─InSync─▶ in-sync
 *                      ▲   │ attempt failed: next endpoint at once          │ connection lost
 *                      │   ▼ all failed                                     ▼
 *                      └─ backoff ◀──────────────────────────────────────────┘
 *   any ─close()─▶ closed
 *
 * One round: discover replicas (last known list kept by cachingDiscovery), order them (same
 * node first, then shuffled), a Goodbye's `reconnect` URL in front; try each until one
 * answers with a ServerHello. When that connection ends, or every endpoint failed, wait
 * (backoff policy, reset by reaching in-sync; the Goodbye's delayMs; or fatalDelayMs after a
 * refusal that retrying will not fix) and start the next round.
 *
 * Resume: once in sync, the client remembers {revision, datastoreId} of the last InSync or
 * live Deltas it applied and offers it in the next hello. The server answers with the changes
 * since (mode 'resume') or, if its history does not cover that revision or it is another
 * datastore, a full snapshot (mode 'snapshot'), which LocalState reconciles.
 *
 * Never a rollback. Besides the resume point the client keeps a `floor`: the newest revision
 * of any data it holds. It goes in every hello; a server behind it waits or hands the client
 * off (Goodbye ReplicaBehind) rather than serve older data, and a ServerHello below it is
 * refused here too, so an older server cannot roll the client back either. A snapshot that
 * starts makes the state inconsistent until its InSync (pages replace keys one by one), so it
 * clears the resume point: if it is cut off, the next connection takes a full snapshot at or
 * past the floor. A resume cut off half-way keeps its point (every update it carries is newer
 * than the point, so replaying from there is exact) and raises the floor to the revision the
 * server announced.
 */
import { CODECS } from '../protocol/codecs.js';
import { UnexpectedMessageError } from '../protocol/errors.js';
import { CloseCode, Features, PROTOCOL_VERSION, type ClientHello, type Goodbye, type ServerHello, type SyncerType, type Update } from '../protocol/messages.js';
import type { SyncerUpdate } from '../protocol/views/index.js';
import { backoffDelay, jittered } from '@cattail/datastore/backoff';
import type { ClientStatus, StatusDetail } from './callbacks.js';
import type { TimerHandle } from '../common/clock.js';
import { Connection, type ConnectionEnd, type ConnectionOwner, type StreamMessage } from './connection.js';
import { orderEndpoints, toUrl, type Endpoint } from './endpoint.js';

/** How many hinted replicas a client remembers beyond its discovery. */
const MAX_LEARNED_ENDPOINTS = 8;
import { ClientConfigError, DiscoveryError, NoEndpointsError } from './errors.js';
import { LocalState } from './local-state.js';
import type { Logger } from '../common/logger.js';
import { resolveOptions, type ResolvedOptions, type SyncClientOptions } from './options.js';

export type ClientState = 'idle' | 'connecting' | 'syncing' | 'in-sync' | 'backoff' | 'closed';

/** Close codes after which quick retries are pointless: wait fatalDelayMs. */
const FATAL_CODES: ReadonlySet<number> = new Set([CloseCode.UnsupportedVersion, CloseCode.Unauthorized, CloseCode.UnknownSyncer]);

export interface ResumePoint {
  revision: number;
  datastoreId: string;
}

/** One connection's worth of protocol state. */
interface Session {
  readonly conn: Connection;
  readonly endpoint: Endpoint;
  readonly resumeSent: boolean;
  phase: 'handshake' | 'syncing' | 'live';
  mode: 'snapshot' | 'resume' | undefined;
  server: string | undefined;
  datastoreId: string | undefined;
  goodbye: Goodbye | undefined;
  finish: (end: ConnectionEnd) => void;
}

interface Plan {
  endpoints: Endpoint[];
  error: Error | undefined;
}

export class SyncClient<S extends SyncerType = SyncerType> {
  readonly #o: ResolvedOptions<S>;
  readonly #log: Logger;
  readonly #local = new LocalState();
  /**
   * Replicas learned from Goodbye hints, newest last (bounded): tried after the discovered
   * ones, so a client whose discovery names a single replica still finds the others when
   * that replica hands it off and then goes away.
   */
  readonly #learned: string[] = [];
  readonly #owner: ConnectionOwner;
  #state: ClientState = 'idle';
  #session: Session | undefined;
  #resume: ResumePoint | undefined;
  /** The newest revision of any data the client holds (see the module comment). */
  #floor: ResumePoint | undefined;
  #attempt = 0;
  #sleeping: { timer: TimerHandle; wake: () => void } | undefined;
  #loop: Promise<void> | undefined;
  /** Resolves when close() is called, so a hanging discovery does not hold close() up. */
  readonly #closedSignal: Promise<void>;
  #signalClosed!: () => void;

  constructor(opts: SyncClientOptions<S>) {
    this.#o = resolveOptions(opts);
    this.#log = this.#o.logger.child({ component: 'typha-client', syncer: this.#o.syncer });
    this.#owner = {
      opened: (conn) => this.#onOpened(conn),
      message: (conn, msg) => this.#onMessage(conn, msg),
      ended: (conn, end) => this.#onEnded(conn, end),
    };
    this.#closedSignal = new Promise((resolve) => {
      this.#signalClosed = resolve;
    });
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The revision the client's state is consistent at (0 before the first in-sync). */
  get revision(): number {
    return this.#resume?.revision ?? 0;
  }

  /** Where the resume token points; undefined before the first in-sync. */
  get resumePoint(): Readonly<ResumePoint> | undefined {
    return this.#resume;
  }

  /** URL of the replica the client is connected to (socket open), if any. */
  get connectedTo(): string | undefined {
    const s = this.#session;
    return s !== undefined && s.conn.opened ? s.endpoint.url : undefined;
  }

  /** The current state, one update (with value) per key, ordered by kind/namespace/name. */
  snapshot(): SyncerUpdate<S>[] {
    return this.#local.entries() as SyncerUpdate<S>[];
  }

  start(): void {
    if (this.#state !== 'idle') throw new ClientConfigError(`typha client: start() called when ${this.#state}`);
    this.#state = 'connecting';
    this.#loop = this.#run().catch((err: unknown) => {
      this.#log.error({ err }, 'typha client loop failed');
    });
  }

  /** Closes the connection (code 1000) and stops reconnecting. Resolves when the socket is closed. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return this.#loop;
    this.#state = 'closed';
    this.#signalClosed();
    const sleeping = this.#sleeping;
    if (sleeping !== undefined) {
      this.#o.clock.clearTimeout(sleeping.timer);
      sleeping.wake();
    }
    this.#session?.conn.close(CloseCode.Normal, 'client closing');
    await this.#loop;
  }

  // ── the reconnect loop ────────────────────────────────────────────────────────────────────

  async #run(): Promise<void> {
    let hint: string | undefined;
    while (!this.#closed) {
      this.#setState('connecting');
      const plan = await this.#plan(hint);
      hint = undefined;
      if (this.#closed) return;
      if (plan.endpoints.length === 0) {
        const error = plan.error ?? new NoEndpointsError();
        const delay = this.#nextDelay(undefined, false);
        this.#log.warn({ err: error, retryInMs: delay }, 'no typha endpoint to connect to');
        this.#status('disconnected', { error, retryInMs: delay });
        await this.#wait(delay);
        continue;
      }
      let sawFatal = false;
      for (let i = 0; i < plan.endpoints.length; i++) {
        const endpoint = plan.endpoints[i];
        const { session, end } = await this.#connect(endpoint);
        const fatal = isFatal(session.goodbye?.code ?? end.code, end.status);
        sawFatal ||= fatal;
        const established = session.phase !== 'handshake';
        const last = this.#closed || established || session.goodbye !== undefined || i === plan.endpoints.length - 1;
        // A refusal earlier in the round slows the next round, unless a later replica served us.
        const slow = established ? fatal : sawFatal;
        const retryInMs = this.#closed ? undefined : last ? this.#nextDelay(session.goodbye, slow) : 0;
        this.#reportEnd(session, end, fatal, retryInMs);
        if (!last) continue;
        hint = session.goodbye?.reconnect;
        if (retryInMs !== undefined) await this.#wait(retryInMs);
        break;
      }
    }
  }

  get #closed(): boolean {
    return this.#state === 'closed';
  }

  #learn(url: string): void {
    const i = this.#learned.indexOf(url);
    if (i !== -1) this.#learned.splice(i, 1);
    this.#learned.push(url);
    if (this.#learned.length > MAX_LEARNED_ENDPOINTS) this.#learned.shift();
  }

  /** Endpoints to try this round; a discovery failure leaves only the hint and learned ones. */
  async #plan(hint: string | undefined): Promise<Plan> {
    let found: Endpoint[] = [];
    let error: Error | undefined;
    try {
      found = await Promise.race([this.#o.discovery.endpoints(), this.#closedSignal.then(() => [])]);
    } catch (err) {
      error = err instanceof Error ? err : new DiscoveryError(String(err), { cause: err });
    }
    let list = orderEndpoints(found, this.#o.node, this.#o.random);
    if (hint !== undefined) {
      // A hint is the server's word: normalise it like any address, and ignore one that is not.
      let url: string | undefined;
      try {
        url = toUrl(hint, { secure: this.#o.secure });
      } catch (err) {
        this.#log.warn({ hint, err }, 'ignoring an unusable reconnect hint');
      }
      if (url !== undefined) {
        list = [{ url }, ...list.filter((e) => e.url !== url)];
        this.#learn(url);
      }
    }
    for (const url of this.#learned) if (!list.some((e) => e.url === url)) list.push({ url });
    if (this.#o.secure) {
      const plain = list.filter((e) => !/^wss:/i.test(e.url));
      if (plain.length > 0) {
        this.#log.warn({ endpoints: plain.map((e) => e.url) }, 'TLS is configured: refusing plaintext typha endpoints');
        list = list.filter((e) => /^wss:/i.test(e.url));
        if (list.length === 0) error ??= new NoEndpointsError('TLS is configured but every typha endpoint is ws://; use wss://');
      }
    }
    return { endpoints: list, error };
  }

  #connect(endpoint: Endpoint): Promise<{ session: Session; end: ConnectionEnd }> {
    const o = this.#o;
    const resume = this.#resume;
    const hello: ClientHello = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      syncer: o.syncer,
      node: o.node,
      client: o.clientId,
      // Compressed snapshot pages and delta batches need byte strings: offered on the msgpack codec only.
      features:
        o.codec === 'msgpack'
          ? [Features.Resume, Features.Goodbye, Features.DeflateSnapshot, ...(o.deflateDeltas ? [Features.DeflateDeltas] : [])]
          : [Features.Resume, Features.Goodbye],
    };
    if (resume !== undefined) hello.resume = { revision: resume.revision, datastoreId: resume.datastoreId };
    if (this.#floor !== undefined) hello.floor = { revision: this.#floor.revision, datastoreId: this.#floor.datastoreId };
    this.#setState('connecting');
    this.#status('connecting', { endpoint: endpoint.url });
    this.#log.debug({ endpoint: endpoint.url, resume }, 'connecting to typha');
    return new Promise((resolve) => {
      const conn = new Connection(this.#owner, {
        url: endpoint.url,
        codec: CODECS[o.codec],
        hello,
        clock: o.clock,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        readTimeoutMs: o.readTimeoutMs,
        pingIntervalMs: o.pingIntervalMs,
        wsOptions: o.wsOptions,
        logger: this.#log,
      });
      const session: Session = {
        conn,
        endpoint,
        resumeSent: resume !== undefined,
        phase: 'handshake',
        mode: undefined,
        server: undefined,
        datastoreId: undefined,
        goodbye: undefined,
        finish: (end) => resolve({ session, end }),
      };
      this.#session = session;
      if (this.#closed) conn.close(CloseCode.Normal, 'client closing');
    });
  }

  #nextDelay(goodbye: Goodbye | undefined, fatal: boolean): number {
    const o = this.#o;
    if (fatal) return jittered(o.fatalDelayMs, o.backoff.jitter, o.random);
    if (goodbye?.delayMs !== undefined) return Math.min(goodbye.delayMs, o.maxGoodbyeDelayMs);
    return backoffDelay(o.backoff, this.#attempt++, o.random);
  }

  #wait(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#setState('backoff');
    return new Promise<void>((resolve) => {
      const timer = this.#o.clock.setTimeout(resolve, ms, undefined);
      this.#sleeping = { timer, wake: resolve };
    }).then(() => {
      this.#sleeping = undefined;
    });
  }

  #reportEnd(session: Session, end: ConnectionEnd, fatal: boolean, retryInMs: number | undefined): void {
    const g = session.goodbye;
    const detail: Omit<StatusDetail, 'revision'> = {
      endpoint: session.endpoint.url,
      code: g?.code ?? end.code,
      reason: g?.reason ?? end.reason,
    };
    if (session.server !== undefined) detail.server = session.server;
    if (end.error !== undefined) detail.error = end.error;
    if (g !== undefined) detail.goodbye = g;
    if (fatal) detail.fatal = true;
    if (retryInMs !== undefined) detail.retryInMs = retryInMs;
    const fields = { endpoint: detail.endpoint, code: detail.code, reason: detail.reason, err: end.error, fatal, retryInMs };
    if (fatal) this.#log.error(fields, 'typha refused this client; retrying slowly');
    else if (g !== undefined || this.#closed || (!end.error && end.code === CloseCode.Normal)) this.#log.info(fields, 'typha connection closed');
    else this.#log.warn(fields, 'typha connection lost');
    this.#status('disconnected', detail);
  }

  // ── connection events ─────────────────────────────────────────────────────────────────────

  #onOpened(conn: Connection): void {
    if (this.#session?.conn !== conn) return;
    this.#log.debug({ endpoint: conn.url }, 'typha socket open; hello sent');
  }

  #onMessage(conn: Connection, msg: StreamMessage): void {
    const s = this.#session;
    if (s === undefined || s.conn !== conn) return;
    switch (msg.type) {
      case 'hello':
        this.#onServerHello(s, msg);
        return;
      case 'snapshot':
        if (s.phase !== 'syncing' || s.mode !== 'snapshot') {
          conn.fail(new UnexpectedMessageError(s.phase === 'live' ? 'snapshot page after in-sync' : 'snapshot page in resume mode'));
          return;
        }
        this.#deliver(this.#local.apply(msg.updates), msg.revision);
        return;
      case 'deltas':
        this.#deliver(this.#local.apply(msg.updates), msg.revision);
        if (s.phase === 'live') this.#consistentAt(msg.revision, s.datastoreId as string);
        return;
      case 'in-sync':
        if (s.phase !== 'syncing') return; // a repeated in-sync changes nothing
        if (s.mode === 'snapshot') this.#deliver(this.#local.endSnapshot(msg.revision), msg.revision);
        s.phase = 'live';
        this.#consistentAt(msg.revision, s.datastoreId as string);
        this.#attempt = 0;
        this.#setState('in-sync');
        this.#log.info({ endpoint: s.endpoint.url, server: s.server, revision: msg.revision, keys: this.#local.size }, 'in sync with typha');
        this.#status('in-sync', { endpoint: s.endpoint.url, server: s.server, mode: s.mode });
        return;
      case 'goodbye':
        s.goodbye = msg;
        this.#log.info({ endpoint: s.endpoint.url, code: msg.code, reason: msg.reason, reconnect: msg.reconnect, delayMs: msg.delayMs }, 'typha said goodbye');
        conn.close(CloseCode.Normal, 'goodbye');
        return;
    }
  }

  #onServerHello(s: Session, msg: ServerHello): void {
    const floor = this.#floor;
    if (floor !== undefined && floor.datastoreId === msg.datastoreId && msg.revision < floor.revision) {
      s.conn.fail(new UnexpectedMessageError(`server at revision ${msg.revision} would roll this client back from ${floor.revision}`));
      return;
    }
    if (msg.mode === 'resume') {
      const resume = this.#resume;
      if (!s.resumeSent || resume === undefined) {
        s.conn.fail(new UnexpectedMessageError('resume mode, but this client did not ask to resume'));
        return;
      }
      if (msg.datastoreId !== resume.datastoreId) {
        s.conn.fail(new UnexpectedMessageError(`resume mode for datastore ${JSON.stringify(msg.datastoreId)}, ours is another`));
        return;
      }
    }
    s.phase = 'syncing';
    s.mode = msg.mode;
    s.server = msg.server;
    s.datastoreId = msg.datastoreId;
    // From here the client may hold data up to msg.revision; a snapshot also makes its state
    // inconsistent until InSync, so there is no resume point meanwhile.
    this.#floor = { revision: Math.max(msg.revision, floor?.datastoreId === msg.datastoreId ? floor.revision : 0), datastoreId: msg.datastoreId };
    if (msg.mode === 'snapshot') {
      this.#resume = undefined;
      this.#local.beginSnapshot();
    }
    this.#setState('syncing');
    this.#log.info({ endpoint: s.endpoint.url, server: msg.server, mode: msg.mode, revision: msg.revision }, 'typha accepted; syncing');
    this.#status('resync', { endpoint: s.endpoint.url, server: msg.server, mode: msg.mode });
  }

  #onEnded(conn: Connection, end: ConnectionEnd): void {
    const s = this.#session;
    if (s === undefined || s.conn !== conn) return;
    this.#session = undefined;
    if (this.#local.inSnapshot) this.#local.abortSnapshot();
    if (end.code === CloseCode.DatastoreMismatch) {
      this.#resume = undefined;
      this.#floor = undefined;
    }
    s.finish(end);
  }

  /** The state now equals the datastore's projection at `revision`. */
  #consistentAt(revision: number, datastoreId: string): void {
    this.#resume = { revision, datastoreId };
    this.#floor = this.#resume;
  }

  /**
   * The one place the wire's `Update`s become the syncer's typed updates: what a Typha sends on
   * syncer S it built with S's projections (protocol/views/), and the parser has checked each
   * update's envelope. Nothing looks inside the values again.
   */
  #deliver(changes: Update[], revision: number): void {
    if (changes.length === 0) return;
    try {
      this.#o.callbacks.onUpdates(changes as SyncerUpdate<S>[], revision);
    } catch (err) {
      this.#log.error({ err, revision, count: changes.length }, 'onUpdates callback threw');
    }
  }

  #status(status: ClientStatus, detail: Omit<StatusDetail, 'revision'>): void {
    try {
      this.#o.callbacks.onStatus(status, { ...detail, revision: this.revision });
    } catch (err) {
      this.#log.error({ err, status }, 'onStatus callback threw');
    }
  }

  #setState(state: ClientState): void {
    if (!this.#closed) this.#state = state;
  }
}

function isFatal(code: number, status: number | undefined): boolean {
  return FATAL_CODES.has(code) || status === 401 || status === 403;
}
