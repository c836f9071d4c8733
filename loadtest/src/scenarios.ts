/**
 * The four scenarios as the runner drives them. k6 holds the sockets and measures; the runner
 * starts k6, waits on the VUs' tick reports (never on a sleep), writes the churn, gives orders
 * (drop, slowFromMs, stop) through the control answers, and collects the figures.
 *
 *   all:             start k6 ─▶ until every socket is in sync ─▶ [scenario phase] ─▶ stop ─▶ k6 exits
 *   connect-storm:   phase = optional short churn, then drain (every client at the last revision)
 *   steady-fanout:   phase = churn at --rate for --duration, then drain
 *   reconnect-storm: phase = churn for --duration + --gap + 5 s; after --duration: drop; until
 *                    every socket is back in sync; then drain
 *   slow-consumers:  phase = churn for 2 × --duration; after --duration: --slow slow consumers
 *                    connect beside the k6 clients; then drain
 *
 * This module is the frame (k6, the in-sync wait, stop, collect); the scenario phase is
 * scenario-phase.ts. A wait that times out is recorded in `errors` and the run still stops k6
 * cleanly, so its summary (with failed thresholds) is kept.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TS_LABEL, type ChurnResult } from '@cattail/bench';
import { ControlServer } from './control-server.js';
import { K6_DIR } from './k6-binary.js';
import { K6Process, type K6Exit } from './k6-process.js';
import type { RunOptions } from './options.js';
import { scenarioPhase } from './scenario-phase.js';
import type { SlowConsumer, SlowConsumerStats } from './slow-consumer.js';
import type { SystemUnderTest } from './system.js';
import type { TimelinePoint } from './timeline.js';

export interface ScenarioRun {
  startedAt: string;
  k6Exit: K6Exit;
  /** k6's handleSummary JSON (undefined if k6 died before writing it). */
  k6Summary: K6Summary | undefined;
  clockOffsetMs: number;
  /** Runner's view: k6 start → every socket reported in sync. */
  inSyncAllMs: number | undefined;
  churn: ChurnResult | undefined;
  /** Runner's view: last write → every client at the writer's last revision. */
  drainMs: number | undefined;
  /** reconnect-storm: drop order → every socket in sync again. */
  reconnectAllMs: number | undefined;
  slowFromMs: number | undefined;
  /** Runner-side latency percentiles per phase, from the VUs' bins (k6's tags are exact). */
  phases: Record<string, { count: number; p50: number; p90: number; p99: number; max: number }>;
  slowConsumers: SlowConsumerStats[] | undefined;
  slowConsumerTyphaView: Array<{ node: string; state: string; mode: string | null; lagMs: number; bufferedBytes: number }> | undefined;
  typha: { cpuSeconds?: number; rssMB?: number; peakRssMB?: number; metrics?: Record<string, number> } | undefined;
  timeline: TimelinePoint[];
  controlReports: number;
  /** Unasked closes seen by the k6 clients, by close code (1006: no close frame). */
  closeCodes: Record<string, number>;
  /** 1-minute load average at the start and the end (the machine is shared). */
  loadAvg: { start: number; end: number };
  errors: string[];
}

