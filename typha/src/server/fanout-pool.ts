/**
 * Fan-out workers (TYPHA_FANOUTWORKERS = K > 1): K child processes that own a share of the
 * clients' sockets and do the writing, so one replica uses more than one core. The main
 * process keeps the watch, the caches, dedupe, encoding, and every decision about a
 * connection; a worker is a socket holder and a writer.
 *
 *                       ┌──────────────── main process ────────────────┐
 *   listening socket (bound here, handle sent once) ─────────────▶ every worker accepts on it
 *                  accept gate ◀── accepted (source) ── worker ── admit / refuse ──▶ worker
 *                  Connection (state machine) ◀── events: upgrade, open, msg, close, flushed, behind
 *                  FanOut sweep, one lane per worker ── `lives`: a run + the clients visited ──▶ worker
 *                                                       ◀── `acked` (paces the lane)
 *                  pump (snapshot pages, replay, catch-up) ── `write` by frame id ──▶ worker
 *
 * Why processes, not worker_threads: Node 20 cannot hand a socket to a worker thread, and the
 * listen handle is not shareable between threads without SO_REUSEPORT. The main process binds
 * the listening socket without listening on it (as Node's cluster module does for its shared
 * handles) and sends its handle to each worker once; the workers listen and accept, the kernel
 * spreads the connections. An accepted socket stays paused in its worker until the main
 * process's accept gate admits it (`accepted` → `admit`/`refuse`: per-source and pending
 * limits stay exact across workers), then the worker does the TLS handshake and upgrade (the
 * same `upgradeVerdict` as in-process) and the main process never pays for them. (The first
 * version accepted here and sent each socket's handle: Node holds every later message on the
 * channel until the worker acknowledges a handle, so a storm went one socket per worker turn.)
 *
 * Why the state machine stays in the main process: every invariant of docs/DESIGN.md (resume
 * from covered history, never a rollback, lag cut and new-client grace, encode once) is about
 * the cache, which is there; a Connection only needs a socket-shaped object. `RemoteSocket`
 * is that object: it forwards writes and closes as commands and receives the client's messages
 * as events, so `Connection` runs unchanged. The hot paths never cost one IPC message per
 * client: the hub sweeps a worker's live clients in that worker's lane (fan-out.ts) and a
 * chunk's visits to clients at the same place become ONE `lives` command (the run's frames by
 * id, the clients' ids), so what a client missed while its worker was busy is merged here, once
 * for all; a snapshot page or replayed frame crosses once per worker (`frame`, then `write` by
 * id). The lane hands the worker at most two chunks it has not confirmed (`ack`/`acked`).
 *
 * Flow control. The pump writes while the client's buffer is under the high-water mark; here
 * `bufferedAmount` is what was sent to the worker for that client minus what the worker reports
 * the kernel took (`flushed`), so it errs on the high side, and the report is the 'drain'.
 * Live clients are checked by the worker itself against the real socket buffer; one over the
 * mark leaves the live state there and is reported `behind` with the revision of the last run
 * it was written, and only then does the main process catch it up, from that revision. When the
 * main process takes a client out of the live state itself (`live-`), the worker reports the
 * same way, and the Connection waits for it: the main process never guesses what was written.
 *
 * A worker that exits closes its clients (code 1006 to the Connection: the usual close path,
 * metrics and accept-gate counts included); they reconnect and resume, and a new worker is
 * started in its place. The main process keeps serving the other workers' clients throughout.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { CodecName } from '../protocol/codecs.js';
import type { SweepPacer } from './fan-out.js';
import { INLINE_MAX_BYTES, type WorkerCommand, type WorkerEvent, type WorkerInit } from './fanout-protocol.js';
import type { FrameWriter, SharedFrame, SharedRun } from './frame-writer.js';
import type { RejectReason } from '../metrics/server-metrics.js';

/** A `listen` a worker has not answered within this is taken as lost and sent again. */
const LISTEN_ANSWER_MS = 5000;

/** A worker stops accepting when it holds this many sockets more than the least loaded one… */
export const BALANCE_SLACK_SOCKETS = 8;
/** …or this share of the least loaded one's count, if more (see FanoutPool.#balance). */
export const BALANCE_SLACK_SHARE = 0.1;

