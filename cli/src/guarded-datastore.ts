/**
 * A Datastore wrapper that bounds every call, so the CLI never hangs on a datastore (etcd, or the
 * Kubernetes API server) that does not answer:
 *
 *   call ──▶ inner datastore ──▶ answer in time ─────────────▶ result / its own error
 *                             └─▶ no answer in `timeoutMs` ──▶ DatastoreUnreachableError
 *                             └─▶ UNAVAILABLE-style error ───▶ DatastoreUnreachableError
 *                             └─▶ SIGINT/SIGTERM ────────────▶ InterruptedError (reads only)
 *
 * A signal never lets a call start, but it only cuts short a read. A write already sent
 * (create, update, delete) is waited for, within the same timeout: abandoning it would not
 * unsend it, only leave the CLI unable to say whether it happened. So a command stopped by a
 * signal knows the state of every resource it touched (interrupted-batch.ts). A second signal
 * does not wait (main.ts exits at once).
 *
 * Errors that are answers (not found, already exists, conflict) pass through untouched: the
 * commands turn those into calicoctl's messages. Watches are long-lived by nature and are
 * passed through unbounded.
 */
import type { Resource, ResourceRef } from '@cattail/api';
import {
  kdd,
  type Datastore,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type RawListResult,
  type WatchHandle,
  type WatchSink,
} from '@cattail/datastore';
import type { DatastoreLocation } from './datastore-config.js';
import { DatastoreUnreachableError, firstLine, interruptedBy } from './errors.js';

/** Error codes (ours and the etcd client's) that mean "nobody answered", checked along `cause`. */
const UNREACHABLE_CODES = new Set(['DATASTORE_UNAVAILABLE', 'ETCD_UNAVAILABLE', 'ETCD_TIMEOUT', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH']);

const CLOSE_TIMEOUT_MS = 1000;

export type KubeApi = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) => Promise<unknown>;

interface BoundOptions {
  /** Default: the session's request timeout. */
  timeoutMs?: number;
  /**
   * What SIGINT/SIGTERM does to the call. `interrupt` (reads, the default): refused, or cut
   * short. `wait` (writes): refused if not sent yet, else its answer is awaited. `ignore`
   * (close): runs anyway, so the client is closed after a signal too.
   */
  onSignal?: 'interrupt' | 'wait' | 'ignore';
}

const WRITE: BoundOptions = { onSignal: 'wait' };

export interface GuardOptions {
  location: DatastoreLocation;
  timeoutMs: number;
  signal?: AbortSignal;
}

function isUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}

export class GuardedDatastore implements Datastore {
  readonly #inner: Datastore;
  readonly #opts: GuardOptions;

  constructor(inner: Datastore, opts: GuardOptions) {
    this.#inner = inner;
    this.#opts = opts;
  }

  get(ref: ResourceRef): Promise<Resource> {
    return this.#bound(() => this.#inner.get(ref));
  }

  list(kind: string, opts?: ListOptions): Promise<ListResult> {
    return this.#bound(() => this.#inner.list(kind, opts));
  }

  create(res: Resource): Promise<Resource> {
    return this.#bound(() => this.#inner.create(res), WRITE);
  }

  update(res: Resource): Promise<Resource> {
    return this.#bound(() => this.#inner.update(res), WRITE);
  }

  delete(ref: ResourceRef, opts?: DeleteOptions): Promise<Resource> {
    return this.#bound(() => this.#inner.delete(ref, opts), WRITE);
  }

  /**
   * Raw requests to the Kubernetes API behind a Kubernetes datastore (a GET is a read, anything
   * else a write, bounded as every call); undefined on etcd.
   */
  get kubeApi(): KubeApi | undefined {
    const inner = this.#inner;
    if (!(inner instanceof kdd.KubeDatastore)) return undefined;
    return (method, path, body) => this.#bound(() => inner.request(method, path, body), method === 'GET' ? {} : WRITE);
  }

  listPrefix(prefix?: string): Promise<RawListResult> {
    return this.#bound(() => this.#inner.listPrefix(prefix));
  }

  watchPrefix(prefix: string, fromRevision: number, sink: WatchSink): WatchHandle {
    return this.#inner.watchPrefix(prefix, fromRevision, sink);
  }

  /**
   * Closing is best effort and briefly bounded: the command's result is already printed, and a
   * client stuck on a dead endpoint must not add another full timeout to a failed command.
   */
  async close(): Promise<void> {
    try {
      await this.#bound(() => this.#inner.close(), {
        timeoutMs: Math.min(this.#opts.timeoutMs, CLOSE_TIMEOUT_MS),
        onSignal: 'ignore',
      });
    } catch {
      // Nothing useful to tell the user after the command's own result.
    }
  }

  #bound<T>(call: () => Promise<T>, opts: BoundOptions = {}): Promise<T> {
    const { location, signal } = this.#opts;
    const timeoutMs = opts.timeoutMs ?? this.#opts.timeoutMs;
    const onSignal = opts.onSignal ?? 'interrupt';
    const interruptible = onSignal === 'interrupt';
    if (signal?.aborted && onSignal !== 'ignore') return Promise.reject(interruptedBy(signal));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        if (interruptible) signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (finish()) reject(interruptedBy(signal));
      };
      const timer = setTimeout(() => {
        if (finish()) reject(new DatastoreUnreachableError(location, `no answer within ${formatMs(timeoutMs)}`));
      }, timeoutMs);
      if (interruptible) signal?.addEventListener('abort', onAbort, { once: true });
      let pending: Promise<T>;
      try {
        pending = call();
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (value) => {
          if (finish()) resolve(value);
        },
        (err: unknown) => {
          if (!finish()) return;
          reject(isUnreachable(err) ? new DatastoreUnreachableError(location, firstLine(err), { cause: err }) : err);
        },
      );
    });
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
