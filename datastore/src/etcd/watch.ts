/**
 * One etcd watch that survives connection loss without losing, repeating or reordering events.
 *
 *   connect ─▶ create_request{start_revision: next - 1} ─▶ created ─▶ events ≥ next… ─┐
 *      ▲                                                                   │ stream error / end
 *      └──────────── jittered backoff (injected delay) ◀── 'reconnecting' ◀┘
 *
 * The resume point is the revision of the last EVENT handed to the sink, plus one; before the
 * first event it is the caller's startRevision. It is never a response header's revision: a
 * header (of a created or progress response) may be ahead of events still in flight on the old
 * stream, and resuming from it would skip them. etcd never splits one revision over two
 * responses unless fragmenting was asked for, so "last event revision + 1" cannot cut a
 * transaction in half; as a second guard every event at or below the last delivered revision
 * is dropped, which makes redelivery after a reconnect harmless.
 *
 * The watch is asked to start ONE revision early, at the last revision already known
 * (`next - 1`), and what it sends at that revision is dropped. Asking for `next` itself would
 * be wrong when etcd was compacted at exactly `next`: etcd accepts a watch that starts at its
 * compact revision, but physical compaction has removed the tombstones at that revision, so a
 * key deleted at `next` would never be reported deleted and the caller would keep it for ever
 * (a Typha fault round found this: every client kept a deleted Node after a link cut and a
 * compaction at the deletion's revision). Starting at `next - 1`, etcd refuses exactly when
 * `next` may be incomplete (compact revision >= next), and the caller relists.
 *
 * We do not ask for fragments, but reassemble them if a server sends them anyway: fragments are
 * buffered until the response with `fragment=false` and delivered as one batch.
 *
 * Terminal outcomes go to `onError` and end the watch: a compacted start revision
 * (EtcdCompactedError, the caller relists), a refusal that re-login did not cure
 * (EtcdPermissionDeniedError), any other server cancel, a failed login.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { backoffDelay } from '../backoff.js';
import type { BidiCall, StreamTransport } from './transport.js';
import { headerRevision, toNumber, toWatchEvent } from './convert.js';
import {
  EtcdAuthFailedError,
  EtcdClosedError,
  EtcdCompactedError,
  EtcdConfigError,
  EtcdError,
  EtcdPermissionDeniedError,
  EtcdWatchCanceledError,
  fromGrpcError,
  isInvalidTokenError,
  isServiceError,
} from './errors.js';
import { rangeEndFor, toBuffer } from './keys.js';
import type { Bytes, WatchEvent } from './types.js';
import type { WireEvent, WireWatchCreateRequest, WireWatchRequest, WireWatchResponse } from './wire.js';

export interface WatchOptions {
  key: Bytes;
  prefix?: boolean;
  rangeEnd?: Bytes;
  /**
   * First revision to deliver, >= 1: typically the revision of the list that preceded the
   * watch, plus one. ("Now", etcd's 0, is refused: after a reconnect it would skip events.)
   */
  startRevision: number;
  progressNotify?: boolean;
  prevKv?: boolean;
}

export type WatchState = 'connected' | 'reconnecting';

/**
 * Where a watch delivers. Declared here, implemented by whoever consumes the events. Callbacks
 * run synchronously on the gRPC stream's events and must not throw.
 */
export interface WatchSink {
  /** `revision` is the revision of the LAST event in `events`. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** No events, but the store reached `revision` (only with progressNotify). */
  onProgress?(revision: number): void;
  /** Terminal: the watch has stopped. EtcdCompactedError means relist. */
  onError(err: EtcdError): void;
  onStatus?(state: WatchState): void;
}

/** Retrying these is pointless: the same request would fail the same way. */
const TERMINAL_STREAM_CODES = new Set<number>([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.FAILED_PRECONDITION,
]);

export class EtcdWatch {
  #conn: StreamTransport;
  #sink: WatchSink;
  #onDone: (w: EtcdWatch) => void;
  #key: Buffer;
  #rangeEnd: Buffer | undefined;
  #progressNotify: boolean;
  #prevKv: boolean;
  #nextRevision: number;
  #lastDelivered = 0;
  #call: BidiCall | undefined;
  #endpoint = 0;
  #token: string | undefined;
  /** Bumped whenever a stream is abandoned, so late callbacks of an old stream are ignored. */
  #generation = 0;
  #attempt = 0;
  #reauthenticated = false;
  #fragments: WireEvent[] = [];
  #closed = false;
  #abort = new AbortController();

