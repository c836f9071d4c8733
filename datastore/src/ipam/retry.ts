/**
 * Bounded retry for compare-and-swap loops. Every IPAM write is a CAS on the record's
 * resourceVersion; a loser re-reads and tries again after a short jittered pause, so fifty
 * writers on one block spread out instead of colliding in lock-step. The budget is counted in
 * attempts (not time) so a test can reason about it; the pauses follow the shared backoff
 * policy (../backoff.ts).
 *
 * Randomness and waiting are injected (see {@link RetryPolicy}) so unit tests never sleep.
 */
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import { AlreadyExistsError, ConflictError } from '../errors.js';
import { IpamContentionError } from './errors.js';

export interface RetryPolicy {
  /** Attempts before giving up with IpamContentionError. */
  readonly maxAttempts: number;
  /** The pause after the n-th lost race. */
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly delay: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 100,
  // Full jitter (each pause uniform in [0, 2·base]): 0–2 ms, doubling to 0–50 ms.
  backoff: Object.freeze({ delaysMs: Object.freeze([1, 2, 4, 8, 16, 25]), jitter: 1 }),
  random: Math.random,
  delay: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
});

/** Lost a race: another writer changed or created the record first. */
export function isCasLoss(err: unknown): boolean {
  return err instanceof ConflictError || err instanceof AlreadyExistsError;
}

/**
 * Runs `attempt` until it returns a value; a CAS loss (ConflictError, AlreadyExistsError) is
 * retried after a pause, any other error is thrown at once.
 */
export async function withCasRetry<T>(policy: RetryPolicy, what: string, attempt: (n: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let n = 0; n < policy.maxAttempts; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isCasLoss(err)) throw err;
      last = err;
    }
    await policy.delay(backoffDelay(policy.backoff, n, policy.random));
  }
  throw new IpamContentionError(what, policy.maxAttempts, { cause: last });
}
