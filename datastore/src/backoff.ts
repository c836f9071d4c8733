/**
 * Retry backoff as a plain policy (after nats.js), the one every retry loop of Cattail uses: the
 * etcd client's watch and keepalive reconnects, IPAM's compare-and-swap retries, Typha's
 * datastore relists and its sync client's reconnects. A list of base delays indexed by attempt,
 * the last one repeating, each scaled by a random factor in [1 - jitter, 1 + jitter] and capped
 * at `maxMs`, so a fleet that lost its server at the same instant does not come back at the same
 * instant. Randomness and waiting are injected so tests neither sleep nor flake.
 *
 * It lives in @cattail/datastore, the lowest package with a retry loop, and has its own subpath
 * (`@cattail/datastore/backoff`) so the Typha client takes it without loading the etcd client.
 * The policies themselves (how long, how random) stay beside the loop that uses each.
 */

export interface BackoffPolicy {
  /** Base delay in ms for attempt 0, 1, 2, …; the last entry repeats. */
  readonly delaysMs: readonly number[];
  /** 0..1: how far each delay may stray from its base, either way. */
  readonly jitter: number;
  /** No delay exceeds this, jitter included (default: no cap). */
  readonly maxMs?: number;
}

/** The delay before retry number `attempt` (0-based). `random` returns [0, 1) like Math.random. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const { delaysMs } = policy;
  if (delaysMs.length === 0) return 0;
  const base = delaysMs[Math.min(Math.max(attempt, 0), delaysMs.length - 1)];
  const ms = jittered(base, policy.jitter, random);
  return policy.maxMs === undefined ? ms : Math.min(ms, policy.maxMs);
}

/** `ms` scaled by a factor in [1 - fraction, 1 + fraction], rounded to whole ms. */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  const j = Math.min(Math.max(fraction, 0), 1);
  return Math.max(0, Math.round(ms * (1 - j + 2 * j * random())));
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