  /** Use EtcdClient.watch(). */
  constructor(conn: StreamTransport, options: WatchOptions, sink: WatchSink, onDone: (w: EtcdWatch) => void) {
    if (!Number.isSafeInteger(options.startRevision) || options.startRevision < 1) {
      throw new EtcdConfigError(`etcd watch: startRevision must be an integer >= 1 (a list's revision + 1), got ${options.startRevision}`);
    }
    this.#conn = conn;
    this.#sink = sink;
    this.#onDone = onDone;
    this.#key = toBuffer(options.key);
    this.#rangeEnd = rangeEndFor(options.key, options);
    if (this.#key.length === 0 && this.#rangeEnd !== undefined) this.#key = Buffer.from([0]);
    this.#progressNotify = options.progressNotify ?? false;
    this.#prevKv = options.prevKv ?? false;
    this.#nextRevision = options.startRevision;
    void this.#connect();
  }

  /** Revision of the last event delivered; 0 before the first. */
  get lastRevision(): number {
    return this.#lastDelivered;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Asks etcd for a progress notification now (answered via onProgress once the watch is
   * caught up). A no-op while disconnected.
   */
  requestProgress(): void {
    this.#call?.write({ progress_request: {} } satisfies WireWatchRequest);
  }

  /** Stops the watch. No sink callback runs after this returns. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#dropStream();
    this.#onDone(this);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let opened;
    try {
      opened = await this.#conn.openStream(this.#conn.methods.watch, true);
    } catch (err) {
      if (this.#closed) return;
      if (err instanceof EtcdAuthFailedError || err instanceof EtcdClosedError) {
        this.#fail(err);
        return;
      }
      void this.#reconnect();
      return;
    }
    const { call } = opened;
    if (this.#closed) {
      // Canceling emits a CANCELLED 'error'; without a listener it would be thrown.
      call.on('error', () => {});
      call.cancel();
      return;
    }
    const generation = ++this.#generation;
    this.#call = call;
    this.#endpoint = opened.endpoint;
    this.#token = opened.token;
    call.on('data', (res: WireWatchResponse) => this.#onResponse(generation, res));
    call.on('error', (err: Error) => this.#onStreamEnd(generation, err));
    call.on('end', () => this.#onStreamEnd(generation, undefined));
    const create: WireWatchCreateRequest = {
      key: this.#key,
      // One early (see the module comment); etcd's 0 would mean "now", so 1 stays 1.
      start_revision: Math.max(1, this.#nextRevision - 1),
      progress_notify: this.#progressNotify,
      prev_kv: this.#prevKv,
      fragment: false,
    };
    if (this.#rangeEnd !== undefined) create.range_end = this.#rangeEnd;
    call.write({ create_request: create } satisfies WireWatchRequest);
  }

  #onResponse(generation: number, res: WireWatchResponse): void {
    if (generation !== this.#generation || this.#closed) return;
    const compactRevision = toNumber(res.compact_revision);
    if (compactRevision !== 0) {
      this.#fail(new EtcdCompactedError(compactRevision));
      return;
    }
    if (res.canceled) {
      this.#onCanceled(res.cancel_reason);
      return;
    }
    if (res.created) {
      this.#attempt = 0;
      this.#reauthenticated = false;
      this.#sink.onStatus?.('connected');
    }
    if (res.fragment) {
      for (const ev of res.events) this.#fragments.push(ev);
      return;
    }
    let wire = res.events;
    if (this.#fragments.length > 0) {
      wire = this.#fragments.concat(wire);
      this.#fragments = [];
    }
    if (wire.length === 0) {
      if (!res.created) this.#sink.onProgress?.(headerRevision(res.header));
      return;
    }
    const events: WatchEvent[] = [];
    for (const ev of wire) {
      const event = toWatchEvent(ev);
      if (event.kv.modRevision >= this.#nextRevision) events.push(event);
    }
    if (events.length === 0) return;
    const last = events[events.length - 1].kv.modRevision;
    this.#lastDelivered = last;
    this.#nextRevision = last + 1;
    this.#sink.onEvents(events, last);
  }

  #onCanceled(reason: string): void {
    if (/compact/i.test(reason)) {
      this.#fail(new EtcdCompactedError(undefined, `etcd canceled the watch: ${reason}; relist and watch again`));
      return;
    }
    // etcd answers a watch made with an unknown or expired token with "permission denied", the
    // same words as a real refusal; one fresh login tells the two apart.
    if (/permission denied|auth token/i.test(reason)) {
      if (this.#token !== undefined && !this.#reauthenticated) {
        this.#reauthenticated = true;
        this.#conn.invalidateToken(this.#token);
        this.#dropStream();
        void this.#reconnect();
        return;
      }
      this.#fail(new EtcdPermissionDeniedError(`etcd refused the watch: ${reason}; check the user's key permissions`));
      return;
    }
    this.#fail(new EtcdWatchCanceledError(reason));
  }

  #onStreamEnd(generation: number, err: Error | undefined): void {
    if (generation !== this.#generation || this.#closed) return;
    this.#dropStream();
    if (err !== undefined && isServiceError(err)) {
      if (err.code === GrpcStatus.UNAVAILABLE) this.#conn.markUnavailable(this.#endpoint);
      if (this.#token !== undefined && isInvalidTokenError(err)) {
        this.#conn.invalidateToken(this.#token);
      } else if (TERMINAL_STREAM_CODES.has(err.code)) {
        this.#fail(fromGrpcError(err, 'watch'));
        return;
      }
    }
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    this.#sink.onStatus?.('reconnecting');
    const { backoff, random, delay } = this.#conn.options;
    await delay(backoffDelay(backoff, this.#attempt++, random), this.#abort.signal);
    await this.#connect();
  }

  /** Abandons the current stream: its late callbacks are ignored and its call is canceled. */
  #dropStream(): void {
    this.#generation++;
    this.#fragments = [];
    const call = this.#call;
    this.#call = undefined;
    // Canceling makes grpc-js emit a CANCELLED 'error', caught by the listener still attached.
    call?.cancel();
  }

  #fail(err: EtcdError): void {
    if (this.#closed) return;
    this.close();
    this.#sink.onError(err);
  }
}
