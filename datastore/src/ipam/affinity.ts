/**
 * Host affinity: a node's claim on a block, so that node hands out the block's addresses and
 * the cluster routes the whole block to it (one route per block instead of one per pod).
 *
 * Claiming is three compare-and-swap steps, in libcalico-go's order, each safe to lose:
 *
 *   1. create BlockAffinity /calico/ipam/v2/host/<node>/ipv4/block/<cidr>  state "pending"
 *        exists already → another ADD on this node is claiming the same block: join it
 *   2. create IPAMBlock with affinity "host:<node>"
 *        exists already → read it: ours (a concurrent ADD here made it) → go on;
 *                         another node's → delete our pending affinity, report "taken"
 *   3. mark the affinity "confirmed"
 *
 * The block's own `affinity` field is the single source of truth (step 2 can succeed for only
 * one node); the affinity record is the per-host index that lets a node find its blocks with
 * one prefix read. A crash after step 1 leaves a pending affinity without a block, which the
 * next claim of that block on the same node simply completes.
 */
import { API_VERSION, blockAffinityName, formatCIDR, keyFor, listPrefix, type CIDR, type IPVersion, type Resource } from '@cattail/api';
import type { Datastore } from '../datastore.js';
import { NotFoundError } from '../errors.js';
import { emptyBlock, hostAffinity } from './block.js';
import { createBlock, readBlock } from './block-store.js';
import { isCasLoss, withCasRetry, type RetryPolicy } from './retry.js';

const AFFINITY_KIND = 'BlockAffinity';

export type AffinityState = 'confirmed' | 'pending' | 'pendingDeletion';

export interface HostAffinity {
  readonly cidr: string;
  readonly state: AffinityState;
  readonly resourceVersion: string;
}

function affinityResource(node: string, cidr: string, state: AffinityState, resourceVersion?: string): Resource {
  const metadata: Resource['metadata'] = { name: blockAffinityName(node, cidr) };
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  return { apiVersion: API_VERSION, kind: AFFINITY_KIND, metadata, spec: { state, node, cidr, deleted: false } };
}

/** The etcd prefix holding a node's affinities of one IP version. */
export function hostAffinityPrefix(node: string, version: IPVersion): string {
  return `${listPrefix(AFFINITY_KIND)}${node}/ipv${version}/block/`;
}

/** The node's affinities of one IP version, with one prefix read (not a scan of all hosts). */
export async function listHostAffinities(ds: Datastore, node: string, version: IPVersion): Promise<HostAffinity[]> {
  const { entries } = await ds.listPrefix(hostAffinityPrefix(node, version));
  const out: HostAffinity[] = [];
  for (const e of entries) {
    const spec = e.resource?.spec as { cidr?: unknown; state?: unknown; deleted?: unknown } | undefined;
    if (!spec || typeof spec.cidr !== 'string' || spec.deleted === true) continue;
    const state = spec.state === 'pending' || spec.state === 'pendingDeletion' ? spec.state : 'confirmed';
    out.push({ cidr: spec.cidr, state, resourceVersion: String(e.revision) });
  }
  return out;
}

/** Every host affinity of every node (both IP versions), for controllers that look for nodes that are gone. */
export async function listAllAffinities(ds: Datastore): Promise<Array<HostAffinity & { readonly node: string }>> {
  const { items } = await ds.list(AFFINITY_KIND);
  const out: Array<HostAffinity & { node: string }> = [];
  for (const r of items) {
    const spec = r.spec as { cidr?: unknown; node?: unknown; state?: unknown; deleted?: unknown } | undefined;
    if (!spec || typeof spec.cidr !== 'string' || typeof spec.node !== 'string' || spec.deleted === true) continue;
    const state = spec.state === 'pending' || spec.state === 'pendingDeletion' ? spec.state : 'confirmed';
    out.push({ node: spec.node, cidr: spec.cidr, state, resourceVersion: r.metadata.resourceVersion ?? '' });
  }
  return out;
}

/** Delete a node's affinity record for a block, whatever its state and version (gone already is fine). */
export async function dropAffinity(ds: Datastore, policy: RetryPolicy, node: string, cidr: string): Promise<void> {
  await withCasRetry(policy, `affinity ${node} ${cidr}`, async () => {
    const current = await readAffinity(ds, node, cidr);
    if (current) await deleteAffinity(ds, node, cidr, current.resourceVersion);
  });
}

async function readAffinity(ds: Datastore, node: string, cidr: string): Promise<HostAffinity | undefined> {
  const key = keyFor(affinityResource(node, cidr, 'pending'));
  const { entries } = await ds.listPrefix(key);
  const e = entries.find((x) => x.key === key);
  const spec = e?.resource?.spec as { state?: unknown } | undefined;
  if (!e || !spec) return undefined;
  const state = spec.state === 'pending' || spec.state === 'pendingDeletion' ? spec.state : 'confirmed';
  return { cidr, state, resourceVersion: String(e.revision) };
}

export interface ClaimOptions {
  node: string;
  cidr: CIDR;
  /** Copied into the new block (IPAMConfiguration.strictAffinity): no borrowing from it. */
  strictAffinity: boolean;
  /** RFC 3339 time written as affinityClaimTime. */
  claimTime: string;
}

/**
 * Claim a block for a node. 'claimed': the block exists with this node's affinity (made by us
 * or by a concurrent claim on the same node). 'taken': another node owns it.
 */
export async function claimBlock(ds: Datastore, policy: RetryPolicy, opts: ClaimOptions): Promise<'claimed' | 'taken'> {
  const cidr = formatCIDR(opts.cidr);
  const mine = hostAffinity(opts.node);
  try {
    await ds.create(affinityResource(opts.node, cidr, 'pending'));
  } catch (err) {
    if (!isCasLoss(err)) throw err; // ours exists: join the claim in progress
  }
  try {
    await createBlock(ds, emptyBlock(opts.cidr, { affinity: mine, claimTime: opts.claimTime, strictAffinity: opts.strictAffinity }));
  } catch (err) {
    if (!isCasLoss(err)) throw err;
    const existing = await readBlock(ds, cidr);
    if (existing?.block.affinity !== mine) {
      await dropPendingAffinity(ds, policy, opts.node, cidr);
      return 'taken';
    }
  }
  await confirmAffinity(ds, policy, opts.node, cidr);
  return 'claimed';
}

async function confirmAffinity(ds: Datastore, policy: RetryPolicy, node: string, cidr: string): Promise<void> {
  await withCasRetry(policy, `affinity ${node} ${cidr}`, async () => {
    const current = await readAffinity(ds, node, cidr);
    if (current?.state === 'confirmed') return;
    if (!current) {
      await ds.create(affinityResource(node, cidr, 'confirmed'));
      return;
    }
    await ds.update(affinityResource(node, cidr, 'confirmed', current.resourceVersion));
  });
}

/** Remove this node's affinity for a block another node won, unless it was confirmed meanwhile. */
async function dropPendingAffinity(ds: Datastore, policy: RetryPolicy, node: string, cidr: string): Promise<void> {
  await withCasRetry(policy, `affinity ${node} ${cidr}`, async () => {
    const current = await readAffinity(ds, node, cidr);
    if (!current || current.state === 'confirmed') return;
    await deleteAffinity(ds, node, cidr, current.resourceVersion);
  });
}

/** Delete a node's affinity record if it is still at `resourceVersion`. */
export async function deleteAffinity(ds: Datastore, node: string, cidr: string, resourceVersion: string): Promise<void> {
  try {
    await ds.delete({ kind: AFFINITY_KIND, name: blockAffinityName(node, cidr) }, { resourceVersion });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}