/** Connections a fan-out worker is for, at least, when their number is chosen automatically. */
export const CONNECTIONS_PER_AUTO_WORKER = 1000;

/**
 * TYPHA_FANOUTWORKERS=0 (the default): one process per CPU the replica is given, the main
 * process's included (it keeps the watch, the cache, encoding, the sweep's bookkeeping and the
 * snapshot pump: a core's worth at 10,000 clients), so `cpus - 1` workers; and no more than one
 * per CONNECTIONS_PER_AUTO_WORKER connections the replica takes (TYPHA_MAXCONNECTIONSUPPERLIMIT):
 * below that a worker's share of the writes is a few milliseconds a sweep. 1 means none: the
 * main process writes itself, which is what two CPUs give (measured there: docs/BENCHMARKS.md,
 * *Fan-out workers*). Above 1 it is a ceiling: the daemon has the pool start one and grow by one
 * per CONNECTIONS_PER_AUTO_WORKER sockets held (`growAt`), since an idle worker is a process of
 * ~60 MB (bench/src/worker-rss.ts) and its share of every frame.
 */
export function autoFanoutWorkers(cpus: number, maxConnections: number): number {
  return Math.max(1, Math.min(Math.floor(cpus) - 1, Math.ceil(maxConnections / CONNECTIONS_PER_AUTO_WORKER)));
}

/**
 * The fan-out processes a replica runs: TYPHA_FANOUTWORKERS=K > 0 starts K at once (`growAt` 0);
 * 0 takes autoFanoutWorkers as a ceiling, started one at a time, another per
 * CONNECTIONS_PER_AUTO_WORKER sockets held (FanoutPoolOptions.growAt).
 */
export function fanoutWorkersPlan(configured: number, cpus: number, maxConnections: number): { workers: number; growAt: number } {
  if (configured !== 0) return { workers: configured, growAt: 0 };
  const workers = autoFanoutWorkers(cpus, maxConnections);
  return { workers, growAt: workers > 1 ? CONNECTIONS_PER_AUTO_WORKER : 0 };
}

/** Bytes of shared frames one worker holds at most (snapshot pages, delta frames). */
export const WORKER_FRAME_BUDGET_BYTES = 128 * 1024 * 1024;

/** What the pool tells the sync server; SyncServer implements it. */
export interface FanoutPoolOwner {
  /** A worker accepted a TCP connection from `source`: admit it (`s.admit()`) or refuse it. */
  accepted(s: RemoteSocket, source: string): void;
  upgradeRequested(s: RemoteSocket): void;
  refused(s: RemoteSocket, reason: RejectReason): void;
  opened(s: RemoteSocket, codec: CodecName, remote: string): void;
  workerLog(level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void;
}

/** What a RemoteSocket's Connection takes from it (implemented by Connection). */
export interface RemoteConnection {
  remoteFellBehind(revision: number, now: number): void;
}

export interface FanoutWorkerStatus {
  index: number;
  pid: number | undefined;
  /** TCP connections handed to it and not closed. */
  sockets: number;
  /** Times this slot's worker was started again after exiting. */
  restarts: number;
  /** Bytes of shared frames it holds. */
  frameBytes: number;
  /** Whether it listens for new connections (see FanoutPool.#balance). */
  accepting: boolean;
}

const ids = new WeakMap<Buffer, number>();
let nextFrameId = 0;

/** The per-socket stand-in the accept gate counts: 'close' when the worker's TCP socket closes. */
export class RemoteTcp extends EventEmitter {
  readonly remote: RemoteSocket;
  constructor(remote: RemoteSocket) {
    super();
    this.remote = remote;
  }

  destroy(): void {
    this.remote.destroy();
  }
}

/**
 * One client's socket in a worker, as the main process sees it: shaped like the server side of
 * a ws WebSocket as far as Connection uses it (readyState, bufferedAmount, on, close, terminate,
 * and `_socket` for 'drain').
 */
export class RemoteSocket extends EventEmitter {
  readonly tid: number;
  readonly link: WorkerLink;
  readonly tcp: RemoteTcp;
  readyState = 0;
  binary = true;
  connection: RemoteConnection | undefined;
  /** Payload bytes sent for this client by per-client writes, and of those flushed by the kernel. */
  #sent = 0;
  #flushed = 0;
  #workerBuffered = 0;
  /** Live in the worker (between `live+` and its `behind` report or `live-`). */
  #live = false;
  #tcpOpen = true;

