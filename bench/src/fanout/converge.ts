/**
 * Phase 5, convergence: every client must reach the last write's revision, and the digest of
 * every client's state must equal both the digest of etcd listed now and projected with Typha's
 * projectUpdate, and a fresh reference SyncClient's.
 */
import type { DigestReport } from '../ipc.js';
import { datastoreDigest, referenceDigest, type DatastoreDigest, type ReferenceDigest } from '../reference.js';
import type { FanoutResult } from './result.js';
import type { FanoutRig } from './rig.js';
import type { ChurnOutcome } from './steady-churn.js';
import type { ResumeOutcome } from './resume.js';

export interface ConvergeOutcome {
  targetRevision: number;
  atRevision: Array<{ reached: boolean; minRevision: number }>;
  /** Client count by digest. */
  clientDigests: Record<string, number>;
  expected: DatastoreDigest | null;
  reference: ReferenceDigest | null;
  converged: boolean;
}

/** The revision every client must reach: the last write's (0 when the syncer sees no churn). */
export function targetRevision(rig: FanoutRig, c: ChurnOutcome, r: ResumeOutcome): number {
  return c.seesChurn ? Math.max(c.churned.lastRevision, r.gapChurn?.lastRevision ?? 0, rig.seeded.write.revision) : 0;
}

export async function converge(rig: FanoutRig, target: number): Promise<ConvergeOutcome> {
  const { p, swarm, typha, client, total, errors, log } = rig;
  const atRevision = await swarm.all<{ reached: boolean; minRevision: number }>({ type: 'wait-revision', revision: target, timeoutMs: 30_000 }, 40_000);
  const digests = await swarm.all<DigestReport>({ type: 'digest' }, 120_000);
  const clientDigests: Record<string, number> = {};
  for (const d of digests) for (const [k, v] of Object.entries(d.digests)) clientDigests[k] = (clientDigests[k] ?? 0) + v;
  let expected: DatastoreDigest | null = null;
  let reference: ReferenceDigest | null = null;
  try {
    expected = await datastoreDigest(client, p.syncer);
  } catch (err) {
    errors.push(`datastore digest: ${(err as Error).message}`);
  }
  try {
    reference = await referenceDigest(`127.0.0.1:${typha.syncPort}`, p.syncer, target, 120_000);
  } catch (err) {
    errors.push(`reference client: ${(err as Error).message}`);
  }
  const distinct = Object.keys(clientDigests);
  const converged =
    distinct.length === 1 &&
    Object.values(clientDigests)[0] === total &&
    expected !== null &&
    reference !== null &&
    distinct[0] === expected.digest &&
    reference.digest === expected.digest;
  log(`converged: ${converged} (${distinct.length} distinct client digest(s); expected ${expected?.digest}; reference ${reference?.digest})`);
  return { targetRevision: target, atRevision, clientDigests, expected, reference, converged };
}

export function convergenceFigures(c: ConvergeOutcome): Pick<FanoutResult, 'converged' | 'convergence'> {
  return {
    converged: c.converged,
    convergence: {
      method:
        "every client's digest (LiteClients: from their own state arrays; SyncClients: from snapshot()) must equal the digest of etcd listed at the end and projected with Typha's projectUpdate, and a fresh reference SyncClient's",
      expected: c.expected,
      reference: c.reference,
      clientDigests: c.clientDigests,
      clientsAtRevision: c.atRevision.every((d) => d.reached),
      targetRevision: c.targetRevision,
    },
  };
}
