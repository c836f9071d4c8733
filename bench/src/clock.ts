/**
 * One clock for every process of a benchmark run: CLOCK_MONOTONIC via `process.hrtime`, which on
 * Linux is the same clock in the parent, the swarm workers and the churn writer, so a write time
 * stamped by one process and a receipt time read by another subtract meaningfully.
 * `performance.now()` would not do: its origin is each process's own start.
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The churn label's value: monotonic nanoseconds as decimal digits (a valid label value). */
export function monoStamp(): string {
  return process.hrtime.bigint().toString();
}

export function stampToMs(stamp: string): number {
  return Number(stamp) / 1e6;
}
