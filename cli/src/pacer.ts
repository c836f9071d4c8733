/**
 * Keeps a long stretch of synchronous work (parsing and validating up to 32 MiB of manifests
 * takes seconds) interruptible. A signal handler is a callback like any other: while the work
 * holds the thread, SIGINT/SIGTERM wait. So the work calls `due()` in its loops (a counter
 * increment, and a clock read every CHECK_EVERY calls) and, when a time slice has gone by,
 * awaits `pause()`: one turn of the event loop, in which a pending signal aborts the command's
 * signal, then InterruptedError if it did.
 *
 * The longest the CLI can go without noticing a signal is then one slice plus the longest step
 * between two `due()` calls, which is composing one document (bounded by the input limits).
 *
 * Rejected: parsing in a worker thread that the main thread terminates on a signal. Every
 * command would pay a second isolate's start-up and the structured clone of every resource, to
 * shave the latency of a case (a signal during a multi-second parse) that pacing already
 * bounds.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { interruptedBy } from './errors.js';

/** Calls to `due()` between two clock reads: a lexeme or a resource is a microsecond or more. */
const CHECK_EVERY = 256;
/** Work between two turns of the event loop: short against a person waiting on Ctrl-C. */
const DEFAULT_SLICE_MS = 20;

export interface PacerOptions {
  sliceMs?: number;
  now?: () => number;
}

export class Pacer {
  readonly #signal: AbortSignal | undefined;
  readonly #sliceMs: number;
  readonly #now: () => number;
  #calls = 0;
  #sliceStart: number;

  constructor(signal: AbortSignal | undefined, opts: PacerOptions = {}) {
    this.#signal = signal;
    this.#sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
    this.#now = opts.now ?? performance.now.bind(performance);
    this.#sliceStart = this.#now();
  }

  /** True when the current slice is used up and the caller should `await pause()`. */
  due(): boolean {
    if (++this.#calls < CHECK_EVERY) return false;
    this.#calls = 0;
    return this.#now() - this.#sliceStart >= this.#sliceMs;
  }

  /** Lets the event loop run once; throws InterruptedError if a signal arrived meanwhile. */
  async pause(): Promise<void> {
    await nextTurn();
    this.#sliceStart = this.#now();
    this.check();
  }

  /** Throws InterruptedError if the signal has been aborted. */
  check(): void {
    if (this.#signal?.aborted) throw interruptedBy(this.#signal);
  }
}
