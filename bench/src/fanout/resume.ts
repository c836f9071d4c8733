/**
 * Phase 3, resume after a gap: --resume-sample clients disconnect, --resume-gap s more churn is
 * written, and they reconnect with their resume token. resumeBytesRatio = bytes of that session
 * ÷ bytes of the same client's first (full snapshot) session; the ideal is one Deltas frame with
 * the latest value of every key changed in the gap.
 */
import { decodeValue, encodeValue, keyFor, parseKey, type Resource } from '@cattail/api';
import { projectUpdate } from '@cattail/typha';
import { msgpackCodec, type SyncerType, type Update } from '@cattail/typha/protocol';
import { churn, type ChurnResult } from '../churn.js';
import { createHistogram, listSummary, merge, summarize } from '../histogram.js';
import type { ResumeResult, WorkerReport } from '../ipc.js';
import { split } from '../swarm.js';
import type { FanoutResult } from './result.js';
import type { FanoutRig } from './rig.js';
import { round, roundSummary } from './round.js';

export interface ResumeOutcome {
  /** The churn written while the sample was away; null when the phase did not run. */
  gapChurn: ChurnResult | null;
  /** Indices (into the seeded WorkloadEndpoints) changed in the gap. */
  gapTouched: Set<number>;
  results: ResumeResult[];
}

/** Runs unless --resume-sample is 0 or the syncer does not see the churn. */
export async function resumeAfterGap(rig: FanoutRig, seesChurn: boolean): Promise<ResumeOutcome> {
  const { p, swarm, typha, client, errors, log } = rig;
  const gapTouched = new Set<number>();
  if (p.resumeSample === 0 || !seesChurn) return { gapChurn: null, gapTouched, results: [] };
  await swarm.all({ type: 'phase', phase: 'resume' }, 10_000);
  const parked = await swarm.each<number>((w) => ({ type: 'disconnect', count: split(p.resumeSample, p.workers)[w] }), 10_000);
  log(`resume: ${parked.reduce((a, b) => a + b, 0)} clients parked; ${p.resumeGapS} s of churn`);
  const weps = rig.seeded.cluster.workloadEndpoints;
  const gapChurn = await churn({ client, weps, rate: p.rate, durationMs: p.resumeGapS * 1000, seed: p.seed ^ 0x7e57, touched: gapTouched });
  const results = (await swarm.all<ResumeResult[]>({ type: 'reconnect', timeoutMs: 60_000 }, 70_000)).flat();
  const drainedGap = await swarm.all<{ reached: boolean }>({ type: 'wait-revision', revision: gapChurn.lastRevision, timeoutMs: 30_000 }, 40_000);
  if (!drainedGap.every((d) => d.reached)) errors.push(`resume: not every client reached revision ${gapChurn.lastRevision}`);
  await swarm.all({ type: 'phase', phase: 'idle' }, 10_000);
  rig.cpuAt.resume = typha.proc();
  return { gapChurn, gapTouched, results };
}

/** `resume` and `resumeBytesRatio`; the resumed sessions' latency comes from the final reports. */
export function resumeFigures(r: ResumeOutcome, rig: FanoutRig, final: readonly WorkerReport[]): Pick<FanoutResult, 'resume' | 'resumeBytesRatio'> {
  const { results, gapChurn } = r;
  const resumeLat = createHistogram();
  for (const w of final) merge(resumeLat, w.latency.resume);
  const ok = results.filter((x) => x.ok);
  const ratios = ok.filter((x) => x.snapshotBytes > 0).map((x) => x.resumeBytes / x.snapshotBytes);
  const modes: Record<string, number> = {};
  for (const x of results) {
    const mode = x.ok ? (x.mode ?? 'unknown') : 'not-in-sync';
    modes[mode] = (modes[mode] ?? 0) + 1;
  }
  const weps = rig.seeded.cluster.workloadEndpoints;
  const idealBytes = gapChurn
    ? idealResumeBytes(
        rig.p.syncer,
        [...r.gapTouched].map((i) => weps[i]),
        gapChurn.lastRevision,
      )
    : 0;
  const snapshotMedian = listSummary(results.map((x) => x.snapshotBytes)).p50;
  const idealRatio = gapChurn && snapshotMedian > 0 ? idealBytes / snapshotMedian : null;
  const resumeRatio = ratios.length ? listSummary(ratios).p50 : null;
  return {
    resume: {
      sample: results.length,
      gapChurn,
      modes,
      resumeBytes: roundSummary(listSummary(ok.map((x) => x.resumeBytes))),
      snapshotBytes: roundSummary(listSummary(results.map((x) => x.snapshotBytes))),
      ratio: roundSummary(listSummary(ratios), 4),
      idealBytes,
      idealRatio: idealRatio === null ? null : round(idealRatio, 4),
      ms: roundSummary(listSummary(ok.map((x) => x.ms))),
      latencyMs: roundSummary(summarize(resumeLat)),
    },
    resumeBytesRatio: resumeRatio === null ? null : round(resumeRatio, 4),
  };
}

/** The least a resume can send: one Deltas frame (with its WebSocket header) holding `changed`. */
function idealResumeBytes(syncer: SyncerType, changed: Resource[], revision: number): number {
  const updates: Update[] = [];
  for (const r of changed) {
    const key = keyFor(r);
    const parsed = parseKey(key);
    if (!parsed) continue;
    const u = projectUpdate(syncer, {
      key,
      kind: parsed.kind.kind,
      name: parsed.name,
      namespace: parsed.namespace,
      revision,
      resource: decodeValue(key, encodeValue(r), revision),
    });
    if (u) updates.push(u);
  }
  const n = msgpackCodec.encode({ type: 'deltas', revision, updates }).length;
  return n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
}
