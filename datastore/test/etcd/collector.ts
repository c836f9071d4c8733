/**
 * Test helpers for watches against a real etcd: a WatchSink that records everything and lets a
 * test await a condition (never a sleep), and a reconnect delay the test can hold shut, so
 * writes provably happen while the watch is disconnected.
 */
import type { DelayFn } from '../../src/backoff.js';
import type { EtcdError } from '../../src/etcd/errors.js';
import type { WatchEvent } from '../../src/etcd/types.js';
import type { WatchSink, WatchState } from '../../src/etcd/watch.js';

export class Collector implements WatchSink {
  readonly events: WatchEvent[] = [];
  readonly batchRevisions: number[] = [];
  readonly progress: number[] = [];
  readonly statuses: WatchState[] = [];
  readonly errors: EtcdError[] = [];
  #waiters = new Set<() => void>();

  onEvents(events: WatchEvent[], revision: number): void {
    this.events.push(...events);
    this.batchRevisions.push(revision);
    this.#poke();
  }
  onProgress(revision: number): void {
    this.progress.push(revision);
    this.#poke();
  }
  onError(err: EtcdError): void {
    this.errors.push(err);
    this.#poke();
  }
  onStatus(state: WatchState): void {
    this.statuses.push(state);
    this.#poke();
  }

  /** "put /k 7" per event, for whole-sequence comparisons. */
  lines(): string[] {
    return this.events.map((e) => `${e.type} ${e.kv.key.toString()} ${e.kv.modRevision}`);
  }

  count(state: WatchState): number {
    return this.statuses.filter((s) => s === state).length;
  }

  /** Resolves once `predicate` holds (checked now and after every callback). */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; statuses=${this.statuses.join(',')} events=${this.events.length} errors=${this.errors.map((e) => e.code).join(',')}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #poke(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** A DelayFn that passes straight through until `hold()`, then waits for `release()`. */
export function gatedDelay(): { delay: DelayFn; hold(): void; release(): void; waiting(): number } {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let waiting = 0;
  return {
    delay: async (_ms, signal) => {
      if (gate === undefined || signal.aborted) return;
      waiting++;
      await Promise.race([gate, new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }))]);
      waiting--;
    },
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      open?.();
      gate = undefined;
    },
    waiting: () => waiting,
  };
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
