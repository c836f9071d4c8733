/**
 * Phase 2, steady churn: --rate WorkloadEndpoint label writes/s for --duration s, each stamped
 * with its write time; then every client must reach the last write's revision within 30 s.
 * deltaLatencyMs = stamp → receipt, every update × every client. Syncers without
 * WorkloadEndpoints (bgp, ipam, status) never see the churn: there is nothing to wait for, and
 * the later phases skip what depends on it.
 */
import { PROJECTIONS } from '@cattail/typha';
import { churn, type ChurnResult } from '../churn.js';
import { createHistogram, merge, summarize } from '../histogram.js';
import type { WorkerReport } from '../ipc.js';
import type { FanoutResult } from './result.js';
import type { FanoutRig } from './rig.js';
import { round, roundSummary } from './round.js';

export interface ChurnOutcome {
  churned: ChurnResult;
  /** The syncer carries WorkloadEndpoints, so its clients see the churn. */
  seesChurn: boolean;
  /** Per worker: did every client reach the last write's revision. */
  drained: Array<{ reached: boolean; minRevision: number }>;
}

export async function steadyChurn(rig: FanoutRig): Promise<ChurnOutcome> {
  const { p, swarm, typha, client, errors, log } = rig;
  await swarm.all({ type: 'phase', phase: 'churn' }, 10_000);
  rig.cpuAt.churnStart = typha.proc();
  log(`churn: ${p.rate}/s for ${p.durationS} s`);
  const churned = await churn({ client, weps: rig.seeded.cluster.workloadEndpoints, rate: p.rate, durationMs: p.durationS * 1000, seed: p.seed ^ 0x5eed });
  const seesChurn = PROJECTIONS[p.syncer].has('WorkloadEndpoint');
  if (!seesChurn) errors.push(`churn: the ${p.syncer} syncer does not carry WorkloadEndpoints; no delta latency, fan-out or resume figures`);
  const drained = seesChurn
    ? await swarm.all<{ reached: boolean; minRevision: number }>({ type: 'wait-revision', revision: churned.lastRevision, timeoutMs: 30_000 }, 40_000)
    : [];
  if (!drained.every((d) => d.reached)) errors.push(`churn: not every client reached revision ${churned.lastRevision} within 30 s of the last write`);
  rig.cpuAt.churn = typha.proc();
  await swarm.all({ type: 'phase', phase: 'idle' }, 10_000);
  log(`churn: ${churned.writes} writes (${churned.achievedRate.toFixed(1)}/s, ${churned.errors} errors, ${churned.lateWrites} late)`);
  return { churned, seesChurn, drained };
}

/** `churn`, `deltaLatencyMs` and `deltaDelivery`, from the workers' final reports. */
export function churnFigures(c: ChurnOutcome, final: readonly WorkerReport[]): Pick<FanoutResult, 'churn' | 'deltaLatencyMs' | 'deltaDelivery'> {
  const lat = createHistogram();
  for (const r of final) merge(lat, r.latency.churn);
  const liteClients = final.reduce((a, r) => a + r.clients, 0);
  return {
    churn: c.churned,
    deltaLatencyMs: roundSummary(summarize(lat)),
    deltaDelivery: {
      churnWrites: c.churned.writes,
      perClientMin: Math.min(...final.map((r) => r.churnReceipts.min)),
      perClientMean: round(final.reduce((a, r) => a + r.churnReceipts.sum, 0) / Math.max(1, liteClients), 1),
      lateClients: c.drained.filter((d) => !d.reached).length,
    },
  };
}
