/**
 * Deletions remembered for resume: a client that held a key and reconnects must learn that it
 * is gone, and the current state no longer mentions it. Kept in deletion order, so the oldest
 * are evicted first, by count and by age (injected clock, checked on use: no timers).
 *
 * `horizon` is the highest revision among the evicted: a client at or above it has seen every
 * deletion this set has forgotten, so it can still resume; below it, it needs a snapshot. A key
 * that comes back loses its tombstone (its new value, with a newer revision, says it all).
 */
import type { Update } from '../protocol/messages.js';

export interface TombstoneLimits {
  readonly max: number;
  readonly retentionMs: number;
}

interface Tombstone {
  readonly update: Update;
  readonly at: number;
}

export class Tombstones {
  readonly #byKey = new Map<string, Tombstone>();
  readonly #limits: TombstoneLimits;
  #horizon = 0;

  constructor(limits: TombstoneLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#byKey.size;
  }

  get horizon(): number {
    return this.#horizon;
  }

  /** Forgets every tombstone; clients below `horizon` must take a snapshot. */
  reset(horizon: number): void {
    this.#byKey.clear();
    this.#horizon = horizon;
  }

  /** Records a deletion (`update` has no value) at time `now`. */
  add(key: string, update: Update, now: number): void {
    this.#byKey.delete(key);
    this.#byKey.set(key, { update, at: now });
    this.expire(now);
  }

  remove(key: string): void {
    this.#byKey.delete(key);
  }

  /** Evicts the oldest until within count and age limits. */
  expire(now: number): void {
    const oldest = now - this.#limits.retentionMs;
    for (const [key, t] of this.#byKey) {
      if (this.#byKey.size <= this.#limits.max && t.at >= oldest) break;
      this.#byKey.delete(key);
      if (t.update.revision > this.#horizon) this.#horizon = t.update.revision;
    }
  }

  /** Appends every deletion with a revision above `revision` to `out`. */
  collectSince(revision: number, out: Update[]): void {
    for (const t of this.#byKey.values()) if (t.update.revision > revision) out.push(t.update);
  }
}
