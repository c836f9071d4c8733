/**
 * Time, injected, for the server and the client alike. Every timer goes through a Clock, so a
 * test drives handshake timeouts, pings, backoff, lag limits and the staggered drain with a
 * fake clock and never sleeps. Timers take their argument the way Node's setTimeout does, so
 * callers pass named module-level functions and a connection allocates no closure per timer.
 */

/** Node's Timeout, or a fake clock's number: opaque to its holder. */
export type TimerHandle = object | number;

export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now: () => number;
  setTimeout: <A>(fn: (arg: A) => void, ms: number, arg: A) => TimerHandle;
  /** As Node's: clearing undefined or a handle that already fired does nothing. */
  clearTimeout: (handle: TimerHandle | undefined) => void;
}

export const realClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: <A>(fn: (arg: A) => void, ms: number, arg: A): TimerHandle => setTimeout(fn, ms, arg),
  clearTimeout: (handle: TimerHandle | undefined) => clearTimeout(handle as NodeJS.Timeout | undefined),
});

/** Wall-clock milliseconds since the epoch, for what a person reads (`connectedAt` in /status). */
export type WallClock = () => number;

export const realWallClock: WallClock = () => Date.now();
