/**
 * What libcalico-go's clientv3 `EnsureInitialized` does to a datastore, so that the first
 * Cattail write to an empty etcd leaves it as the first Calico write would:
 *
 *   ClusterInformation `default`  absent: created with a random clusterGUID (a v4 UUID as 32 hex
 *                                 digits, as Calico makes it), `datastoreReady: true`, and the
 *                                 caller's calicoVersion and clusterType when given.
 *                                 present: only what is missing is filled in (a GUID; a
 *                                 datastoreReady that is unset becomes true, one that is false
 *                                 stays false, since that is the migration lock); a given
 *                                 calicoVersion replaces the stored one, given cluster types are
 *                                 appended to the stored list.
 *   Tiers                         `kube-admin`, `default`, `kube-baseline` created with their fixed
 *                                 order and default action if absent; an existing one is never
 *                                 touched.
 *
 * calicoctl calls it before every apply, create and replace with no version and no cluster type
 * (calico/node passes its own), and carries on if it fails. It is fail-slow, as in Calico: every
 * step is tried, then the first error is thrown. Writes are compare-and-swap; losing a race to
 * another writer re-reads and tries again, a bounded number of times.
 */
import { randomUUID } from 'node:crypto';
import { API_VERSION, BUILT_IN_TIERS, type Resource } from '@cattail/api';
import type { Datastore } from './datastore.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js';

export interface InitializeOptions {
  /** Written when given (calico/node passes its version); calicoctl passes none. */
  calicoVersion?: string;
  /** Comma-separated, appended to the stored list when given. */
  clusterType?: string;
  /** A new cluster GUID. Default: a random v4 UUID as 32 hex digits, as Calico makes it. */
  newClusterGUID?: () => string;
}

export interface InitializeReport {
  clusterInformation: 'created' | 'updated' | 'unchanged';
  /** The built-in tiers this call created. */
  tiersCreated: string[];
}

const ATTEMPTS = 5;
const CLUSTER_INFO = { kind: 'ClusterInformation', name: 'default' } as const;

export async function ensureInitialized(ds: Datastore, opts: InitializeOptions = {}): Promise<InitializeReport> {
  const errors: unknown[] = [];
  const report: InitializeReport = { clusterInformation: 'unchanged', tiersCreated: [] };
  try {
    report.clusterInformation = await ensureClusterInformation(ds, opts);
  } catch (err) {
    errors.push(err);
  }
  for (const [name, tier] of Object.entries(BUILT_IN_TIERS)) {
    try {
      await ds.create({ apiVersion: API_VERSION, kind: 'Tier', metadata: { name }, spec: { order: tier.order, defaultAction: tier.defaultAction } });
      report.tiersCreated.push(name);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
  return report;
}

function newGUID(): string {
  return randomUUID().replace(/-/g, '');
}

async function ensureClusterInformation(ds: Datastore, opts: InitializeOptions): Promise<InitializeReport['clusterInformation']> {
  let lastRace: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let stored: Resource;
    try {
      stored = await ds.get(CLUSTER_INFO);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      const spec: Record<string, unknown> = { clusterGUID: (opts.newClusterGUID ?? newGUID)(), datastoreReady: true };
      if (opts.calicoVersion) spec.calicoVersion = opts.calicoVersion;
      if (opts.clusterType) spec.clusterType = opts.clusterType;
      try {
        await ds.create({ apiVersion: API_VERSION, kind: 'ClusterInformation', metadata: { name: 'default' }, spec });
        return 'created';
      } catch (createErr) {
        if (!(createErr instanceof AlreadyExistsError)) throw createErr;
        lastRace = createErr; // another writer got there first: read theirs
        continue;
      }
    }
    const spec = fillIn({ ...stored.spec }, opts);
    if (!spec) return 'unchanged';
    try {
      await ds.update({ ...stored, spec });
      return 'updated';
    } catch (err) {
      if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
      lastRace = err;
    }
  }
  throw lastRace;
}

/** The spec with what is missing filled in, or undefined when nothing needs to change. */
function fillIn(spec: Record<string, unknown>, opts: InitializeOptions): Record<string, unknown> | undefined {
  let changed = false;
  if (opts.calicoVersion && spec.calicoVersion !== opts.calicoVersion) {
    spec.calicoVersion = opts.calicoVersion;
    changed = true;
  }
  if (typeof spec.clusterGUID !== 'string' || spec.clusterGUID === '') {
    spec.clusterGUID = (opts.newClusterGUID ?? newGUID)();
    changed = true;
  }
  if (spec.datastoreReady === undefined) {
    spec.datastoreReady = true;
    changed = true;
  }
  if (opts.clusterType) {
    const stored = typeof spec.clusterType === 'string' && spec.clusterType !== '' ? spec.clusterType.split(',') : [];
    const added = opts.clusterType.split(',').filter((t) => t !== '' && !stored.includes(t));
    if (added.length) {
      spec.clusterType = [...stored, ...added].join(',');
      changed = true;
    }
  }
  return changed ? spec : undefined;
}
