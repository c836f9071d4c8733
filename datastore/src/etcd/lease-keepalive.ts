/**
 * Keeps one lease alive over a LeaseKeepAlive stream until stopped or lost.
 *
 * A renewal is sent every `intervalMs` (default a third of the TTL, like etcd's clientv3), so two
 * can be missed before the lease runs out. Each answer moves the local deadline to now + TTL.
 * The handle emits:
 *   'keepalive' (ttlSeconds)      after each renewal etcd confirmed
 *   'lost'      (EtcdLeaseLostError) once, then stops: etcd answered TTL <= 0 (expired or
 *                                 revoked), or the deadline passed while we could not renew
 *                                 (stream down, etcd unreachable). Keys under the lease are gone
 *                                 or about to be; the owner must re-create them under a new lease.
 * Stream failures within the deadline reconnect with the client's jittered backoff.
 */
import { EventEmitter } from 'node:events';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { backoffDelay } from '../backoff.js';
import type { BidiCall, StreamTransport } from './transport.js';
import { toNumber } from './convert.js';
import { EtcdLeaseLostError, isInvalidTokenError, isServiceError } from './errors.js';
import type { LeaseId } from './types.js';
import type { WireLeaseKeepAliveResponse } from './wire.js';

export interface KeepAliveOptions {
  /** Renewal period; default a third of the TTL, at least 100 ms. */
  intervalMs?: number;
}

export interface LeaseKeepAliveEvents {
  keepalive: [ttlSeconds: number];
  lost: [err: EtcdLeaseLostError];
}

export class LeaseKeepAlive extends EventEmitter<LeaseKeepAliveEvents> {
  readonly id: LeaseId;
  #conn: StreamTransport;
  #ttlSeconds: number;
  #intervalMs: number;
  #deadline: number;
  #call: BidiCall | undefined;
  #token: string | undefined;
  #endpoint = 0;
  #generation = 0;
  #attempt = 0;
  #sendTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #abort = new AbortController();
  #onDone: (handle: LeaseKeepAlive) => void;

  /** Use EtcdClient.keepAlive(). `ttlSeconds` is the lease's remaining TTL when starting. */
  constructor(conn: StreamTransport, id: LeaseId, ttlSeconds: number, options: KeepAliveOptions, onDone: (handle: LeaseKeepAlive) => void) {
    super();
    this.id = id;
    this.#conn = conn;
    this.#onDone = onDone;
    this.#ttlSeconds = ttlSeconds;
    this.#intervalMs = options.intervalMs ?? Math.max(100, Math.floor((ttlSeconds * 1000) / 3));
    this.#deadline = Date.now() + ttlSeconds * 1000;
    this.#armDeadline();
    void this.#connect();
  }

  /** TTL in seconds from the latest renewal. */
  get ttl(): number {
    return this.#ttlSeconds;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stops renewing. The lease itself lives on until its TTL runs out (revoke it to end it now). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    clearTimeout(this.#sendTimer);
    clearTimeout(this.#deadlineTimer);
    this.#dropStream();
    this.#onDone(this);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    let opened;
    try {
      opened = await this.#conn.openStream(this.#conn.methods.leaseKeepAlive, false);
    } catch {
      // Unreachable or login failed: retry until the deadline says the lease is lost.
      void this.#reconnect();
      return;
    }
    if (this.#stopped) {
      // Canceling emits a CANCELLED 'error'; without a listener it would be thrown.
      opened.call.on('error', () => {});
      opened.call.cancel();
      return;
    }
    const generation = ++this.#generation;
    this.#call = opened.call;
    this.#endpoint = opened.endpoint;
    this.#token = opened.token;
    opened.call.on('data', (res: WireLeaseKeepAliveResponse) => this.#onResponse(generation, res));
    opened.call.on('error', (err: Error) => this.#onStreamEnd(generation, err));
    opened.call.on('end', () => this.#onStreamEnd(generation, undefined));
    this.#send();
  }

  #send(): void {
    if (this.#stopped || this.#call === undefined) return;
    this.#call.write({ ID: this.id });
    clearTimeout(this.#sendTimer);
    this.#sendTimer = setTimeout(() => this.#send(), this.#intervalMs);
  }

  #onResponse(generation: number, res: WireLeaseKeepAliveResponse): void {
    if (generation !== this.#generation || this.#stopped) return;
    const ttl = toNumber(res.TTL);
    if (ttl <= 0) {
      this.#lose('etcd reports it expired or was revoked');
      return;
    }
    this.#attempt = 0;
    this.#ttlSeconds = ttl;
    this.#deadline = Date.now() + ttl * 1000;
    this.#armDeadline();
    this.emit('keepalive', ttl);
  }

  #onStreamEnd(generation: number, err: Error | undefined): void {
    if (generation !== this.#generation || this.#stopped) return;
    this.#dropStream();
    if (err !== undefined && isServiceError(err)) {
      if (err.code === GrpcStatus.UNAVAILABLE) this.#conn.markUnavailable(this.#endpoint);
      if (this.#token !== undefined && isInvalidTokenError(err)) this.#conn.invalidateToken(this.#token);
    }
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    if (this.#stopped) return;
    const { backoff, random, delay } = this.#conn.options;
    await delay(backoffDelay(backoff, this.#attempt++, random), this.#abort.signal);
    await this.#connect();
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const ms = Math.max(0, this.#deadline - Date.now());
    this.#deadlineTimer = setTimeout(() => {
      if (Date.now() >= this.#deadline) this.#lose(`no renewal confirmed within its ${this.#ttlSeconds} s TTL`);
      else this.#armDeadline();
    }, ms);
  }

  #dropStream(): void {
    this.#generation++;
    clearTimeout(this.#sendTimer);
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
  }

  #lose(reason: string): void {
    if (this.#stopped) return;
    this.stop();
    this.emit('lost', new EtcdLeaseLostError(this.id, reason));
  }
}
