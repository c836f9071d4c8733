/**
 * Where one invocation's time goes, for `bench:cni` and for anyone asking why an ADD was slow:
 * with `CATTAIL_CNI_TIMING=1` in the environment the plugin logs one extra line on stderr,
 *
 *   {"msg":"timing","marks":{"main":93.1,"config":97.4,"datastore":131.0,"ipam":168.2,…},
 *    "datastore":{"calls":9,"ms":21.7,"byOp":{"get":4,…}}}
 *
 * `marks` are milliseconds since the process started (performance.now(), whose origin is the
 * process's), so the first mark includes Node's own start-up and module loading; `datastore`
 * counts the calls through the Datastore boundary (each one round trip) and the time spent
 * waiting on them. Off (the default) it costs one environment lookup: nothing is wrapped.
 */
import type { Datastore } from '@cattail/datastore';

export const TIMING_ENV = 'CATTAIL_CNI_TIMING';

/** The Datastore methods that are one request each (watchPrefix and close are not counted). */
const COUNTED: ReadonlySet<string> = new Set(['get', 'list', 'create', 'update', 'delete', 'listPrefix', 'commit']);

export interface TimingReport {
  marks: Record<string, number>;
  datastore: { calls: number; ms: number; byOp: Record<string, number> };
}

export class PhaseTimer {
  readonly #marks: Record<string, number> = {};
  readonly #byOp: Record<string, number> = {};
  #calls = 0;
  #waitMs = 0;

  /** Records `name` at the current time (a later mark of the same name replaces it). */
  mark(name: string): void {
    this.#marks[name] = Math.round(performance.now() * 10) / 10;
  }

  /**
   * The datastore with each request counted and timed. A Proxy, not a subclass or a copy: the
   * backends keep their state in #private fields, so every method runs on the real object.
   */
  wrap(ds: Datastore): Datastore {
    return new Proxy(ds, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const fn = (value as (...args: unknown[]) => unknown).bind(target);
        if (typeof prop !== 'string' || !COUNTED.has(prop)) return fn;
        return async (...args: unknown[]) => {
          const start = performance.now();
          this.#calls++;
          this.#byOp[prop] = (this.#byOp[prop] ?? 0) + 1;
          try {
            return await fn(...args);
          } finally {
            this.#waitMs += performance.now() - start;
          }
        };
      },
    });
  }

  report(): TimingReport {
    return { marks: { ...this.#marks }, datastore: { calls: this.#calls, ms: Math.round(this.#waitMs * 10) / 10, byOp: { ...this.#byOp } } };
  }
}

/** A timer when the environment asks for one. */
export function timerFromEnv(env: Readonly<Record<string, string | undefined>>): PhaseTimer | undefined {
  return env[TIMING_ENV] === '1' ? new PhaseTimer() : undefined;
}
