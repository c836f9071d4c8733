/**
 * Reconnect backoff as a plain policy (after nats.js): base delays indexed by attempt, the last
 * one repeating, each scaled by a random factor in [1 - jitter, 1 + jitter] and capped, so 5,000
 * agents that lost the same Typha at the same instant do not all come back at the same instant.
 * The attempt counter resets once a connection reaches in-sync, so a healthy client that loses
 * its replica reconnects at once (first entry 0) and only a flapping one slows down.
 */

export interface BackoffPolicy {
  /** Base delay in ms for attempt 0, 1, 2, …; the last entry repeats. */
  readonly delaysMs: readonly number[];
  /** 0..1: how far a delay may stray from its base, either way. */
  readonly jitter: number;
  /** No delay exceeds this, jitter included. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  delaysMs: Object.freeze([0, 250, 500, 1000, 2000, 5000]),
  jitter: 0.5,
  maxMs: 7500,
});

/** `random` returns [0, 1) like Math.random. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const { delaysMs } = policy;
  if (delaysMs.length === 0) return 0;
  const base = delaysMs[Math.min(Math.max(attempt, 0), delaysMs.length - 1)];
  return Math.min(jittered(base, policy.jitter, random), policy.maxMs);
}

/** `ms` scaled by a factor in [1 - fraction, 1 + fraction], rounded to whole ms. */
export function jittered(ms: number, fraction: number, random: () => number): number {
  const j = Math.min(Math.max(fraction, 0), 1);
  return Math.max(0, Math.round(ms * (1 - j + 2 * j * random())));
}
