/**
 * The fan-out run's result: the JSON object `fanout.js --json` prints (docs/BENCHMARKS.md
 * describes every figure) and the table is made from. Each phase module turns its outcome into
 * its own figures; this module puts them in one object, in the order readers of old runs know,
 * and judges the targets.
 */
import type { ChurnResult } from '../churn.js';
import type { FloorMode } from '../floor-server.js';
import type { Summary } from '../histogram.js';
import type { WorkerReport } from '../ipc.js';
import type { MachineInfo, TcpCounters } from '../machine.js';
import { senderFloor } from '../report.js';
import { fanoutFigures, type FanoutBatches } from './batches.js';
import { convergenceFigures, type ConvergeOutcome } from './converge.js';
import { costFigures, type FinalCounts } from './costs.js';
import { floorFigures, type FloorOutcome } from './floor.js';
import type { FanoutParams } from './params.js';
import { resumeFigures, type ResumeOutcome } from './resume.js';
import type { FanoutRig } from './rig.js';
import { round } from './round.js';
import { churnFigures, type ChurnOutcome } from './steady-churn.js';
import { stormFigures, type StormOutcome } from './storm.js';

export interface FanoutResult {
  bench: 'typha-fanout';
  /** TYPHA_FANOUTWORKERS of the run: the processes that hold the sockets (1: none, in-process). */
  fanoutWorkers: number;
  params: FanoutParams;
  machine: MachineInfo;
  seeding: { resources: number; mix: Record<string, number>; etcdBytes: number; ms: number; revision: number };
  typha: { pid: number; readyMs: number; felixKeys?: number };
  inSyncAllMs: number | null;
  inSync: {
    clients: number;
    inSync: number;
    ms: Summary;
    unexpectedCloses: number;
    closeReasons: Record<string, number>;
    /** System-wide TcpExt counters (/proc/net/netstat) over the storm: accept-queue overflows etc. */
    tcp: TcpCounters;
    /** In-sync times of the real SyncClients (ms after storm start). */
    syncClientMs: number[];
    slowest: WorkerReport['slowest'];
  };
  snapshotBytesPerClient: number;
  churn: ChurnResult;
  deltaLatencyMs: Summary;
  deltaDelivery: { churnWrites: number; perClientMin: number; perClientMean: number; lateClients: number };
  fanout: { batches: number; completeBatches: number; spreadMs: Summary; endToEndMs: Summary; payloadBytes: Summary };
  floor: {
    payloadBytes: number;
    rounds: number;
    modes: Record<FloorMode, { writeLoopMs: Summary; writeCpuMs?: Summary; spreadMs: Summary; totalMs: Summary }>;
    best: FloorMode | null;
  };
  floorRatio: number | null;
  floorRatioEndToEnd: number | null;
  /** Sender side: Typha CPU µs per client write in the churn phase vs the floor's write loop µs per socket. */
  floorSender: { typhaUs: number; floorUs: number; ratio: number } | null;
  resume: {
    sample: number;
    gapChurn: ChurnResult | null;
    modes: Record<string, number>;
    resumeBytes: Summary;
    snapshotBytes: Summary;
    ratio: Summary;
    /** Bytes of one Deltas frame holding the latest value of every key changed in the gap. */
    idealBytes: number;
    idealRatio: number | null;
    ms: Summary;
    latencyMs: Summary;
  };
  resumeBytesRatio: number | null;
  /**
   * Wire bytes (payload + frame header) of the Deltas frames the LiteClients received during
   * the churn phase ÷ churn writes ÷ clients: for the clients in the run's default mode
   * (`--deltas deflate`, the default, as the real client: those offering deflate-deltas).
   */
  deltaBytesPerUpdatePerClient: number | null;
  /** The same per group of clients (both in `--deltas mixed`), and deflate ÷ plain. */
  deltaBytes: { deflate: number | null; plain: number | null; ratio: number | null; deflateClients: number; plainClients: number };
  /** Typha CPU in the churn phase ÷ (churn writes × LiteClients): µs per delivered update. */
  typhaCpuUsPerDeliveredUpdate: number | null;
  typhaCpuSeconds: number;
  typhaCpuByPhase: Record<string, number>;
  typhaRssMB: number;
  typhaPeakRssMB: number;
  bytesSent: number;
  bytesSentSource: string;
  updatesSkipped: number | null;
  typhaMetrics: Record<string, number>;
  converged: boolean;
  convergence: {
    method: string;
    expected: { digest: string; revision: number; keys: number; projected: number; invalid: number } | null;
    reference: { digest: string; revision: number; keys: number; inSyncMs: number } | null;
    clientDigests: Record<string, number>;
    clientsAtRevision: boolean;
    targetRevision: number;
  };
  swarm: { workers: number; pids: number[]; cpuSeconds: number; cpuUserSeconds: number; maxRssMB: number; frameDecodes: number; frameHits: number };
  targets: Record<string, { target: string; value: number | null; met: boolean | null }>;
  errors: string[];
}

