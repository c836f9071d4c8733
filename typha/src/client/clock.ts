/**
 * Time, injected. Every timer the client starts goes through a Clock, so a test drives
 * timeouts, pings and backoff with a fake clock and never sleeps for real. Timers take their
 * argument the way Node's setTimeout does, so callers pass named module-level functions instead
 * of allocating a closure per timer.
 */

export type TimerHandle = unknown;

export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  setTimeout<A>(fn: (arg: A) => void, ms: number, arg: A): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: <A>(fn: (arg: A) => void, ms: number, arg: A): TimerHandle => setTimeout(fn, ms, arg),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as NodeJS.Timeout),
});
