/**
 * Connect storm: VUS × SOCKETS Felix-like connections, each VU opening its sockets over RAMP_S
 * (0: all at once), each socket held until the runner stops the run. Records every socket's
 * time from `new WebSocket` to InSync. With the runner's optional short churn, also the delta
 * latency of the connected clients.
 *
 * Fails (k6 exits non-zero) when a socket is not in sync within IN_SYNC_TIMEOUT_S, the p95 time
 * to in-sync passes IN_SYNC_P95_MS, any connection closes unasked, a frame breaks the protocol,
 * or (with churn) delta p99 passes LATENCY_P99_MS or a client misses the last write.
 */
import { limit } from './lib/config.js';
import { scenarioOptions, summaryOutputs, vuMain } from './lib/scenario.js';

const thresholds = {
  typha_in_sync: ['rate==1'],
  'typha_in_sync_ms{session:initial}': [`p(95)<${limit('IN_SYNC_P95_MS', 30000)}`],
  typha_unexpected_close: ['rate==0'],
  typha_protocol_errors: ['count==0'],
  typha_snapshot_keys: ['min>0'],
  'typha_session_bytes{session:initial}': ['min>0'],
};
if (limit('CHURN_RATE', 0) > 0) {
  thresholds.typha_delta_latency_ms = [`p(99)<${limit('LATENCY_P99_MS', 250)}`];
  thresholds.typha_caught_up = ['rate==1'];
  thresholds.typha_stamped_updates = ['count>0'];
}

export const options = scenarioOptions(thresholds);

export default function () {
  return vuMain({});
}

export function handleSummary(data) {
  return summaryOutputs(data);
}
