/**
 * The custom k6 metrics every scenario records (created here, in the init context). Names start
 * with `typha_` so they sort together in k6's summary and never collide with k6's own `ws_*`.
 */
import { Counter, Rate, Trend } from 'k6/metrics';

/** Socket creation → InSync of a session, ms. Tag `session`: initial | resume | snapshot. */
export const inSyncMs = new Trend('typha_in_sync_ms', true);
/** One sample per socket: true once its first session reached InSync, false if it never did. */
export const inSyncRate = new Rate('typha_in_sync');
/** Write stamp → receipt (k6's read time of the frame), ms, for every stamped live update. */
export const deltaLatencyMs = new Trend('typha_delta_latency_ms', true);
/** Bytes of a session, ServerHello … InSync (payload + frame header). Tag `session`. */
export const sessionBytes = new Trend('typha_session_bytes');
/** A reconnect's session bytes ÷ the same socket's first (full snapshot) session bytes. Tag `session`. */
export const sessionBytesRatio = new Trend('typha_session_bytes_ratio');
/** One sample per resume attempt: true when the server answered mode "resume". */
export const resumeAccepted = new Rate('typha_resume_accepted');
/** One sample per close: true when nobody asked for it (server close, error, timeout). */
export const unexpectedClose = new Rate('typha_unexpected_close');
/** One sample per socket at the end: true when it was live at the writer's last revision. */
export const caughtUp = new Rate('typha_caught_up');
/** Frames that failed to decode or arrived out of protocol order. */
export const protocolErrors = new Counter('typha_protocol_errors');
/** Keys received in a full snapshot (the same for every socket of a run). */
export const snapshotKeys = new Trend('typha_snapshot_keys');
/** Stamped live updates received. */
export const stampedUpdates = new Counter('typha_stamped_updates');
/** Delta frames a snapshot session received between its pages and InSync (Typha's snapshot tail). */
export const snapshotTailFrames = new Counter('typha_snapshot_tail_frames');