export interface K6Summary {
  metrics: Record<string, { type: string; contains?: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  state?: { testRunDurationMs?: number };
}

const SCRIPT: Record<RunOptions['scenario'], string> = {
  'connect-storm': 'connect-storm.js',
  'steady-fanout': 'steady-fanout.js',
  'reconnect-storm': 'reconnect-storm.js',
  'slow-consumers': 'slow-consumers.js',
};

/** Typha settings a scenario needs beyond the defaults (none today; --typha-env adds more). */
export function scenarioTyphaEnv(_o: RunOptions): Record<string, string> {
  return {};
}

/**
 * Runs one scenario against `sut` and returns what the runner saw; k6's own figures are in
 * `k6Summary`. The sequence: start k6 ─▶ until every socket is in sync ─▶ the scenario phase
 * (scenario-phase.ts) ─▶ stop k6 ─▶ collect.
 */
export async function runScenario(
  o: RunOptions,
  sut: SystemUnderTest,
  k6Path: string,
  outDir: string,
  clockOffsetMs: number,
  log: (msg: string) => void,
): Promise<ScenarioRun> {
  mkdirSync(outDir, { recursive: true });
  const startMs = Date.now();
  const control = await ControlServer.start(startMs);
  const summaryPath = join(outDir, 'k6-summary.json');
  const run = emptyRun(startMs, clockOffsetMs);
  log(`k6: ${o.vus} VUs × ${o.sockets} sockets → ${sut.info.typhaUrl}`);
  const k6 = startK6(o, k6Path, k6Env(o, sut, control.url, clockOffsetMs, summaryPath), control);
  const sampler = setInterval(() => void sampleTypha(sut, control), 1000);
  const slow: SlowConsumer[] = [];
  try {
    await untilAllInSync(o, control, run, startMs, k6.abort, log);
    if (run.errors.length === 0 && o.rate > 0 && o.durationS > 0) {
      await scenarioPhase({ o, sut, control, run, slow, log, abort: k6.abort });
    }
  } catch (err) {
    run.errors.push((err as Error).message);
  } finally {
    clearInterval(sampler);
    await stop(k6.process, control, run, slow, log);
  }
  await collect(o, sut, control, run, summaryPath);
  return run;
}

/** What the k6 script reads from its environment; --env values last, so they win. */
function k6Env(o: RunOptions, sut: SystemUnderTest, controlUrl: string, clockOffsetMs: number, summaryPath: string): Record<string, string> {
  const maxS = o.inSyncTimeoutS + o.rampS + 2 * o.durationS + o.gapS + 300;
  return {
    TYPHA_URL: sut.info.typhaUrl,
    SYNCER: o.syncer,
    VUS: String(o.vus),
    SOCKETS: String(o.sockets),
    RAMP_S: String(o.rampS),
    IN_SYNC_TIMEOUT_S: String(o.inSyncTimeoutS),
    MAX_S: String(maxS),
    CONTROL_URL: controlUrl,
    CLOCK_OFFSET_MS: String(clockOffsetMs),
    TS_LABEL,
    RECONNECT_GAP_S: String(o.gapS),
    SNAPSHOT_FRACTION: o.scenario === 'reconnect-storm' ? String(o.snapshotFraction) : '0',
    CHURN_RATE: String(o.durationS > 0 ? o.rate : 0),
    SUMMARY_PATH: summaryPath,
    ...o.k6Env,
  };
}

function emptyRun(startMs: number, clockOffsetMs: number): ScenarioRun {
  return {
    startedAt: new Date(startMs).toISOString(),
    k6Exit: { code: null, signal: null, peakRssMB: 0, cpuSeconds: 0, tail: '' },
    k6Summary: undefined,
    clockOffsetMs,
    inSyncAllMs: undefined,
    churn: undefined,
    drainMs: undefined,
    reconnectAllMs: undefined,
    slowFromMs: undefined,
    phases: {},
    slowConsumers: undefined,
    slowConsumerTyphaView: undefined,
    typha: undefined,
    timeline: [],
    controlReports: 0,
    closeCodes: {},
    loadAvg: { start: loadAvg1(), end: NaN },
    errors: [],
  };
}

/**
 * Starts k6 on the scenario's script. `abort()` says why waiting on the VUs is pointless once k6
 * has exited (with its output); the control server's waiters are poked so they notice at once.
 */
function startK6(o: RunOptions, k6Path: string, env: Record<string, string>, control: ControlServer): { process: K6Process; abort: () => string | undefined } {
  const k6 = new K6Process(k6Path, join(K6_DIR, SCRIPT[o.scenario]), env, o.verbose ? (l) => process.stderr.write(`[k6] ${l}\n`) : undefined);
  let k6Exit: K6Exit | undefined;
  void k6.exited.then((e) => {
    k6Exit = e;
    control.poke();
  });
  const abort = (): string | undefined =>
    k6Exit === undefined ? undefined : `k6 exited early (code ${k6Exit.code ?? k6Exit.signal}); its output:\n${k6Exit.tail}`;
  return { process: k6, abort };
}

/** Until every VU has reported and every socket has been in sync; a timeout is recorded in `run.errors`. */
async function untilAllInSync(
  o: RunOptions,
  control: ControlServer,
  run: ScenarioRun,
  startMs: number,
  abort: () => string | undefined,
  log: (msg: string) => void,
): Promise<void> {
  const total = o.vus * o.sockets;
  try {
    await control.until(
      () => control.latest.size >= o.vus && control.sum('everInSync') >= total,
      (o.inSyncTimeoutS + o.rampS + 60) * 1000,
      `every one of ${total} sockets in sync`,
      abort,
    );
    run.inSyncAllMs = Date.now() - startMs;
    log(`all ${total} sockets in sync after ${run.inSyncAllMs} ms`);
  } catch (err) {
    run.errors.push((err as Error).message);
  }
}

/** Orders the VUs to stop and waits for k6 to exit (it writes its summary then); closes what the run opened. */
async function stop(k6: K6Process, control: ControlServer, run: ScenarioRun, slow: readonly SlowConsumer[], log: (msg: string) => void): Promise<void> {
  control.control.stop = true;
  log('stopping k6');
  run.k6Exit = await k6.wait(120_000);
  for (const s of slow) s.stop();
  run.slowConsumers = slow.length > 0 ? slow.map((s) => s.stats) : undefined;
  await control.close();
}

/** k6's summary, Typha's figures and the timeline, after k6 has exited. */
async function collect(o: RunOptions, sut: SystemUnderTest, control: ControlServer, run: ScenarioRun, summaryPath: string): Promise<void> {
  try {
    run.k6Summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as K6Summary;
  } catch {
    run.errors.push(`k6 wrote no summary to ${summaryPath}; its output:\n${run.k6Exit.tail}`);
  }
  const proc = sut.typhaProc();
  run.typha = proc === undefined ? undefined : { ...proc, metrics: await sut.typhaMetrics() };
  run.timeline = control.timeline.points();
  run.controlReports = control.reports;
  run.closeCodes = control.closeCodes();
  run.loadAvg.end = loadAvg1();
  if (o.scenario === 'slow-consumers') {
    run.phases = { baseline: control.timeline.phaseSummary('baseline'), slow: control.timeline.phaseSummary('slow') };
  } else {
    run.phases = { all: control.timeline.phaseSummary('all') };
  }
}

function loadAvg1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

async function sampleTypha(sut: SystemUnderTest, control: ControlServer): Promise<void> {
  const now = Date.now();
  const proc = sut.typhaProc();
  if (proc !== undefined) {
    control.timeline.addExtra(now, 'typhaRssMB', Math.round(proc.rssMB));
    control.timeline.addExtra(now, 'typhaCpuS', Math.round(proc.cpuSeconds * 10) / 10);
  }
  // /metrics rather than /status: /status lists every client, which is heavy at thousands.
  const mt = await sut.typhaMetrics();
  if (mt === undefined) return;
  if (mt.typha_connections_active !== undefined) control.timeline.addExtra(now, 'typhaConnections', mt.typha_connections_active);
  if (mt.typha_connections_lagging !== undefined) control.timeline.addExtra(now, 'typhaLagging', mt.typha_connections_lagging);
}
