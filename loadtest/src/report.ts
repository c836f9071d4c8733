/**
 * The run's result: one JSON document (summary.json, and stdout with --json) holding the
 * parameters, the machine, k6's figures for every `typha_*` metric and threshold, the runner's
 * own timings, Typha's cost, and the per-second timeline the chart is drawn from; plus a short
 * table for people.
 */
import { machineInfo, type MachineInfo } from '@cattail/bench';
import type { RunOptions } from './options.js';
import type { K6Summary, ScenarioRun } from './scenarios.js';
import type { SystemInfo } from './system.js';
import type { TimelinePoint } from './timeline.js';

export interface ThresholdResult {
  metric: string;
  expr: string;
  ok: boolean;
}

/** The run's parameters: the ones every summary quotes, typed; the scenario's own beside them. */
export interface LoadtestParams {
  vus: number;
  socketsPerVu: number;
  sockets: number;
  resources: number;
  syncer: string;
  [param: string]: unknown;
}

export interface LoadtestResult {
  tool: 'cattail-loadtest';
  scenario: RunOptions['scenario'];
  command: string;
  startedAt: string;
  machine: MachineInfo;
  params: LoadtestParams;
  /** k6 exited 0 and the runner saw nothing wrong. */
  passed: boolean;
  k6ExitCode: number | null;
  errors: string[];
  thresholds: ThresholdResult[];
  k6: { binary: string; peakRssMB: number; cpuSeconds: number; sockets: number; kBPerSocket: number };
  typha: ScenarioRun['typha'] & { pid?: number };
  system: SystemInfo;
  runner: {
    clockOffsetMs: number;
    inSyncAllMs: number | undefined;
    reconnectAllMs: number | undefined;
    drainMs: number | undefined;
    churn: ScenarioRun['churn'];
    phases: ScenarioRun['phases'];
    controlReports: number;
    closeCodes: Record<string, number>;
    loadAvg: ScenarioRun['loadAvg'];
  };
  /** Every `typha_*` metric of k6's summary (sub-metrics by tag included), with its values. */
  metrics: Record<string, Record<string, number>>;
  /** Typha's own view (its /metrics histograms): mean seconds to send one initial sync, by mode. */
  typhaSendAvgMs?: { snapshot?: number; resume?: number; snapshots?: number; resumes?: number };
  /** slow-consumers: the normal clients' delta latency with the slow consumers vs. without. */
  slowVsBaseline?: { p50Ratio: number; p99Ratio: number };
  slowConsumers?: {
    count: number;
    inSync: number;
    bytesMin: number;
    bytesMax: number;
    closeCodes: Record<string, number>;
    typhaView: ScenarioRun['slowConsumerTyphaView'];
  };
  timeline: TimelinePoint[];
}