  constructor(link: WorkerLink, tid: number) {
    super();
    this.link = link;
    this.tid = tid;
    this.tcp = new RemoteTcp(this);
  }

  /** rawSocket(ws) finds this: the Connection listens for 'drain' here. */
  get _socket(): this {
    return this;
  }

  get bufferedAmount(): number {
    return Math.max(this.#sent - this.#flushed, this.#workerBuffered);
  }

  /** Never called: the writer is `remoteWriter` (present for rawSocket's shape check). */
  write(): boolean {
    throw new Error('RemoteSocket.write: use remoteWriter');
  }

  writeFrame(payload: Buffer, binary: boolean): void {
    if (this.readyState !== 1) return;
    this.#sent += payload.length;
    if (payload.length < INLINE_MAX_BYTES) this.link.post({ t: 'write', tid: this.tid, data: payload, binary });
    else this.link.writeRef(this.tid, payload, binary);
  }

  close(code: number, reason: string): void {
    if (this.readyState !== 1) return;
    this.readyState = 2;
    this.link.post({ t: 'close', tid: this.tid, code, reason });
  }

  terminate(): void {
    if (this.readyState === 3) return;
    this.link.post({ t: 'terminate', tid: this.tid });
  }

  destroy(): void {
    if (this.#tcpOpen) this.link.post({ t: 'destroy', tid: this.tid });
  }

  /** The accept gate let it in. */
  admit(): void {
    this.link.post({ t: 'admit', tid: this.tid });
  }

  /** The accept gate refused it: the worker answers `status` with `body` and closes (0: just closes). */
  refuse(status: number, body: string): void {
    this.link.post({ t: 'refuse', tid: this.tid, status, body });
  }

  expireUpgrade(body: string): void {
    this.link.post({ t: 'expire', tid: this.tid, body });
  }

  /** The sweep's lane of this socket's worker. */
  get pacer(): SweepPacer {
    return this.link;
  }

  /** The connection goes live, having everything up to `revision`. */
  goLive(revision: number): void {
    this.#live = true;
    this.link.post({ t: 'live+', tid: this.tid, revision });
  }

  /**
   * Out of the live state. `report`: the worker answers with `behind` (unless it already said
   * so); without, nothing is sent: the connection is closing, and the worker's close and
   * terminate take the client out of the live state themselves.
   */
  leaveLive(report: boolean): void {
    if (!this.#live) return;
    this.#live = false;
    if (report) this.link.post({ t: 'live-', tid: this.tid });
  }

  /** A visit of the sweep: the worker writes `run` unless the socket is over its mark. */
  writeLive(run: SharedRun): void {
    if (this.readyState !== 1 || !this.#live) return;
    this.link.liveWrite(this.tid, run);
  }

  // ── events from the worker ───────────────────────────────────────────────────────────────

  onEvent(ev: WorkerEvent, now: number): void {
    switch (ev.t) {
      case 'msg':
        this.emit('message', ev.data, this.binary);
        return;
      case 'act':
        this.emit('pong');
        return;
      case 'flushed': {
        const before = this.bufferedAmount;
        this.#flushed = ev.bytes;
        this.#workerBuffered = ev.buffered;
        if (this.bufferedAmount < before || this.bufferedAmount === 0) this.emit('drain');
        return;
      }
      case 'behind': {
        this.#workerBuffered = ev.buffered;
        this.#live = false;
        this.connection?.remoteFellBehind(ev.revision, now);
        // Catch up now if the worker's buffer allows, not at the next tick.
        this.emit('drain');
        return;
      }
      case 'error': {
        const err = Object.assign(new Error(ev.message), { code: ev.code });
        this.emit('error', err);
        return;
      }
      case 'close':
        this.#closed(ev.code, ev.reason);
        return;
      case 'tcpclose':
        this.#tcpClosed();
        return;
      default:
        return;
    }
  }

  /** The worker is gone: the socket with it. */
  workerExited(): void {
    this.#closed(1006, 'fan-out worker exited');
    this.#tcpClosed();
  }

  #closed(code: number, reason: string): void {
    if (this.readyState === 3) return;
    const opened = this.readyState !== 0;
    this.readyState = 3;
    this.#live = false;
    if (opened) this.emit('close', code, Buffer.from(reason));
  }

  #tcpClosed(): void {
    if (!this.#tcpOpen) return;
    this.#tcpOpen = false;
    if (this.readyState !== 3) this.#closed(1006, 'connection lost');
    this.link.sockets.delete(this.tid);
    this.tcp.emit('close');
  }
}

/** The write path of a Connection on a RemoteSocket. */
export const remoteWriter: FrameWriter = Object.freeze({
  name: 'fanout-worker',
  writeShared(ws: unknown, frame: SharedFrame): void {
    (ws as RemoteSocket).writeFrame(frame.payload, frame.binary);
  },
  write(ws: unknown, payload: Buffer, binary: boolean): void {
    (ws as RemoteSocket).writeFrame(payload, binary);
  },
});

/** The main process's end of one worker: its process, outbox, frames held and sockets. */
export class WorkerLink implements SweepPacer {
  readonly index: number;
  readonly sockets = new Map<number, RemoteSocket>();
  child: ChildProcess | undefined;
  /** A `listen` sent and not answered yet, and when it was sent. */
  listening: { resolve: () => void; reject: (err: Error) => void; at: number } | undefined;
  /** Whether it accepts (was sent the listening socket and not told `unlisten` since). */
  accepting = false;
  restarts = 0;
  readonly #pool: FanoutPool;
  #outbox: WorkerCommand[] = [];
  #flushScheduled = false;
  readonly #held = new Map<number, number>();
  #heldBytes = 0;
  /** The last `lives` command queued and its run: visits to the same run join its list. */
  #lives: Extract<WorkerCommand, { t: 'lives' }> | undefined;
  #livesRun: SharedRun | undefined;
  #ackSeq = 0;
  readonly #acks = new Map<number, () => void>();
  readonly #flush = (): void => this.flush();

  constructor(pool: FanoutPool, index: number) {
    this.#pool = pool;
    this.index = index;
  }

  get heldBytes(): number {
    return this.#heldBytes;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.connected;
  }

  post(cmd: WorkerCommand): void {
    if (!this.alive) return;
    this.#outbox.push(cmd);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Sends what is queued, as one IPC message. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#outbox.length === 0) return;
    const batch = this.#outbox;
    this.#outbox = [];
    if (this.alive) (this.child as ChildProcess).send(batch);
  }

  /** The id under which this worker holds `buf`, sending it first if it does not. */
  frameRef(buf: Buffer): number {
    let id = ids.get(buf);
    if (id === undefined) {
      id = ++nextFrameId;
      ids.set(buf, id);
    }
    const had = this.#held.get(id);
    if (had !== undefined) {
      this.#held.delete(id);
      this.#held.set(id, had);
      return id;
    }
    this.post({ t: 'frame', id, data: buf });
    this.#held.set(id, buf.length);
    this.#heldBytes += buf.length;
    for (const [old, bytes] of this.#held) {
      if (this.#heldBytes <= this.#pool.frameBudgetBytes || old === id) break;
      this.#held.delete(old);
      this.#heldBytes -= bytes;
      this.post({ t: 'forget', id: old });
    }
    return id;
  }

  /** A frame to one client by id: joins the last command if that wrote frames to the same client. */
  writeRef(tid: number, payload: Buffer, binary: boolean): void {
    const id = this.frameRef(payload);
    const last = this.#outbox[this.#outbox.length - 1];
    if (last !== undefined && last.t === 'write' && last.tid === tid && last.ids !== undefined && last.binary === binary) last.ids.push(id);
    else this.post({ t: 'write', tid, ids: [id], binary });
  }

  /**
   * The sweep visited live client `tid` with `run`: consecutive visits with the same run while
   * nothing else was queued share one `lives` command (the frames cross once, by id).
   */
  liveWrite(tid: number, run: SharedRun): void {
    if (!this.alive) return;
    let cmd = this.#lives;
    if (cmd === undefined || this.#livesRun !== run || this.#outbox[this.#outbox.length - 1] !== cmd) {
      const ids = run.frames.map((f) => this.frameRef(f.payload));
      cmd = { t: 'lives', ids, binary: run.frames[0].binary, revision: run.revision, tids: [] };
      this.post(cmd);
      this.#lives = cmd;
      this.#livesRun = run;
    }
    cmd.tids.push(tid);
  }

  /** SweepPacer: `fn` runs once the worker did everything queued so far (at once if it is gone). */
  ack(fn: () => void): void {
    if (!this.alive) {
      setImmediate(fn);
      return;
    }
    const n = ++this.#ackSeq;
    this.#acks.set(n, fn);
    this.post({ t: 'ack', n });
  }

  acked(n: number): void {
    const fn = this.#acks.get(n);
    if (fn === undefined) return;
    this.#acks.delete(n);
    fn();
  }

  /** The worker process exited: every socket it held is closed; frames start over; the lanes waiting on it go on. */
  exited(): void {
    this.child = undefined;
    this.listening?.reject(new Error('the fan-out worker exited'));
    this.listening = undefined;
    this.accepting = false;
    this.#outbox = [];
    this.#lives = this.#livesRun = undefined;
    this.#held.clear();
    this.#heldBytes = 0;
    for (const s of [...this.sockets.values()]) s.workerExited();
    this.sockets.clear();
    const waiting = [...this.#acks.values()];
    this.#acks.clear();
    for (const fn of waiting) fn();
  }
}

export interface FanoutPoolOptions {
  /** Workers at most. */
  count: number;
  /**
   * 0 (default): start all `count` at once. N > 0: start one, and another each time the running
   * ones hold N sockets each on average (never fewer afterwards: sockets are not moved).
   */
  growAt?: number;
  clock: Pick<Clock, 'now'>;
  init: Omit<WorkerInit, 't' | 'index' | 'tidBase'>;
  logger: Logger;
  frameBudgetBytes?: number;
}

export class FanoutPool {
  readonly frameBudgetBytes: number;
  readonly #o: FanoutPoolOptions;
  readonly #owner: FanoutPoolOwner;
  readonly #log: Logger;
  readonly #links: WorkerLink[] = [];
  #listen: { handle: object; backlog: number } | undefined;
  /** Worker starts so far: each gets its own range of socket ids (WorkerInit.tidBase). */
  #spawns = 0;
  #stopping = false;
  #accepting = true;

  constructor(o: FanoutPoolOptions, owner: FanoutPoolOwner) {
    this.#o = o;
    this.#owner = owner;
    this.#log = o.logger.child({ component: 'fanout-pool' });
    this.frameBudgetBytes = o.frameBudgetBytes ?? WORKER_FRAME_BUDGET_BYTES;
    const initial = (o.growAt ?? 0) > 0 ? 1 : o.count;
    for (let i = 0; i < initial; i++) this.#links.push(new WorkerLink(this, i));
  }

  /** Workers started so far (slots: one restarted after a crash counts once). */
  get size(): number {
    return this.#links.length;
  }

  /**
   * With `growAt`: one more worker once the running ones hold `growAt` sockets each on
   * average. It starts with no sockets, so once the others are a slack ahead of it the balance
   * below stops them listening until it has caught up: new connections go to it, none are moved.
   */
  #grow(): void {
    const growAt = this.#o.growAt ?? 0;
    if (growAt === 0 || this.#stopping || this.#links.length >= this.#o.count) return;
    let sockets = 0;
    for (const l of this.#links) {
      if (l.child === undefined) return; // one is (re)starting: wait for it
      sockets += l.sockets.size;
    }
    if (sockets < this.#links.length * growAt) return;
    const link = new WorkerLink(this, this.#links.length);
    this.#links.push(link);
    this.#log.info(
      { worker: link.index, sockets, workers: this.#links.length, max: this.#o.count },
      'starting another fan-out worker for the connections held',
    );
    this.#spawn(link).catch((err: unknown) => this.#log.error({ err, worker: link.index }, 'cannot start a fan-out worker'));
  }

  /** Starts every worker; resolves once each is running. */
  async start(): Promise<void> {
    await Promise.all(this.#links.map((l) => this.#spawn(l)));
  }

  /**
   * Every worker listens on `handle` (a TCP handle bound here, not listening: see the module
   * comment), and so will a worker started later in a slot; resolves once each one listens.
   */
  async listen(handle: object, backlog: number): Promise<void> {
    this.#listen = { handle, backlog };
    await Promise.all(this.#links.map((l) => this.#sendListen(l)));
  }

  /** Stop accepting: the workers close their listeners (the caller closes its handle). */
  unlisten(): void {
    this.#listen = undefined;
    for (const l of this.#links) {
      l.accepting = false;
      l.post({ t: 'unlisten' });
    }
  }

  /**
   * Keeps the workers' shares of the sockets even. The kernel gives a connection to whichever
   * listening worker accepts first (an idle one takes whole bursts), so a worker holding more
   * than the least loaded one plus a slack stops listening, and listens again once it is back
   * within half the slack; the least loaded worker always listens. A connection is never moved.
   */
  #balance(): void {
    if (this.#listen === undefined) return;
    this.#grow();
    const listen = this.#listen;
    const now = this.#o.clock.now();
    for (const l of this.#links) {
      // A `listen` unanswered this long is taken as lost: the worker is sent it again (it
      // answers every one; the first answer settles the wait).
      if (l.listening !== undefined && l.child !== undefined && now - l.listening.at > LISTEN_ANSWER_MS) {
        l.listening.at = now;
        this.#postListen(l, l.child, listen);
      }
    }
    let min = Infinity;
    for (const l of this.#links) if (l.alive && l.sockets.size < min) min = l.sockets.size;
    if (min === Infinity) return;
    const slack = Math.max(BALANCE_SLACK_SOCKETS, Math.ceil(min * BALANCE_SLACK_SHARE));
    for (const l of this.#links) {
      if (!l.alive) continue;
      const n = l.sockets.size;
      if (l.accepting && n > min + slack) {
        l.accepting = false;
        l.post({ t: 'unlisten' });
      } else if (!l.accepting && l.listening === undefined && n <= min + slack / 2) {
        this.#sendListen(l).catch((err: unknown) => this.#log.error({ err, worker: l.index }, 'a fan-out worker could not listen'));
      }
    }
  }

  /**
   * The server's tick: the balance is kept without events too, so the least loaded worker
   * listens again even when no connection arrives or closes (every worker may have stopped
   * listening at its last event).
   */
  tick(): void {
    this.#balance();
  }

  #sendListen(link: WorkerLink): Promise<void> {
    const listen = this.#listen;
    const child = link.child;
    if (listen === undefined || child === undefined || !link.alive) return Promise.resolve();
    link.accepting = true;
    return new Promise<void>((resolve, reject) => {
      link.listening = { resolve, reject, at: this.#o.clock.now() };
      this.#postListen(link, child, listen);
    });
  }

  /** Sends the listening socket, after what is queued for the worker. */
  #postListen(link: WorkerLink, child: ChildProcess, listen: { handle: object; backlog: number }): void {
    link.flush();
    child.send({ t: 'listen', backlog: listen.backlog }, listen.handle as never, (err) => {
      if (err === null || err === undefined) return;
      const waiting = link.listening;
      link.listening = undefined;
      link.accepting = false;
      waiting?.reject(err);
    });
  }

  setAccepting(accepting: boolean): void {
    this.#accepting = accepting;
    for (const l of this.#links) l.post({ t: 'accepting', accepting });
  }

  /** Stops every worker (their sockets are cut); resolves once they exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#links.map(async (l) => {
        const child = l.child;
        if (child === undefined) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        l.post({ t: 'stop' });
        l.flush();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  status(): FanoutWorkerStatus[] {
    return this.#links.map((l) => ({
      index: l.index,
      pid: l.child?.pid,
      sockets: l.sockets.size,
      restarts: l.restarts,
      frameBytes: l.heldBytes,
      accepting: l.accepting,
    }));
  }

  /** The pids of the running workers (tests kill one by its pid). */
  pids(): number[] {
    return this.#links.map((l) => l.child?.pid).filter((p): p is number => p !== undefined);
  }

  async #spawn(link: WorkerLink): Promise<void> {
    const child = fork(new URL('./fanout-worker.js', import.meta.url), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    link.child = child;
    child.on('message', (batch: WorkerEvent[]) => this.#onEvents(link, batch));
    child.once('exit', (code, signal) => this.#onExit(link, child, code, signal));
    child.on('error', (err) => this.#log.error({ err, worker: link.index }, 'fan-out worker error'));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const init: WorkerInit = { t: 'init', index: link.index, ...this.#o.init, tidBase: ++this.#spawns * 2 ** 32 };
    child.send(init);
    if (!this.#accepting) link.post({ t: 'accepting', accepting: false });
    // A worker started in a slot again listens too (at start, listen() sends it to all).
    if (this.#listen !== undefined) {
      this.#sendListen(link).catch((err: unknown) => this.#log.error({ err, worker: link.index }, 'a fan-out worker could not listen'));
    }
    this.#log.info({ worker: link.index, pid: child.pid }, 'fan-out worker started');
  }

  #onExit(link: WorkerLink, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (link.child !== child) return;
    const sockets = link.sockets.size;
    link.exited();
    if (this.#stopping) return;
    this.#log.error({ worker: link.index, pid: child.pid, code, signal, sockets }, 'fan-out worker exited; its clients reconnect, starting another');
    link.restarts++;
    this.#spawn(link).catch((err: unknown) => this.#log.error({ err, worker: link.index }, 'cannot start a fan-out worker'));
  }

  #onEvents(link: WorkerLink, batch: WorkerEvent[]): void {
    const now = this.#o.clock.now();
    for (const ev of batch) {
      try {
        this.#onEvent(link, ev, now);
      } catch (err) {
        this.#log.error({ err, worker: link.index, event: ev.t }, 'handling a fan-out worker event failed');
      }
    }
  }

  #onEvent(link: WorkerLink, ev: WorkerEvent, now: number): void {
    if (ev.t === 'log') {
      this.#owner.workerLog(ev.level, ev.msg, { worker: link.index, ...(ev.err !== undefined ? { err: ev.err } : {}) });
      return;
    }
    if (ev.t === 'acked') {
      link.acked(ev.n);
      return;
    }
    if (ev.t === 'listening' || ev.t === 'listen-error') {
      const waiting = link.listening;
      link.listening = undefined;
      if (ev.t === 'listening') {
        waiting?.resolve();
        // It may have been told to stop again meanwhile, and the other may have stopped when
        // this one could not be sent the socket (its listen was pending): balance now, not at
        // the next event, which may never come (a profiled storm stalled that way).
        this.#balance();
        return;
      }
      // It does not listen: the balance sends it the socket again when it is the one to.
      link.accepting = false;
      if (waiting !== undefined) waiting.reject(new Error(ev.message));
      else this.#log.error({ worker: link.index, err: ev.message }, 'fan-out worker listener error; it stopped listening');
      this.#balance();
      return;
    }
    if (ev.t === 'accepted') {
      const remote = new RemoteSocket(link, ev.tid);
      link.sockets.set(ev.tid, remote);
      this.#owner.accepted(remote, ev.source);
      this.#balance();
      return;
    }
    const s = link.sockets.get(ev.tid);
    if (s === undefined) return;
    if (ev.t === 'tcpclose') {
      s.onEvent(ev, now);
      this.#balance();
      return;
    }
    switch (ev.t) {
      case 'upreq':
        this.#owner.upgradeRequested(s);
        return;
      case 'refused':
        this.#owner.refused(s, ev.reason);
        return;
      case 'open':
        s.readyState = 1;
        s.binary = ev.codec !== 'json';
        this.#owner.opened(s, ev.codec, ev.remote);
        return;
      default:
        s.onEvent(ev, now);
    }
  }
}
