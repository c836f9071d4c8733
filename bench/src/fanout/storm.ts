/**
 * Phase 1, the cold connect storm: every client connects at once (≤ --max-pending upgrades in
 * flight per worker) and the phase ends when all are in sync or --storm-timeout passes.
 * inSyncAllMs = storm start → the last client's first InSync. The kernel's TcpExt counters over
 * the storm show accept-queue overflows and the like.
 */
import { listSummary } from '../histogram.js';
import type { WorkerReport } from '../ipc.js';
import { tcpCounters, type TcpCounters } from '../machine.js';
import { monoMs } from '../clock.js';
import { sleep } from '../typha-process.js';
import type { FanoutResult } from './result.js';
import type { FanoutRig } from './rig.js';
import { round, roundSummary } from './round.js';

export interface StormOutcome {
  /** Each worker's report at the end of the storm. */
  reports: WorkerReport[];
  /** In-sync times (ms after storm start) of the clients that got there. */
  synced: number[];
  /** The last client's in-sync time; null unless every client got there. */
  inSyncAllMs: number | null;
  /** System-wide TcpExt counters over the storm. */
  tcp: TcpCounters;
}

export async function connectStorm(rig: FanoutRig): Promise<StormOutcome> {
  const { p, swarm, typha, total, errors, log } = rig;
  const tcpBefore = tcpCounters();
  const t0 = monoMs();
  await swarm.all({ type: 'storm', t0 }, 10_000);
  await untilAllInSync(rig, t0 + p.stormTimeoutS * 1000);
  const reports = await swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  const synced = reports.flatMap((r) => [...r.inSyncMs]).filter((v) => !Number.isNaN(v));
  const inSyncAllMs = synced.length === total ? Math.max(...synced) : null;
  if (inSyncAllMs === null) errors.push(`storm: only ${synced.length}/${total} clients in sync within ${p.stormTimeoutS} s`);
  log(`storm: ${synced.length}/${total} in sync; last at ${inSyncAllMs === null ? 'n/a' : `${inSyncAllMs.toFixed(0)} ms`}`);
  rig.cpuAt.storm = typha.proc();
  const tcp = diffCounters(tcpBefore, tcpCounters());
  await sleep(1000);
  return { reports, synced, inSyncAllMs, tcp };
}

/** Polls the workers' progress (logged every 5 s) until every client is in sync or `deadline`. */
async function untilAllInSync(rig: FanoutRig, deadline: number): Promise<void> {
  let lastLog = 0;
  for (;;) {
    await sleep(250);
    const pr = rig.swarm.progress();
    const now = monoMs();
    if (now - lastLog > 5000) {
      lastLog = now;
      rig.log(`storm: ${pr.opened} open, ${pr.inSync}/${rig.total} in sync, ${pr.pendingConnects} connecting, ${pr.unexpectedCloses} unexpected closes`);
    }
    if (pr.inSync >= rig.total || now > deadline) break;
  }
}

function diffCounters(a: TcpCounters, b: TcpCounters): TcpCounters {
  const out: TcpCounters = {};
  for (const k of Object.keys(b)) out[k] = b[k] - (a[k] ?? 0);
  return out;
}

/** `inSyncAllMs` and `inSync`; close counts come from the workers' final reports. */
export function stormFigures(s: StormOutcome, total: number, final: readonly WorkerReport[]): Pick<FanoutResult, 'inSyncAllMs' | 'inSync'> {
  const closeReasons: Record<string, number> = {};
  for (const r of final) for (const [k, v] of Object.entries(r.closeReasons)) closeReasons[k] = (closeReasons[k] ?? 0) + v;
  return {
    inSyncAllMs: s.inSyncAllMs === null ? null : round(s.inSyncAllMs, 0),
    inSync: {
      clients: total,
      inSync: s.synced.length,
      ms: roundSummary(listSummary(s.synced)),
      unexpectedCloses: final.reduce((a, r) => a + r.unexpectedCloses, 0),
      closeReasons,
      tcp: s.tcp,
      syncClientMs: s.reports.flatMap((r) => [...r.inSyncMs.subarray(r.clients)].map((v) => round(v, 0))),
      slowest: s.reports
        .flatMap((r) => r.slowest)
        .sort((a, b) => (Number.isNaN(b.ms) ? Infinity : b.ms) - (Number.isNaN(a.ms) ? Infinity : a.ms))
        .slice(0, 5)
        .map((x) => ({ ...x, ms: round(x.ms, 0) })),
    },
  };
}