/** Every phase's outcome, in the order they ran. */
export interface FanoutOutcomes {
  machine: MachineInfo;
  rig: FanoutRig;
  storm: StormOutcome;
  churn: ChurnOutcome;
  resume: ResumeOutcome;
  batches: FanoutBatches;
  floor: FloorOutcome;
  convergence: ConvergeOutcome;
  final: FinalCounts;
}

export function fanoutResult(o: FanoutOutcomes): FanoutResult {
  const { rig, final } = o;
  const seeded = rig.seeded;
  const storm = stormFigures(o.storm, rig.total, final.reports);
  const churn = churnFigures(o.churn, final.reports);
  const fan = fanoutFigures(o.batches);
  const floor = floorFigures(o.floor, rig.p, fan);
  const resume = resumeFigures(o.resume, rig, final.reports);
  const costs = costFigures(final, rig);
  const convergence = convergenceFigures(o.convergence);
  const result: FanoutResult = {
    bench: 'typha-fanout',
    fanoutWorkers: rig.p.fanoutWorkers,
    params: rig.p,
    machine: o.machine,
    seeding: {
      resources: seeded.write.count,
      mix: { ...seeded.cluster.mix },
      etcdBytes: seeded.write.bytes,
      ms: round(seeded.write.ms, 0),
      revision: seeded.write.revision,
    },
    typha: { pid: rig.typha.pid, readyMs: round(rig.readyMs, 0), felixKeys: o.convergence.expected?.projected },
    inSyncAllMs: storm.inSyncAllMs,
    inSync: storm.inSync,
    snapshotBytesPerClient: costs.snapshotBytesPerClient,
    churn: churn.churn,
    deltaLatencyMs: churn.deltaLatencyMs,
    deltaDelivery: churn.deltaDelivery,
    fanout: fan.fanout,
    floor: floor.floor,
    floorRatio: floor.floorRatio,
    floorRatioEndToEnd: floor.floorRatioEndToEnd,
    floorSender: null,
    resume: resume.resume,
    resumeBytesRatio: resume.resumeBytesRatio,
    ...deltaBytesFigures(rig.p.deltas, o.churn.churned.writes, final.reports),
    typhaCpuUsPerDeliveredUpdate:
      o.churn.churned.writes > 0 && Number.isFinite(costs.typhaCpuByPhase.churn)
        ? round((costs.typhaCpuByPhase.churn * 1e6) / (o.churn.churned.writes * final.reports.reduce((a, r) => a + r.clients, 0)), 3)
        : null,
    typhaCpuSeconds: costs.typhaCpuSeconds,
    typhaCpuByPhase: costs.typhaCpuByPhase,
    typhaRssMB: costs.typhaRssMB,
    typhaPeakRssMB: costs.typhaPeakRssMB,
    bytesSent: costs.bytesSent,
    bytesSentSource: costs.bytesSentSource,
    updatesSkipped: costs.updatesSkipped,
    typhaMetrics: costs.typhaMetrics,
    converged: convergence.converged,
    convergence: convergence.convergence,
    swarm: costs.swarm,
    targets: {},
    errors: rig.errors,
  };
  result.floorSender = senderFloor(result);
  result.targets = targets(result, final.end?.peakRssMB ?? NaN);
  return result;
}

