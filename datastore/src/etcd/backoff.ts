/**
 * Reconnect backoff as a plain policy (after nats.js): a list of base delays indexed by attempt,
 * the last one repeating, each scaled by a random factor in [1 - jitter, 1 + jitter] so a fleet
 * of watchers that lost etcd at the same instant does not come back at the same instant.
 * Randomness and waiting are injected so tests neither sleep nor flake.
 */

export interface BackoffPolicy {
  /** Base delay in ms for attempt 0, 1, 2, ...; the last entry repeats. */
  readonly delaysMs: readonly number[];
  /** 0..1: how far each delay may stray from its base, either way. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  delaysMs: Object.freeze([50, 100, 250, 500, 1000, 2000, 4000]),
  jitter: 0.5,
});

/** `random` returns [0, 1) like Math.random. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const { delaysMs, jitter } = policy;
  if (delaysMs.length === 0) return 0;
  const base = delaysMs[Math.min(Math.max(attempt, 0), delaysMs.length - 1)];
  const j = Math.min(Math.max(jitter, 0), 1);
  const factor = 1 - j + 2 * j * random();
  return Math.max(0, Math.round(base * factor));
}

/** Waits `ms`, or less if `signal` aborts (close() during a backoff must not wait it out). */
export type DelayFn = (ms: number, signal: AbortSignal) => Promise<void>;

export const realDelay: DelayFn = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
