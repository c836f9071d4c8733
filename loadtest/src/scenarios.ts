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
 * A wait that times out is recorded in `errors` and the run still stops k6 cleanly, so its
 * summary (with failed thresholds) is kept.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { churn, TS_LABEL, type ChurnResult } from '@cattail/bench';
import { ControlServer } from './control-server.js';
import { K6_DIR } from './k6-binary.js';
import { K6Process, type K6Exit } from './k6-process.js';
import type { RunOptions } from './options.js';
import { SlowConsumer, type SlowConsumerStats } from './slow-consumer.js';
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

export async function runScenario(
  o: RunOptions,
  sut: SystemUnderTest,
  k6Path: string,
  outDir: string,
  clockOffsetMs: number,
  log: (msg: string) => void,
): Promise<ScenarioRun> {
  mkdirSync(outDir, { recursive: true });
  const total = o.vus * o.sockets;
  const errors: string[] = [];
  const startMs = Date.now();
  const control = await ControlServer.start(startMs);
  const summaryPath = join(outDir, 'k6-summary.json');
  const maxS = o.inSyncTimeoutS + o.rampS + 2 * o.durationS + o.gapS + 300;
  const env: Record<string, string> = {
    TYPHA_URL: sut.info.typhaUrl,
    SYNCER: o.syncer,
    VUS: String(o.vus),
    SOCKETS: String(o.sockets),
    RAMP_S: String(o.rampS),
    IN_SYNC_TIMEOUT_S: String(o.inSyncTimeoutS),
    MAX_S: String(maxS),
    CONTROL_URL: control.url,
    CLOCK_OFFSET_MS: String(clockOffsetMs),
    TS_LABEL,
    RECONNECT_GAP_S: String(o.gapS),
    SNAPSHOT_FRACTION: o.scenario === 'reconnect-storm' ? String(o.snapshotFraction) : '0',
    CHURN_RATE: String(o.durationS > 0 ? o.rate : 0),
    SUMMARY_PATH: summaryPath,
    ...o.k6Env,
  };
  const run: ScenarioRun = {
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
    errors,
  };

  log(`k6: ${o.vus} VUs × ${o.sockets} sockets → ${sut.info.typhaUrl}`);
  const k6 = new K6Process(k6Path, join(K6_DIR, SCRIPT[o.scenario]), env, o.verbose ? (l) => process.stderr.write(`[k6] ${l}\n`) : undefined);
  let k6Exit: K6Exit | undefined;
  void k6.exited.then((e) => {
    k6Exit = e;
    control.poke();
  });
  const abort = (): string | undefined => (k6Exit === undefined ? undefined : `k6 exited early (code ${k6Exit.code ?? k6Exit.signal}); its output:\n${k6Exit.tail}`);
  const sampler = setInterval(() => void sampleTypha(sut, control), 1000);
  const slow: SlowConsumer[] = [];
  try {
    const allReported = (): boolean => control.latest.size >= o.vus;
    try {
      await control.until(() => allReported() && control.sum('everInSync') >= total, (o.inSyncTimeoutS + o.rampS + 60) * 1000, `every one of ${total} sockets in sync`, abort);
      run.inSyncAllMs = Date.now() - startMs;
      log(`all ${total} sockets in sync after ${run.inSyncAllMs} ms`);
    } catch (err) {
      errors.push((err as Error).message);
    }
    if (errors.length === 0 && o.rate > 0 && o.durationS > 0) {
      await phase(o, sut, control, run, slow, log, abort);
    }
  } catch (err) {
    errors.push((err as Error).message);
  } finally {
    clearInterval(sampler);
    control.control.stop = true;
    log('stopping k6');
    run.k6Exit = await k6.wait(120_000);
    for (const s of slow) s.stop();
    run.slowConsumers = slow.length > 0 ? slow.map((s) => s.stats) : undefined;
    await control.close();
  }
  try {
    run.k6Summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as K6Summary;
  } catch {
    errors.push(`k6 wrote no summary to ${summaryPath}; its output:\n${run.k6Exit.tail}`);
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
  return run;
}

async function phase(
  o: RunOptions,
  sut: SystemUnderTest,
  control: ControlServer,
  run: ScenarioRun,
  slow: SlowConsumer[],
  log: (msg: string) => void,
  abort: () => string | undefined,
): Promise<void> {
  if (sut.client === undefined) throw new Error('no etcd client for the churn writer');
  const total = o.vus * o.sockets;
  let churnS = o.durationS;
  if (o.scenario === 'reconnect-storm') churnS = o.durationS + o.gapS + 5;
  if (o.scenario === 'slow-consumers') churnS = 2 * o.durationS;
  const churnStart = Date.now();
  if (o.scenario === 'slow-consumers') {
    run.slowFromMs = churnStart + o.durationS * 1000;
    control.control.slowFromMs = run.slowFromMs;
    control.phaseOf = (r) => (r.at >= (run.slowFromMs as number) + 1000 ? 'slow' : 'baseline');
  }
  log(`churn: ${o.rate} writes/s for ${churnS} s`);
  const writer = churn({ client: sut.client, weps: sut.weps, rate: o.rate, durationMs: churnS * 1000, seed: o.seed + 1 });

  if (o.scenario === 'reconnect-storm') {
    await at(churnStart + o.durationS * 1000);
    const dropAt = Date.now();
    control.control.drop = 1;
    log(`drop: every socket closes and comes back after ${o.gapS} s`);
    try {
      await control.until(
        () => [...control.latest.values()].every((r) => r.dropGen >= 1) && control.sum('live') >= total,
        (o.gapS + o.inSyncTimeoutS + 30) * 1000,
        `every one of ${total} sockets back in sync after the drop`,
        abort,
      );
      run.reconnectAllMs = Date.now() - dropAt;
      log(`all ${total} sockets back in sync ${run.reconnectAllMs} ms after the drop order`);
    } catch (err) {
      run.errors.push((err as Error).message);
    }
  }
  if (o.scenario === 'slow-consumers' && o.slow > 0) {
    await at(run.slowFromMs as number);
    log(`slow consumers: ${o.slow} reading ${o.slowRate > 0 ? `${o.slowRate} B/s` : 'nothing'}`);
    const opened = await Promise.allSettled(
      Array.from({ length: o.slow }, (_, i) =>
        SlowConsumer.open({ url: sut.info.typhaUrl, node: `slow-${String(i).padStart(4, '0')}`, syncer: o.syncer, readBytesPerSec: o.slowRate }),
      ),
    );
    for (const r of opened) {
      if (r.status === 'fulfilled') slow.push(r.value);
      else run.errors.push(`slow consumer: ${(r.reason as Error).message}`);
    }
  }

  run.churn = await writer;
  const lastWrite = Date.now();
  control.control.lastRevision = run.churn.lastRevision;
  control.control.writes = run.churn.writes;
  log(`churn done: ${run.churn.writes} writes, last revision ${run.churn.lastRevision}; waiting for every client to reach it`);
  if (o.scenario === 'slow-consumers') {
    const st = await sut.typhaStatus();
    const clients = (st as { clients?: Array<Record<string, unknown>> } | undefined)?.clients ?? [];
    run.slowConsumerTyphaView = clients
      .filter((c) => typeof c.node === 'string' && c.node.startsWith('slow-'))
      .map((c) => ({ node: c.node as string, state: String(c.state), mode: (c.mode as string | null) ?? null, lagMs: Number(c.lagMs), bufferedBytes: Number(c.bufferedBytes) }));
  }
  try {
    await control.until(
      () => control.sum('live') >= total && control.minRevision() >= run.churn!.lastRevision,
      60_000,
      `every client at revision ${run.churn.lastRevision}`,
      abort,
    );
    run.drainMs = Date.now() - lastWrite;
  } catch (err) {
    run.errors.push((err as Error).message);
  }
}

function loadAvg1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** Resolves at wall time `ms` (a schedule point of the scenario, not a synchronisation). */
function at(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));
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
