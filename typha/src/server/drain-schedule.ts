/**
 * Closing a set of connections evenly over a period, on injected timers: the SIGTERM hand-off.
 * Calico's Typha drops one connection per interval (ShutdownTimeout × 95% / N) so the agents
 * do not all reconnect to the remaining replicas in the same second; this does the same, and
 * also tells each agent when to come back.
 *
 *   N targets over D ms: target i is due at start + i·D/N   (the first at once, the last at
 *                                                           (N-1)/N · D, before the deadline)
 *   each step closes every target already due, then sleeps until the next one is.
 *
 * Goodbye.delayMs staggers the reconnects the same way: target i is told to wait
 * `base + (due_i − now)`, so that when a timer fires late and several targets close in one
 * step, their reconnects are still spread as if each had been closed on time (`base` is the
 * caller's hint.delayMs, default 0).
 */
import type { DropReason } from '../metrics/server-metrics.js';
import type { Clock, TimerHandle } from '../common/clock.js';
import type { GoodbyeHint } from './options.js';

export interface DrainTarget {
  readonly active: boolean;
  goodbye(code: number, reason: string, hint: GoodbyeHint | undefined, drop: DropReason): void;
}

export interface DrainScheduleOptions {
  durationMs: number;
  hint: GoodbyeHint | undefined;
  code: number;
  reason: string;
  drop: DropReason;
  clock: Clock;
}

export class DrainSchedule {
  readonly #targets: readonly DrainTarget[];
  readonly #o: DrainScheduleOptions;
  readonly #start: number;
  #next = 0;
  #timer: TimerHandle | undefined;
  #done = false;

  constructor(targets: readonly DrainTarget[], opts: DrainScheduleOptions) {
    this.#targets = targets;
    this.#o = opts;
    this.#start = opts.clock.now();
  }

  /** Targets not yet told to go. */
  get remaining(): number {
    return this.#targets.length - this.#next;
  }

  /** Closes what is due now and arms the timer for the rest. */
  start(): void {
    this.step();
  }

  step(): void {
    this.#timer = undefined;
    if (this.#done) return;
    const { clock, hint, code, reason, drop } = this.#o;
    const n = this.#targets.length;
    const now = clock.now();
    while (this.#next < n && this.#dueAt(this.#next) <= now) {
      const target = this.#targets[this.#next];
      const due = this.#dueAt(this.#next);
      this.#next++;
      if (!target.active) continue;
      const delayMs = Math.max(0, Math.round((hint?.delayMs ?? 0) + due - now));
      const h: GoodbyeHint = { delayMs };
      if (hint?.reconnect !== undefined) h.reconnect = hint.reconnect;
      target.goodbye(code, reason, h, drop);
    }
    if (this.#next >= n) {
      this.#done = true;
      return;
    }
    this.#timer = clock.setTimeout(drainScheduleOnTimer, Math.max(0, Math.ceil(this.#dueAt(this.#next) - now)), this);
  }

  cancel(): void {
    this.#done = true;
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #dueAt(i: number): number {
    return this.#start + (i * this.#o.durationMs) / this.#targets.length;
  }
}

function drainScheduleOnTimer(s: DrainSchedule): void {
  s.step();
}