export function buildResult(o: RunOptions, argv: string[], sut: SystemInfo, typhaPid: number | undefined, run: ScenarioRun, k6Binary: string): LoadtestResult {
  const thresholds: ThresholdResult[] = [];
  const metrics: Record<string, Record<string, number>> = {};
  const summary: K6Summary | undefined = run.k6Summary;
  for (const [name, m] of Object.entries(summary?.metrics ?? {})) {
    if (name.startsWith('typha_') || name === 'data_received' || name === 'ws_sessions' || name === 'ws_connecting') metrics[name] = round(m.values);
    for (const [expr, t] of Object.entries(m.thresholds ?? {})) thresholds.push({ metric: name, expr, ok: t.ok });
  }
  thresholds.sort((a, b) => (a.metric + a.expr).localeCompare(b.metric + b.expr));
  const sockets = o.vus * o.sockets;
  let slowConsumers: LoadtestResult['slowConsumers'];
  if (run.slowConsumers !== undefined) {
    const codes: Record<string, number> = {};
    for (const s of run.slowConsumers) codes[String(s.closeCode ?? 'open')] = (codes[String(s.closeCode ?? 'open')] ?? 0) + 1;
    const bytes = run.slowConsumers.map((s) => s.bytes);
    slowConsumers = {
      count: run.slowConsumers.length,
      inSync: run.slowConsumers.filter((s) => s.inSync).length,
      bytesMin: Math.min(...bytes),
      bytesMax: Math.max(...bytes),
      closeCodes: codes,
      typhaView: run.slowConsumerTyphaView,
    };
  }
  return {
    tool: 'cattail-loadtest',
    scenario: o.scenario,
    command: `npm run loadtest -- ${argv.join(' ')}`,
    startedAt: run.startedAt,
    machine: machineInfo(),
    params: {
      vus: o.vus,
      socketsPerVu: o.sockets,
      sockets,
      rampS: o.rampS,
      resources: o.resources,
      seed: o.seed,
      syncer: o.syncer,
      codec: 'msgpack',
      rate: o.rate,
      durationS: o.durationS,
      ...(o.scenario === 'reconnect-storm' ? { gapS: o.gapS, snapshotFraction: o.snapshotFraction } : {}),
      ...(o.scenario === 'slow-consumers' ? { slow: o.slow, slowRate: o.slowRate } : {}),
      inSyncTimeoutS: o.inSyncTimeoutS,
      k6Env: o.k6Env,
    },
    passed: run.k6Exit.code === 0 && run.errors.length === 0,
    k6ExitCode: run.k6Exit.code,
    errors: run.errors,
    thresholds,
    k6: {
      binary: k6Binary,
      peakRssMB: run.k6Exit.peakRssMB,
      cpuSeconds: run.k6Exit.cpuSeconds,
      sockets,
      kBPerSocket: Math.round((run.k6Exit.peakRssMB * 1024) / sockets),
    },
    typha: { ...run.typha, pid: typhaPid },
    system: sut,
    runner: {
      clockOffsetMs: run.clockOffsetMs,
      inSyncAllMs: run.inSyncAllMs,
      reconnectAllMs: run.reconnectAllMs,
      drainMs: run.drainMs,
      churn: run.churn,
      phases: run.phases,
      controlReports: run.controlReports,
      closeCodes: run.closeCodes,
      loadAvg: run.loadAvg,
    },
    metrics,
    ...(slowConsumers ? { slowConsumers } : {}),
    ...slowVsBaseline(metrics),
    ...typhaSendAvg(run.typha?.metrics),
    timeline: run.timeline,
  };
}

function typhaSendAvg(m: Record<string, number> | undefined): { typhaSendAvgMs?: LoadtestResult['typhaSendAvgMs'] } {
  if (m === undefined) return {};
  const avg = (name: string): number | undefined => {
    const n = m[`${name}_count`];
    return n ? Math.round((m[`${name}_sum`] / n) * 10000) / 10 : undefined;
  };
  return {
    typhaSendAvgMs: {
      snapshot: avg('typha_client_snapshot_send_secs'),
      snapshots: m.typha_client_snapshot_send_secs_count,
      resume: avg('typha_client_resume_send_secs'),
      resumes: m.typha_client_resume_send_secs_count,
    },
  };
}

function slowVsBaseline(metrics: Record<string, Record<string, number>>): { slowVsBaseline?: LoadtestResult['slowVsBaseline'] } {
  const b = metrics['typha_delta_latency_ms{phase:baseline}'];
  const s = metrics['typha_delta_latency_ms{phase:slow}'];
  if (!b?.count || !s?.count) return {};
  return { slowVsBaseline: { p50Ratio: Number((s.med / b.med).toFixed(3)), p99Ratio: Number((s['p(99)'] / b['p(99)']).toFixed(3)) } };
}

function round(v: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'number' ? Number(x.toPrecision(6)) : x;
  return out;
}

function trend(r: LoadtestResult, name: string, unit = 'ms'): string | undefined {
  const m = r.metrics[name];
  if (m === undefined || !m.count) return undefined;
  const f = (x: number | undefined): string =>
    x === undefined ? '-' : unit === 'B' ? fmtBytes(x) : unit === '' ? x.toFixed(4) : String(Math.round(x * 10) / 10);
  return `p50 ${f(m.med)} / p95 ${f(m['p(95)'])} / p99 ${f(m['p(99)'])} / max ${f(m.max)} ${unit === 'B' ? '' : unit} (n=${m.count})`;
}

