/**
 * Reconnect storm with resume: every client gets in sync (a full snapshot), the writer churns,
 * then on the runner's order every VU closes all its sockets (1000) and reopens them
 * RECONNECT_GAP_S later, offering its resume token {revision, datastoreId}. A control group
 * (SNAPSHOT_FRACTION of each VU's sockets) reconnects without one, i.e. with a full snapshot,
 * in the same storm. Records per reconnect: bytes and time to InSync, and the bytes relative to
 * the same socket's first (full snapshot) session.
 *
 * Fails when a resume is answered with a snapshot, resume bytes p95 pass RESUME_RATIO_P95 of a
 * snapshot, resume in-sync p95 passes RESUME_IN_SYNC_P95_MS, a client is not in sync or misses
 * the last write, a connection closes unasked, or a frame breaks the protocol.
 */
import { limit } from './lib/config.js';
import { scenarioOptions, summaryOutputs, vuMain } from './lib/scenario.js';

export const options = scenarioOptions({
  typha_resume_accepted: ['rate==1'],
  'typha_session_bytes_ratio{session:resume}': [`p(95)<${limit('RESUME_RATIO_P95', 0.25)}`],
  'typha_in_sync_ms{session:resume}': [`p(95)<${limit('RESUME_IN_SYNC_P95_MS', 10000)}`],
  typha_in_sync: ['rate==1'],
  typha_caught_up: ['rate==1'],
  typha_unexpected_close: ['rate==0'],
  typha_protocol_errors: ['count==0'],
  typha_stamped_updates: ['count>0'],
  // The control group and the first sessions, so the summary holds both sides of the comparison.
  'typha_in_sync_ms{session:initial}': [`p(95)<${limit('IN_SYNC_P95_MS', 60000)}`],
  'typha_in_sync_ms{session:snapshot}': [`p(95)<${limit('IN_SYNC_P95_MS', 60000)}`],
  'typha_session_bytes{session:initial}': ['min>0'],
  'typha_session_bytes{session:resume}': ['min>0'],
  'typha_session_bytes{session:snapshot}': ['min>0'],
  'typha_session_bytes_ratio{session:snapshot}': ['min>0'],
});

export default function () {
  return vuMain({ dropOnOrder: true });
}

export function handleSummary(data) {
  return summaryOutputs(data);
}
