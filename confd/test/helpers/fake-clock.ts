// A Clock the test drives: timers fire only inside advance(), in due order, so timing is
// exact and nothing sleeps.
import type { Clock } from '@cattail/typha/client';

interface Timer {
  due: number;
  seq: number;
  fn: (arg: unknown) => void;
  arg: unknown;
}

export class FakeClock implements Clock {
  #now = 1_000;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  now(): number {
    return this.#now;
  }

  setTimeout<A>(fn: (arg: A) => void, ms: number, arg: A): unknown {
    const t: Timer = { due: this.#now + ms, seq: this.#seq++, fn: fn as (arg: unknown) => void, arg };
    this.#timers.add(t);
    return t;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as Timer);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#timers].filter((t) => t.due <= end).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers.delete(next);
      this.#now = next.due;
      next.fn(next.arg);
    }
    this.#now = end;
  }
}