function fmtBytes(b: number): string {
  return b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${Math.round(b)} B`;
}

/** A short table for the terminal. */
export function resultTable(r: LoadtestResult): string {
  const rows: Array<[string, string | undefined]> = [
    [
      'scenario',
      `${r.scenario} (${r.params.vus} VUs × ${r.params.socketsPerVu} sockets = ${r.params.sockets}, R = ${r.params.resources}, ${r.params.syncer}, msgpack)`,
    ],
    ['result', `${r.passed ? 'PASS' : 'FAIL'} (k6 exit ${r.k6ExitCode}${r.errors.length ? `, ${r.errors.length} runner error(s)` : ''})`],
    ['all sockets in sync (runner)', r.runner.inSyncAllMs === undefined ? 'no' : `${r.runner.inSyncAllMs} ms`],
    ['time to in-sync, initial', trend(r, 'typha_in_sync_ms{session:initial}')],
    ['time to in-sync, resume', trend(r, 'typha_in_sync_ms{session:resume}')],
    ['time to in-sync, snapshot reconnect', trend(r, 'typha_in_sync_ms{session:snapshot}')],
    ['session bytes, initial', trend(r, 'typha_session_bytes{session:initial}', 'B')],
    ['session bytes, resume', trend(r, 'typha_session_bytes{session:resume}', 'B')],
    ['session bytes, snapshot reconnect', trend(r, 'typha_session_bytes{session:snapshot}', 'B')],
    ['resume bytes ÷ own snapshot', trend(r, 'typha_session_bytes_ratio{session:resume}', '')],
    ['delta latency', trend(r, 'typha_delta_latency_ms')],
    ['delta latency, baseline', trend(r, 'typha_delta_latency_ms{phase:baseline}')],
    ['delta latency, with slow consumers', trend(r, 'typha_delta_latency_ms{phase:slow}')],
    ['with slow ÷ baseline, p50 / p99', r.slowVsBaseline ? `${r.slowVsBaseline.p50Ratio} / ${r.slowVsBaseline.p99Ratio}` : undefined],
    [
      'churn',
      r.runner.churn ? `${r.runner.churn.writes} writes (${r.runner.churn.achievedRate.toFixed(1)}/s), drain ${r.runner.drainMs ?? '-'} ms` : undefined,
    ],
    [
      'Typha: mean send, snapshot / resume',
      r.typhaSendAvgMs?.snapshot === undefined
        ? undefined
        : `${r.typhaSendAvgMs.snapshot} ms (${r.typhaSendAvgMs.snapshots}) / ${r.typhaSendAvgMs.resume ?? '-'} ms (${r.typhaSendAvgMs.resumes ?? 0})`,
    ],
    ['reconnect storm: all back in sync', r.runner.reconnectAllMs === undefined ? undefined : `${r.runner.reconnectAllMs} ms after the drop order`],
    [
      'slow consumers',
      r.slowConsumers
        ? `${r.slowConsumers.count}, ${r.slowConsumers.inSync} reached in-sync, read ${fmtBytes(r.slowConsumers.bytesMin)}..${fmtBytes(r.slowConsumers.bytesMax)}`
        : undefined,
    ],
    ['k6 peak RSS / CPU', `${r.k6.peakRssMB} MB (${r.k6.kBPerSocket} kB per socket) / ${r.k6.cpuSeconds} s`],
    ['typha peak RSS / CPU', r.typha?.peakRssMB === undefined ? 'external' : `${Math.round(r.typha.peakRssMB)} MB / ${r.typha.cpuSeconds} s`],
    ['unasked closes by code', Object.keys(r.runner.closeCodes).length ? JSON.stringify(r.runner.closeCodes) : undefined],
    ['load average (1 min) start / end', `${r.runner.loadAvg.start} / ${r.runner.loadAvg.end} (2 cores, shared)`],
    ['thresholds', r.thresholds.map((t) => `${t.ok ? 'ok' : 'FAIL'} ${t.metric} ${t.expr}`).join('\n' + ' '.repeat(38))],
  ];
  const lines = rows.filter((x): x is [string, string] => x[1] !== undefined).map(([k, v]) => `${k.padEnd(36)}  ${v}`);
  for (const e of r.errors) lines.push(`error: ${e.split('\n')[0]}`);
  return lines.join('\n');
}

/**
 * What `--json` prints: the result without the per-second timeline and Typha's raw metric
 * series (both stay in summary.json, the timeline also in chart.html), so a run's figures fit in
 * docs/BENCHMARKS.md.
 */
export function compactResult(r: LoadtestResult): Omit<LoadtestResult, 'timeline'> & { timelinePoints: number } {
  const { timeline, typha, ...rest } = r;
  const { metrics: _metrics, ...typhaCost } = typha ?? {};
  return { ...rest, typha: typhaCost, timelinePoints: timeline.length };
}
