/**
 * Steady fan-out: VUS × SOCKETS clients in sync, then the runner's writer changes one
 * WorkloadEndpoint label per 1/CHURN_RATE s for CHURN_S s, each stamped with its write time.
 * Every client records write → receipt for every stamped update it receives live, so the
 * samples are writes × clients. Ends when every client has reached the writer's last revision.
 *
 * Fails when delta p50 / p99 pass LATENCY_P50_MS / LATENCY_P99_MS, a client is not in sync or
 * misses the last write, a connection closes unasked, or a frame breaks the protocol.
 */
import { limit } from './lib/config.js';
import { scenarioOptions, summaryOutputs, vuMain } from './lib/scenario.js';

export const options = scenarioOptions({
  typha_delta_latency_ms: [`p(50)<${limit('LATENCY_P50_MS', 100)}`, `p(99)<${limit('LATENCY_P99_MS', 250)}`],
  typha_stamped_updates: ['count>0'],
  typha_in_sync: ['rate==1'],
  typha_caught_up: ['rate==1'],
  typha_unexpected_close: ['rate==0'],
  typha_protocol_errors: ['count==0'],
  'typha_in_sync_ms{session:initial}': [`p(95)<${limit('IN_SYNC_P95_MS', 60000)}`],
  'typha_session_bytes{session:initial}': ['min>0'],
});

export default function () {
  return vuMain({});
}

export function handleSummary(data) {
  return summaryOutputs(data);
}
