/**
 * Latency bins shared by the k6 scenarios and the runner (loadtest/src/timeline.ts mirrors
 * binIndex/binUpperMs; a unit test checks the two agree). Each VU counts its latencies per
 * second in these bins and posts the counts to the runner, which adds them over VUs: the
 * percentiles over time in the chart are exact to the bin width.
 *
 *   0 ≤ ms < 100     0.5 ms bins   (bins 0..199)
 *   100 ≤ ms < 1000  5 ms bins     (bins 200..379)
 *   1 s ≤ ms < 60 s  100 ms bins   (bins 380..969)
 *   ≥ 60 s           one overflow bin (970)
 */
export const BIN_COUNT = 971;

export function binIndex(ms) {
  if (!(ms > 0)) return 0;
  if (ms < 100) return Math.floor(ms * 2);
  if (ms < 1000) return 200 + Math.floor((ms - 100) / 5);
  if (ms < 60000) return 380 + Math.floor((ms - 1000) / 100);
  return 970;
}
