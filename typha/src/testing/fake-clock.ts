/**
 * A Clock whose time moves only when the test calls `advance()`: timers fire inside it, in due
 * order (ties in the order they were set), timers set by a firing timer included when they fall
 * due within the same advance, and `now()` reads each timer's due time while it runs. So timing
 * is exact and nothing sleeps. The one fake of the common Clock for Typha's, Felix's and
 * confd's tests.
 */
import type { Clock, TimerHandle } from '../common/clock.js';

interface FakeTimer {
  due: number;
  seq: number;
  fn: (arg: never) => void;
  arg: unknown;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  // The Clock's members are arrow properties, as realClock's: bound, so `{ now: clock.now }` works.
  now = (): number => this.#now;

  readonly setTimeout = <A>(fn: (arg: A) => void, ms: number, arg: A): TimerHandle => {
    const id = ++this.#seq;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), seq: id, fn, arg });
    return id;
  };

  readonly clearTimeout = (handle: TimerHandle | undefined): void => {
    if (typeof handle === 'number') this.#timers.delete(handle);
  };

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due times (relative to now) of the pending timers, soonest first. */
  dueIn(): number[] {
    return [...this.#timers.values()].map((t) => t.due - this.#now).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, FakeTimer] | undefined;
      for (const e of this.#timers) {
        if (e[1].due <= end && (!next || e[1].due < next[1].due || (e[1].due === next[1].due && e[1].seq < next[1].seq))) next = e;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      if (next[1].due > this.#now) this.#now = next[1].due;
      (next[1].fn as (arg: unknown) => void)(next[1].arg);
    }
    this.#now = end;
  }
}
