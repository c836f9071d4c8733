/**
 * The end of the run: what it cost and carried. Typha's CPU seconds (split at the phase marks)
 * and memory come from /proc/<pid>, its counters from its Prometheus metrics; bytes and the
 * swarm's own CPU from the workers' final reports, which also feed the other phases' figures.
 */
import type { WorkerReport } from '../ipc.js';
import type { ProcStats } from '../typha-process.js';
import type { FanoutResult } from './result.js';
import type { CpuMarks, FanoutRig } from './rig.js';
import { round } from './round.js';

const REPORTED_METRICS =
  /^typha_(connections_active|connections_accepted|connections_dropped|updates_total|updates_skipped|snapshots_generated|snapshots_reused|connections_synced|connections_rejected)$/;

export interface FinalCounts {
  /** Typha's /proc figures now (also the `end` CPU mark). */
  end: ProcStats | undefined;
  metrics: Map<string, number>;
  /** Each worker's report at the end of the run. */
  reports: WorkerReport[];
}

export async function finalCounts(rig: FanoutRig): Promise<FinalCounts> {
  const end = rig.typha.proc();
  rig.cpuAt.end = end;
  let metrics = new Map<string, number>();
  try {
    metrics = await rig.typha.metrics();
  } catch (err) {
    rig.errors.push(`metrics: ${(err as Error).message}`);
  }
  const reports = await rig.swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  return { end, metrics, reports };
}

type CostKeys =
  | 'snapshotBytesPerClient'
  | 'typhaCpuSeconds'
  | 'typhaCpuByPhase'
  | 'typhaRssMB'
  | 'typhaPeakRssMB'
  | 'bytesSent'
  | 'bytesSentSource'
  | 'updatesSkipped'
  | 'typhaMetrics'
  | 'swarm';

export function costFigures(f: FinalCounts, rig: FanoutRig): Pick<FanoutResult, CostKeys> {
  const reports = f.reports;
  const sum = (of: (r: WorkerReport) => number): number => reports.reduce((a, r) => a + of(r), 0);
  const liteClients = sum((r) => r.clients);
  return {
    snapshotBytesPerClient: Math.round(sum((r) => r.bytes.snapshotSum) / Math.max(1, liteClients)),
    typhaCpuSeconds: round(f.end?.cpuSeconds ?? NaN, 2),
    typhaCpuByPhase: cpuByPhase(rig.cpuAt),
    typhaRssMB: round(f.end?.rssMB ?? NaN, 0),
    typhaPeakRssMB: round(f.end?.peakRssMB ?? NaN, 0),
    bytesSent: sum((r) => r.bytes.total),
    bytesSentSource:
      'sum of WebSocket message bytes (payload + frame header) received by the LiteClients over the whole run (SyncClients and the floor not included)',
    updatesSkipped: f.metrics.get('typha_updates_skipped') ?? null,
    typhaMetrics: Object.fromEntries([...f.metrics].filter(([k]) => REPORTED_METRICS.test(k))),
    swarm: {
      workers: rig.p.workers,
      pids: rig.swarm.pids,
      cpuSeconds: round(sum((r) => r.cpuUserMs + r.cpuSystemMs) / 1000, 1),
      cpuUserSeconds: round(sum((r) => r.cpuUserMs) / 1000, 1),
      maxRssMB: round(Math.max(...reports.map((r) => r.rssMB)), 0),
      frameDecodes: sum((r) => r.frames.decoded),
      frameHits: sum((r) => r.frames.hits + r.frames.streamHits),
    },
  };
}

function cpuByPhase(at: CpuMarks): Record<string, number> {
  const cpu = (a?: ProcStats, b?: ProcStats): number => (a && b ? round(b.cpuSeconds - a.cpuSeconds, 2) : NaN);
  return {
    startup: at.ready?.cpuSeconds ?? NaN,
    storm: cpu(at.ready, at.storm),
    churn: cpu(at.churnStart, at.churn),
    resume: cpu(at.churn, at.resume),
    floorAndConvergence: cpu(at.resume ?? at.churn, at.end),
  };
}