/** The design targets; `met` is null where the run has no figure to judge. */
function targets(r: FanoutResult, peakRssMB: number): FanoutResult['targets'] {
  return {
    inSyncAll: { target: '≤ 30000 ms (10,000 clients, cold storm)', value: r.inSyncAllMs, met: r.inSyncAllMs === null ? false : r.inSyncAllMs <= 30_000 },
    deltaP99: {
      target: '≤ 250 ms at 50 updates/s',
      value: r.deltaLatencyMs.p99,
      met: Number.isFinite(r.deltaLatencyMs.p99) ? r.deltaLatencyMs.p99 <= 250 : null,
    },
    typhaRss: { target: '≤ 1024 MB (peak, VmHWM)', value: r.typhaPeakRssMB, met: Number.isFinite(peakRssMB) ? peakRssMB <= 1024 : null },
    floorRatio: { target: '≤ 1.5', value: r.floorRatio, met: r.floorRatio === null ? null : r.floorRatio <= 1.5 },
    resumeBytesRatio: { target: '≤ 0.01 after a 10 s gap', value: r.resumeBytesRatio, met: r.resumeBytesRatio === null ? null : r.resumeBytesRatio <= 0.01 },
    converged: { target: 'true', value: r.converged ? 1 : 0, met: r.converged },
  };
}

/** `deltaBytesPerUpdatePerClient` and `deltaBytes`, from the workers' churn-phase byte counts. */
function deltaBytesFigures(
  mode: FanoutResult['params']['deltas'],
  writes: number,
  reports: readonly WorkerReport[],
): Pick<FanoutResult, 'deltaBytesPerUpdatePerClient' | 'deltaBytes'> {
  const sum = { deflate: 0, plain: 0, deflateClients: 0, plainClients: 0 };
  for (const r of reports) {
    sum.deflate += r.churnDeltaBytes.deflate;
    sum.plain += r.churnDeltaBytes.plain;
    sum.deflateClients += r.churnDeltaBytes.deflateClients;
    sum.plainClients += r.churnDeltaBytes.plainClients;
  }
  const per = (bytes: number, clients: number): number | null => (writes > 0 && clients > 0 ? round(bytes / writes / clients, 1) : null);
  const deflate = per(sum.deflate, sum.deflateClients);
  const plain = per(sum.plain, sum.plainClients);
  return {
    deltaBytesPerUpdatePerClient: mode === 'plain' ? plain : deflate,
    deltaBytes: {
      deflate,
      plain,
      ratio: deflate !== null && plain !== null && plain > 0 ? round(deflate / plain, 3) : null,
      deflateClients: sum.deflateClients,
      plainClients: sum.plainClients,
    },
  };
}

/** One line per `--fanout-workers` series: each run's headline figures and their ratio to the first run's. */
export function compareFanoutWorkers(results: readonly FanoutResult[]): Record<string, unknown> {
  const pick = (r: FanoutResult) => ({
    fanoutWorkers: r.fanoutWorkers,
    inSyncAllMs: r.inSyncAllMs,
    deltaP99Ms: r.deltaLatencyMs.p99,
    typhaCpuUsPerDeliveredUpdate: r.typhaCpuUsPerDeliveredUpdate,
    floorRatio: r.floorRatio,
    fanoutSpreadP50Ms: r.fanout.spreadMs.p50,
    floorSpreadP50Ms: r.floor.modes[r.floor.best ?? 'raw-write']?.spreadMs.p50 ?? null,
    typhaCpuSeconds: r.typhaCpuSeconds,
    typhaPeakRssMB: r.typhaPeakRssMB,
    converged: r.converged,
  });
  const base = pick(results[0]);
  const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? round(a / b, 2) : null);
  return {
    bench: 'typha-fanout-workers',
    clients: results[0].params.clients,
    resources: results[0].params.resources,
    runs: results.map((r) => {
      const x = pick(r);
      return {
        ...x,
        vsFirst: {
          inSyncAllMs: ratio(x.inSyncAllMs, base.inSyncAllMs),
          deltaP99Ms: ratio(x.deltaP99Ms, base.deltaP99Ms),
          typhaCpuUsPerDeliveredUpdate: ratio(x.typhaCpuUsPerDeliveredUpdate, base.typhaCpuUsPerDeliveredUpdate),
        },
      };
    }),
  };
}
