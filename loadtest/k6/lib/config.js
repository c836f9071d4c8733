/**
 * The scenario settings, read once from the environment the runner (loadtest/src/run.ts) sets.
 * Every value has a default so a script also runs by hand:
 *   k6 run -e TYPHA_URL=ws://127.0.0.1:5473 -e SOCKETS=50 loadtest/k6/connect-storm.js
 */
function num(name, dflt) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v)) throw new Error(`${name} must be a number, got "${raw}"`);
  return v;
}

function str(name, dflt) {
  const raw = __ENV[name];
  return raw === undefined || raw === '' ? dflt : raw;
}

export const config = Object.freeze({
  /** Typha's sync endpoint base, without the path. */
  typhaUrl: str('TYPHA_URL', 'ws://127.0.0.1:5473'),
  syncer: str('SYNCER', 'felix'),
  vus: num('VUS', 1),
  /** Sockets held by each VU. */
  sockets: num('SOCKETS', 10),
  /** Each VU opens its sockets evenly over this many seconds (0: all at once). */
  rampS: num('RAMP_S', 0),
  /** A socket not in sync this long after its creation counts as failed (it keeps trying). */
  inSyncTimeoutS: num('IN_SYNC_TIMEOUT_S', 120),
  /** Hard stop for a VU, whatever the runner says. */
  maxS: num('MAX_S', 600),
  /** The runner's control endpoint (ticks and orders); empty: run alone until MAX_S. */
  controlUrl: str('CONTROL_URL', ''),
  /** Wall clock (ms) minus CLOCK_MONOTONIC (ms) on this host, measured by the runner. */
  clockOffsetMs: num('CLOCK_OFFSET_MS', NaN),
  tsLabel: str('TS_LABEL', 'bench.cattail/ts'),
  nodePrefix: str('NODE_PREFIX', 'k6'),
  /** Reconnect storm: seconds between the drop and the reconnect. */
  reconnectGapS: num('RECONNECT_GAP_S', 10),
  /** Reconnect storm: this fraction of the sockets reconnects without a resume token. */
  snapshotFraction: num('SNAPSHOT_FRACTION', 0.1),
  /** Where handleSummary writes k6's summary JSON. */
  summaryPath: str('SUMMARY_PATH', 'k6-summary.json'),
});

/** A threshold value from the environment (so a run can tighten or loosen it), else the default. */
export function limit(name, dflt) {
  return num(name, dflt);
}
