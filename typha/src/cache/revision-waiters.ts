/**
 * Promises for "the cache has reached revision R": a client that resumes at a revision this
 * replica has not applied yet (it came from a replica that is ahead) is parked here instead of
 * being sent a snapshot. Settled from the cache's apply path, so no timers; a timeout is the
 * caller's AbortSignal.
 */

interface Waiter {
  readonly revision: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class RevisionWaiters {
  #waiters: Waiter[] = [];

  get size(): number {
    return this.#waiters.length;
  }

  wait(revision: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { revision, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Resolves every waiter at or below `revision`. */
  reached(revision: number): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (revision >= w.revision) settle(w, undefined);
      else still.push(w);
    }
    this.#waiters = still;
  }

  rejectAll(err: Error): void {
    const all = this.#waiters;
    this.#waiters = [];
    for (const w of all) settle(w, err);
  }
}

function settle(w: Waiter, err: unknown): void {
  if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
  if (err === undefined) w.resolve();
  else w.reject(err);
}
