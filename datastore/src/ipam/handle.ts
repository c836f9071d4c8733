/**
 * Allocation handles: one IPAMHandle per owner (a pod: `k8s-pod-network.<containerID>`)
 * counting the addresses it holds per block, `{ block: { "10.66.0.0/26": 2 } }`, at
 * /calico/ipam/v2/handle/<handleID>, as libcalico-go keeps them.
 *
 * The handle is what makes release cheap and safe: DEL reads one record to learn which blocks
 * to visit, and never scans the pool. It is written before the block (see ipam-client.ts), so
 * at every moment it counts at least what the blocks hold for it: a crash can leave a count too
 * high (harmless: release finds nothing more), never an address without an owner record.
 */
import { API_VERSION, type Resource } from '@cattail/api';
import type { Datastore, WriteOp } from '../datastore.js';
import { NotFoundError } from '../errors.js';
import { withCasRetry, type RetryPolicy } from './retry.js';

const HANDLE_KIND = 'IPAMHandle';

/** Per-block counts of a handle; {} when the handle does not exist. */
export async function readHandle(ds: Datastore, handleId: string): Promise<{ counts: Record<string, number>; resource?: Resource }> {
  try {
    const res = await ds.get({ kind: HANDLE_KIND, name: handleId });
    return { counts: countsOf(res), resource: res };
  } catch (err) {
    if (err instanceof NotFoundError) return { counts: {} };
    throw err;
  }
}

function countsOf(res: Resource): Record<string, number> {
  const block = (res.spec as { block?: Record<string, unknown> } | undefined)?.block ?? {};
  const out: Record<string, number> = {};
  for (const [cidr, n] of Object.entries(block)) if (typeof n === 'number' && n > 0) out[cidr] = n;
  return out;
}

function handleResource(handleId: string, counts: Record<string, number>, resourceVersion?: string): Resource {
  const metadata: Resource['metadata'] = { name: handleId };
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  return { apiVersion: API_VERSION, kind: HANDLE_KIND, metadata, spec: { handleID: handleId, block: counts, deleted: false } };
}

/** Add `delta` (may be negative) to the handle's count for `blockCidr`; deletes an emptied handle. */
export async function adjustHandle(ds: Datastore, policy: RetryPolicy, handleId: string, blockCidr: string, delta: number): Promise<void> {
  if (delta === 0) return;
  await withCasRetry(policy, `handle ${handleId}`, async () => {
    const { counts, resource } = await readHandle(ds, handleId);
    const next = { ...counts, [blockCidr]: (counts[blockCidr] ?? 0) + delta };
    if (next[blockCidr] <= 0) delete next[blockCidr];
    if (!resource) {
      if (Object.keys(next).length === 0) return;
      await ds.create(handleResource(handleId, next));
      return;
    }
    if (Object.keys(next).length === 0) {
      await deleteIfUnchanged(ds, handleId, resource.metadata.resourceVersion);
      return;
    }
    await ds.update(handleResource(handleId, next, resource.metadata.resourceVersion));
  });
}

/**
 * The commit write that changes the handle `current` (as readHandle returned it) by `deltas`
 * (per block, may be negative): a create, an update at the version read, or the delete of an
 * emptied handle; undefined when nothing changes. Committed together with the block writes, so
 * the handle counts exactly what the blocks hold.
 */
export function handleWriteOp(
  handleId: string,
  current: { counts: Record<string, number>; resource?: Resource },
  deltas: Readonly<Record<string, number>>,
): WriteOp | undefined {
  const next = { ...current.counts };
  let changed = false;
  for (const [block, delta] of Object.entries(deltas)) {
    if (delta === 0) continue;
    changed = true;
    next[block] = (next[block] ?? 0) + delta;
    if (next[block] <= 0) delete next[block];
  }
  if (!changed) return undefined;
  const res = current.resource;
  if (!res) return Object.keys(next).length === 0 ? undefined : { op: 'create', resource: handleResource(handleId, next) };
  const resourceVersion = res.metadata.resourceVersion ?? '';
  if (Object.keys(next).length === 0) return { op: 'delete', ref: { kind: HANDLE_KIND, name: handleId }, resourceVersion };
  return { op: 'update', resource: { ...handleResource(handleId, next), metadata: { ...res.metadata } } };
}

/** Delete the handle only if nobody changed it since `resourceVersion` (ConflictError otherwise). */
export async function deleteIfUnchanged(ds: Datastore, handleId: string, resourceVersion: string | undefined): Promise<void> {
  try {
    await ds.delete({ kind: HANDLE_KIND, name: handleId }, { resourceVersion });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}
