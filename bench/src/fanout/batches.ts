/**
 * The fan-out figures of the churn: per delta revision, the first and last receipt over all
 * clients, merged from every worker's receipts. A batch is complete when every LiteClient got
 * it; the spread (last − first receipt) of complete batches is Typha's fan-out time, the end to
 * end (last receipt − earliest write stamp) adds etcd, the watch and the batching window.
 */
import { listSummary, type Summary } from '../histogram.js';
import type { BatchReceipt, WorkerReport } from '../ipc.js';
import type { FanoutResult } from './result.js';
import type { FanoutRig } from './rig.js';
import { roundSummary } from './round.js';

export interface FanoutBatches {
  /** Every delta batch received, by revision. */
  all: BatchReceipt[];
  /** Those every LiteClient received. */
  complete: BatchReceipt[];
}

/** Collects the receipts of every batch so far (the churn and the resume gap). */
export async function collectBatches(rig: FanoutRig): Promise<FanoutBatches> {
  const reports = await rig.swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  const all = mergeBatches(reports.flatMap((r) => r.batches));
  return { all, complete: all.filter((b) => b.clients >= rig.p.clients) };
}

/** The median delta frame size, which the floor writes (512 B when there were no deltas). */
export function medianPayloadBytes(b: FanoutBatches): number {
  return Math.max(16, Math.round(listSummary(b.all.map((x) => x.bytes)).p50 || 512));
}

function mergeBatches(list: BatchReceipt[]): BatchReceipt[] {
  const by = new Map<number, BatchReceipt>();
  for (const b of list) {
    const cur = by.get(b.revision);
    if (cur === undefined) by.set(b.revision, { ...b });
    else {
      cur.first = Math.min(cur.first, b.first);
      cur.last = Math.max(cur.last, b.last);
      cur.clients += b.clients;
      cur.minStamp = Math.min(cur.minStamp, b.minStamp);
    }
  }
  return [...by.values()].sort((a, b) => a.revision - b.revision);
}

/** Unrounded spread and end-to-end summaries (the floor ratios divide them) and the `fanout` figures. */
export function fanoutFigures(b: FanoutBatches): { spread: Summary; endToEnd: Summary; fanout: FanoutResult['fanout'] } {
  const spread = listSummary(b.complete.map((x) => x.last - x.first));
  const endToEnd = listSummary(b.complete.map((x) => x.last - x.minStamp));
  return {
    spread,
    endToEnd,
    fanout: {
      batches: b.all.length,
      completeBatches: b.complete.length,
      spreadMs: roundSummary(spread),
      endToEndMs: roundSummary(endToEnd),
      payloadBytes: roundSummary(listSummary(b.all.map((x) => x.bytes))),
    },
  };
}
