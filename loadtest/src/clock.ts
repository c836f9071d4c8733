/**
 * The clock the k6 clients compare write stamps against.
 *
 * The churn writer (bench/src/churn.ts) stamps CLOCK_MONOTONIC nanoseconds, which k6 cannot
 * read: its JavaScript has only `Date.now()` (whole ms) and its WebSocket events carry the
 * wall-clock time at which k6's reader goroutine got the frame (`event.timestamp`, µs
 * resolution). So the runner measures wall − monotonic once, on the same host, and the k6
 * scripts add it to each stamp. Rejected: a second, wall-clock label written by a new writer
 * (a copy of the churn writer, and two stamps in every update).
 *
 * Precision: Date.now() truncates to the ms, so the offset is taken at a ms edge: spin until
 * Date.now() changes, and the monotonic time read right then is within a few µs of that edge.
 * An NTP step during a run would shift every latency by the step; slewing is ≤ 0.5 ms/s.
 */
import { monoMs } from '@cattail/bench';

export function wallMinusMonoMs(rounds = 5): number {
  let best = -Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = Date.now();
    let now = start;
    let mono = 0;
    // Bounded: Date.now() changes within 1 ms.
    for (let spins = 0; now === start && spins < 10_000_000; spins++) {
      now = Date.now();
      mono = monoMs();
    }
    // now is the first ms value seen; the true wall time at `mono` is ≥ now, < now + spin time.
    const offset = now - mono;
    if (offset > best) best = offset;
  }
  return best;
}
