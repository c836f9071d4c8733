/**
 * The messages between the sync server (the main process) and its fan-out workers
 * (TYPHA_FANOUTWORKERS > 1; see `fanout-pool.ts` for the design). One type per direction, so
 * the two sides cannot drift: a worker is a socket holder and a writer, the main process keeps
 * every decision (accept gate, protocol state machine, cache, lag policy, metrics, /status).
 *
 *   main ─▶ worker   commands, batched: at most one IPC message per worker per event-loop turn
 *                    (an array of WorkerCommand), plus, once per worker, the listening socket's
 *                    handle (`listen`): every worker accepts on it itself
 *   worker ─▶ main   events, batched the same way (an array of WorkerEvent)
 *
 * Accepting. A socket a worker accepts waits, paused, for the main process's accept gate: the
 * worker reports `accepted` with its source address, and the main process answers `admit` or
 * `refuse`. No socket handle crosses the channel per connection: Node queues every message
 * behind a handle until the receiver acknowledges it, so handing each accepted socket over (what
 * this did first) let one connection through per worker event-loop turn, and a cold storm of
 * 10,000 clients spent most of its time there.
 *
 * Frames. A Buffer that more than one socket may get (a delta batch, a snapshot page, a replayed
 * frame, anything ≥ INLINE_MAX_BYTES) crosses once per worker as `frame` with an id; writes then
 * name the id. The main process keeps, per worker, the ids the worker holds and their bytes
 * (an LRU under a byte budget) and sends `forget` when it evicts one: a write command always
 * names an id the worker holds at the time it reads the command, because the commands are read
 * in order and the worker resolves the id to its Buffer at once.
 */
import type { CodecName } from '../protocol/codecs.js';
import type { RejectReason } from '../metrics/server-metrics.js';

/** Per-client writes smaller than this are sent inline; larger ones by frame id. */
export const INLINE_MAX_BYTES = 1024;

/** What a worker needs to know at start (no functions, no caches: it serves no protocol). */
export interface WorkerInit {
  t: 'init';
  index: number;
  codecs: CodecName[];
  tls?: { ca?: string | Buffer; cert: string | Buffer; key: string | Buffer; clientCN?: string; clientURISAN?: string };
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  highWaterMarkBytes: number;
  closeGraceMs: number;
  /** Ids of the sockets this worker accepts start above this (unique across worker restarts). */
  tidBase: number;
}

/** Sent with the listening socket's handle (bound by the main process, listening in no process before). */
export interface WorkerListen {
  t: 'listen';
  backlog: number;
}

export type WorkerCommand =
  /** A shared Buffer, held under `id` until `forget`. */
  | { t: 'frame'; id: number; data: Buffer }
  | { t: 'forget'; id: number }
  /** The accept gate let the paused socket `tid` in: TLS, HTTP and the upgrade go on here. */
  | { t: 'admit'; tid: number }
  /** The accept gate refused it: answer `status` with `body` and close (status 0: just close, as under TLS). */
  | { t: 'refuse'; tid: number; status: number; body: string }
  /** Stop accepting (draining, stopping): close this worker's listener. */
  | { t: 'unlisten' }
  /**
   * WebSocket messages to one client: inline bytes, or frames by id, one message each, in order
   * (consecutive frames for the same client, e.g. snapshot pages, share one command).
   */
  | { t: 'write'; tid: number; data?: Buffer; ids?: number[]; binary: boolean }
  | { t: 'close'; tid: number; code: number; reason: string }
  | { t: 'terminate'; tid: number }
  /** The TCP socket before its upgrade: cut it (stop, drain). */
  | { t: 'destroy'; tid: number }
  /** The upgrade request did not arrive in time: 408 (plain) or cut (TLS). */
  | { t: 'expire'; tid: number; body: string }
  /** The client goes live, having everything up to `revision`. */
  | { t: 'live+'; tid: number; revision: number }
  /** The client is not live any more: if it still was here, report `behind` with the last revision written. */
  | { t: 'live-'; tid: number }
  /**
   * One visit of the sweep (fan-out.ts) to these live clients: the frames `ids` (one WebSocket
   * message each, written back to back in ONE write per client) take each to `revision`. A
   * client over the high-water mark is not written: it leaves the live state, reported `behind`.
   */
  | { t: 'lives'; ids: number[]; binary: boolean; revision: number; tids: number[] }
  /** Answered by `acked` once every command before it was done (the sweep's pacing). */
  | { t: 'ack'; n: number }
  /** Whether new upgrades are taken (false while draining or stopped: 503). */
  | { t: 'accepting'; accepting: boolean }
  | { t: 'stop' };

export type WorkerEvent =
  /** The listener is listening (answer to `listen`), or could not. */
  | { t: 'listening' }
  | { t: 'listen-error'; message: string }
  /** A TCP connection was accepted and waits, paused, for `admit` or `refuse`. */
  | { t: 'accepted'; tid: number; source: string }
  /** The complete upgrade request arrived (the upgrade deadline no longer applies). */
  | { t: 'upreq'; tid: number }
  /** Refused before it became a WebSocket (counted by reason in the main process). */
  | { t: 'refused'; tid: number; reason: RejectReason }
  /** A WebSocket is open on the client: the main process makes its Connection. */
  | { t: 'open'; tid: number; codec: CodecName; remote: string }
  | { t: 'msg'; tid: number; data: Buffer }
  /** A WebSocket ping or pong from the client (activity for the ping timeout). */
  | { t: 'act'; tid: number }
  | { t: 'error'; tid: number; code: string; message: string }
  | { t: 'close'; tid: number; code: number; reason: string }
  /** The TCP socket closed (for the accept gate's counts). */
  | { t: 'tcpclose'; tid: number }
  /** Bytes of per-client writes the kernel took so far, and what the socket still buffers. */
  | { t: 'flushed'; tid: number; bytes: number; buffered: number }
  /** A live client left the live state (over the high-water mark, or `live-`): last run written `revision`. */
  | { t: 'behind'; tid: number; revision: number; buffered: number }
  | { t: 'acked'; n: number }
  | { t: 'log'; level: 'warn' | 'error'; msg: string; err?: string };
