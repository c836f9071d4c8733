/**
 * Slow consumers mixed with normal ones: the k6 clients here are the normal ones. The runner
 * churns for a baseline phase, then opens SLOW consumers beside them (Node sockets that read at
 * a trickle or not at all: k6's WebSocket reader always drains its socket into memory, so a k6
 * VU cannot be slow on the wire) while the churn goes on. Every latency sample is tagged with
 * its phase by write time (`baseline` before the runner's slowFromMs, `slow` after).
 *
 * Fails when the normal clients' delta p99 passes LATENCY_P99_MS in either phase (the same
 * limit for both: their latency must not move), a normal client is not in sync or misses the
 * last write, a normal connection closes unasked, or a frame breaks the protocol. The runner
 * also reports the slow-phase p99 ÷ baseline p99.
 */
import { limit } from './lib/config.js';
import { scenarioOptions, summaryOutputs, vuMain } from './lib/scenario.js';

const p99 = `p(99)<${limit('LATENCY_P99_MS', 250)}`;
export const options = scenarioOptions({
  'typha_delta_latency_ms{phase:baseline}': [p99],
  'typha_delta_latency_ms{phase:slow}': [p99],
  typha_in_sync: ['rate==1'],
  typha_caught_up: ['rate==1'],
  typha_unexpected_close: ['rate==0'],
  typha_protocol_errors: ['count==0'],
  'typha_stamped_updates{phase:baseline}': ['count>0'],
  'typha_stamped_updates{phase:slow}': ['count>0'],
  'typha_in_sync_ms{session:initial}': [`p(95)<${limit('IN_SYNC_P95_MS', 60000)}`],
  'typha_session_bytes{session:initial}': ['min>0'],
});

export default function () {
  return vuMain({ phaseTags: true });
}

export function handleSummary(data) {
  return summaryOutputs(data);
}
