/**
 * The run loop every kube-controllers controller shares (the IPAM collector, the sync
 * controllers, the automatic host endpoints): one async pass at a time, again after a period,
 * sooner when asked.
 *
 *   now()  ─ a pass now; asked during a pass: one more soon after it (never two at once)
 *   soon() ─ a pass after soonMs (a change was seen); during a pass: one more after it
 *   pass ends ─▶ the next one after soonMs if one was asked for (or the pass failed and
 *                onError says so), else after nextMs()
 *   stop() ─ no further pass; waits for the one in progress
 */
import type { Clock, TimerHandle } from '@cattail/typha/common';

export interface SerialRunnerOptions {
  clock: Clock;
  /** The delay of a pass asked for by soon(), or during another pass. */
  soonMs: number;
  /** The delay until the next pass when none was asked for. */
  nextMs: () => number;
  /** A pass failed: report it; true runs the next one soon, false after nextMs(). */
  onError: (err: unknown) => boolean;
}

function runNow(r: SerialRunner): void {
  r.now();
}

export class SerialRunner {
  readonly #pass: () => Promise<void>;
  readonly #o: SerialRunnerOptions;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(pass: () => Promise<void>, opts: SerialRunnerOptions) {
    this.#pass = pass;
    this.#o = opts;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Runs a pass now, then on the schedule; false when it was running already. */
  start(): boolean {
    if (!this.#stopped) return false;
    this.#stopped = false;
    this.now();
    return true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.clock.clearTimeout(this.#timer);
    await this.#running;
  }

  /** A pass now (or, during one, one more soon after it). */
  now(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#o.clock.clearTimeout(this.#timer);
    this.#running = this.#pass()
      .catch((err: unknown) => {
        if (this.#o.onError(err)) this.#again = true;
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#stopped) return;
        const next = this.#again ? this.#o.soonMs : this.#o.nextMs();
        this.#again = false;
        this.#timer = this.#o.clock.setTimeout(runNow, next, this);
      });
  }

  /** A pass soonMs from now (or, during one, one more soon after it). */
  soon(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(runNow, this.#o.soonMs, this);
  }

  /** From inside a pass: its result is already stale (a write lost a race); one more soon. */
  again(): void {
    this.#again = true;
  }
}
