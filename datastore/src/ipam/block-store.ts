/**
 * Reading and writing block records through the Datastore boundary. Every write carries the
 * resourceVersion it read (compare-and-swap in one etcd transaction), so two writers can never
 * both hand out the same ordinal: the second one's write fails with ConflictError and it
 * re-reads.
 */
import { API_VERSION, cidrToName, parseCIDR, type CIDR, type Resource } from '@cattail/api';
import type { Datastore, WriteOp } from '../datastore.js';
import { NotFoundError } from '../errors.js';
import { normalizeBlock, type AllocationBlock } from './block.js';

const BLOCK_KIND = 'IPAMBlock';

export interface StoredBlock {
  readonly cidr: CIDR;
  readonly block: AllocationBlock;
  readonly resourceVersion: string;
  /** The stored record's uid and creationTimestamp, which a commit writes back as read. */
  readonly uid?: string;
  readonly creationTimestamp?: string;
}

export function blockName(cidrText: string): string {
  return cidrToName(cidrText);
}

export function storedFromResource(res: Resource): StoredBlock | undefined {
  const spec = res.spec ?? {};
  const cidr = typeof spec.cidr === 'string' ? parseCIDR(spec.cidr) : undefined;
  if (!cidr) return undefined;
  const stored: { -readonly [K in keyof StoredBlock]: StoredBlock[K] } = {
    cidr,
    block: normalizeBlock(spec, cidr),
    resourceVersion: res.metadata.resourceVersion ?? '',
  };
  if (res.metadata.uid !== undefined) stored.uid = res.metadata.uid;
  if (res.metadata.creationTimestamp !== undefined) stored.creationTimestamp = res.metadata.creationTimestamp;
  return stored;
}

/** The block at `cidrText`, or undefined when there is none. */
export async function readBlock(ds: Datastore, cidrText: string): Promise<StoredBlock | undefined> {
  try {
    return storedFromResource(await ds.get({ kind: BLOCK_KIND, name: blockName(cidrText) }));
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function toResource(block: AllocationBlock, resourceVersion?: string): Resource {
  const metadata: Resource['metadata'] = { name: blockName(block.cidr) };
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  return { apiVersion: API_VERSION, kind: BLOCK_KIND, metadata, spec: block };
}

/** Create a new block; AlreadyExistsError when someone has it. */
export async function createBlock(ds: Datastore, block: AllocationBlock): Promise<void> {
  await ds.create(toResource(block));
}

/** Replace a block if it is still at `resourceVersion`; ConflictError otherwise. */
export async function writeBlock(ds: Datastore, block: AllocationBlock, resourceVersion: string): Promise<void> {
  await ds.update(toResource(block, resourceVersion));
}

/** Delete a block if it is still at `resourceVersion`; ConflictError otherwise, NotFound ignored. */
export async function deleteBlock(ds: Datastore, cidrText: string, resourceVersion: string): Promise<void> {
  try {
    await ds.delete({ kind: BLOCK_KIND, name: blockName(cidrText) }, { resourceVersion });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

/** The commit write that replaces `stored` by `block` if it is still at its resourceVersion. */
export function blockUpdateOp(block: AllocationBlock, stored: StoredBlock): WriteOp {
  const resource = toResource(block, stored.resourceVersion);
  if (stored.uid !== undefined) resource.metadata.uid = stored.uid;
  if (stored.creationTimestamp !== undefined) resource.metadata.creationTimestamp = stored.creationTimestamp;
  return { op: 'update', resource };
}

/** The commit write that deletes `stored` if it is still at its resourceVersion. */
export function blockDeleteOp(stored: StoredBlock): WriteOp {
  return { op: 'delete', ref: { kind: BLOCK_KIND, name: blockName(stored.block.cidr) }, resourceVersion: stored.resourceVersion };
}

/** Every block in the datastore (both IP versions). */
export async function listBlocks(ds: Datastore): Promise<StoredBlock[]> {
  const { items } = await ds.list(BLOCK_KIND);
  const out: StoredBlock[] = [];
  for (const res of items) {
    const s = storedFromResource(res);
    if (s) out.push(s);
  }
  return out;
}
