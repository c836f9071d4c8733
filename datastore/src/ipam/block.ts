/**
 * Allocation-block bookkeeping, pure: the arithmetic of a block (ordinal ⇄ address, a pool's
 * n-th block) and the edits IPAM makes to a block's record (assign, release), each returning a
 * new record so the caller can compare-and-swap it into the datastore.
 *
 * A block record is libcalico-go's `AllocationBlock`, the `spec` of our IPAMBlock kind:
 *
 *   allocations[ordinal]   index into attributes, or null when the address is free
 *   unallocated            free ordinals in the order they will be handed out: new blocks list
 *                          0..n-1, released ordinals go to the back, so a just-freed address is
 *                          the last to be reused (a stale ARP entry or conntrack flow for it has
 *                          time to age out)
 *   attributes[i]          { handle_id, secondary }: who holds the addresses pointing at i
 *   sequenceNumber         bumped on every allocation; sequenceNumberForAllocation[ordinal] is
 *                          its value when that ordinal was handed out
 *
 * Attributes no allocation points at are dropped on release and the indexes renumbered, so a
 * block never grows an attribute list longer than its live owners.
 */
import { cidrContainsIP, formatCIDR, formatIP, type CIDR, type IPAddr, type IPVersion } from '@cattail/api';

export interface AllocationAttribute {
  handle_id?: string;
  secondary?: Record<string, string>;
  alternate?: Record<string, string>;
}

/** An IPAMBlock spec with every bookkeeping field present. */
export interface AllocationBlock {
  cidr: string;
  affinity?: string;
  affinityClaimTime?: string;
  strictAffinity: boolean;
  allocations: Array<number | null>;
  unallocated: number[];
  attributes: AllocationAttribute[];
  sequenceNumber: number;
  sequenceNumberForAllocation: Record<string, number>;
  deleted: boolean;
  [extra: string]: unknown;
}

export function addressBits(version: IPVersion): number {
  return version === 4 ? 32 : 128;
}

/** Number of addresses in a CIDR (the caller keeps blocks ≤ 2^16, so this is a safe number). */
export function blockSize(cidr: CIDR): number {
  return 2 ** (addressBits(cidr.version) - cidr.prefix);
}

export function ipToBigInt(ip: IPAddr): bigint {
  let v = 0n;
  for (const b of ip.bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function bigIntToIP(value: bigint, version: IPVersion): IPAddr {
  const bytes = new Uint8Array(version === 4 ? 4 : 16);
  let v = value;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return { version, bytes };
}

function networkBig(cidr: CIDR): bigint {
  const hostBits = BigInt(addressBits(cidr.version) - cidr.prefix);
  return (ipToBigInt(cidr.addr) >> hostBits) << hostBits;
}

/** The address at `ordinal` in a block. */
export function ipAt(block: CIDR, ordinal: number): IPAddr {
  return bigIntToIP(networkBig(block) + BigInt(ordinal), block.version);
}

/** The ordinal of `ip` in a block, or undefined when it lies outside. */
export function ordinalOf(block: CIDR, ip: IPAddr): number | undefined {
  if (!cidrContainsIP(block, ip)) return undefined;
  return Number(ipToBigInt(ip) - networkBig(block));
}

/** How many blocks of prefix `blockPrefix` a pool holds. */
export function blockCount(pool: CIDR, blockPrefix: number): bigint {
  return 1n << BigInt(blockPrefix - pool.prefix);
}

/** The n-th block of a pool, as canonical CIDR text. */
export function nthBlock(pool: CIDR, blockPrefix: number, n: bigint): string {
  const step = 1n << BigInt(addressBits(pool.version) - blockPrefix);
  const addr = bigIntToIP(networkBig(pool) + n * step, pool.version);
  return `${formatIP(addr)}/${blockPrefix}`;
}

/** A block with every address free; `affinity` is `host:<node>` for a claimed block. */
export function emptyBlock(cidr: CIDR, opts: { affinity?: string; claimTime?: string; strictAffinity?: boolean } = {}): AllocationBlock {
  const size = blockSize(cidr);
  const block: AllocationBlock = {
    cidr: formatCIDR(cidr),
    strictAffinity: opts.strictAffinity ?? false,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
  if (opts.affinity !== undefined) block.affinity = opts.affinity;
  if (opts.claimTime !== undefined) block.affinityClaimTime = opts.claimTime;
  return block;
}

/**
 * A block record as read, with missing bookkeeping filled in (another writer may have left out
 * empty fields) and a null affinity turned into an absent one. Returns a copy.
 */
export function normalizeBlock(spec: Record<string, unknown>, cidr: CIDR): AllocationBlock {
  const size = blockSize(cidr);
  const copy = structuredClone(spec) as Partial<AllocationBlock> & Record<string, unknown>;
  const allocations = Array.isArray(copy.allocations) && copy.allocations.length === size ? copy.allocations : new Array<number | null>(size).fill(null);
  const out: AllocationBlock = {
    ...copy,
    cidr: formatCIDR(cidr),
    strictAffinity: copy.strictAffinity === true,
    allocations: allocations.map((a) => (typeof a === 'number' ? a : null)),
    unallocated: Array.isArray(copy.unallocated) ? copy.unallocated.filter((o) => typeof o === 'number') : [],
    attributes: Array.isArray(copy.attributes) ? copy.attributes : [],
    sequenceNumber: typeof copy.sequenceNumber === 'number' ? copy.sequenceNumber : 0,
    sequenceNumberForAllocation: copy.sequenceNumberForAllocation ?? {},
    deleted: copy.deleted === true,
  };
  if (typeof copy.affinity !== 'string' || copy.affinity === '') delete out.affinity;
  return out;
}

export function hostAffinity(node: string): string {
  return `host:${node}`;
}

/** Free ordinals usable now, in hand-out order, skipping reserved ones. */
export function freeOrdinals(block: AllocationBlock, reserved?: (ordinal: number) => boolean): number[] {
  return reserved ? block.unallocated.filter((o) => !reserved(o)) : block.unallocated.slice();
}

export function isEmpty(block: AllocationBlock): boolean {
  return block.allocations.every((a) => a === null);
}

export function ordinalsForHandle(block: AllocationBlock, handleId: string): number[] {
  const out: number[] = [];
  block.allocations.forEach((a, o) => {
    if (a !== null && block.attributes[a]?.handle_id === handleId) out.push(o);
  });
  return out;
}

export interface AssignResult {
  block: AllocationBlock;
  ordinals: number[];
}

/**
 * Take up to `num` free, unreserved ordinals for `handleId`. One attribute entry is shared by
 * all of them (as libcalico-go does per call). Returns the new record and the ordinals taken.
 */
export function assignFromBlock(
  block: AllocationBlock,
  num: number,
  handleId: string,
  secondary: Record<string, string> | undefined,
  reserved?: (ordinal: number) => boolean,
): AssignResult {
  return assignOrdinals(block, freeOrdinals(block, reserved).slice(0, Math.max(0, num)), handleId, secondary);
}

/** One given ordinal, if it is free (else nothing is assigned: `ordinals` is empty). */
export function assignOrdinal(block: AllocationBlock, ordinal: number, handleId: string, secondary: Record<string, string> | undefined): AssignResult {
  if (ordinal < 0 || ordinal >= block.allocations.length || block.allocations[ordinal] !== null) return { block, ordinals: [] };
  return assignOrdinals(block, [ordinal], handleId, secondary);
}

function assignOrdinals(block: AllocationBlock, picked: readonly number[], handleId: string, secondary: Record<string, string> | undefined): AssignResult {
  if (picked.length === 0) return { block, ordinals: [] };
  const next = structuredClone(block);
  const attr: AllocationAttribute = { handle_id: handleId };
  if (secondary && Object.keys(secondary).length > 0) attr.secondary = { ...secondary };
  const index = next.attributes.length;
  next.attributes.push(attr);
  const taken = new Set(picked);
  next.unallocated = next.unallocated.filter((o) => !taken.has(o));
  for (const o of picked) {
    next.allocations[o] = index;
    next.sequenceNumberForAllocation[String(o)] = next.sequenceNumber;
  }
  next.sequenceNumber += 1;
  return { block: next, ordinals: [...picked] };
}

/** Free the given ordinals (those already free are ignored); unused attributes are dropped. */
export function releaseOrdinals(block: AllocationBlock, ordinals: readonly number[]): AssignResult {
  const next = structuredClone(block);
  const freed: number[] = [];
  for (const o of ordinals) {
    if (o < 0 || o >= next.allocations.length || next.allocations[o] === null) continue;
    next.allocations[o] = null;
    delete next.sequenceNumberForAllocation[String(o)];
    next.unallocated.push(o);
    freed.push(o);
  }
  if (freed.length === 0) return { block, ordinals: [] };
  compactAttributes(next);
  return { block: next, ordinals: freed };
}

/** Free every address `handleId` holds in the block. */
export function releaseHandle(block: AllocationBlock, handleId: string): AssignResult {
  return releaseOrdinals(block, ordinalsForHandle(block, handleId));
}

function compactAttributes(block: AllocationBlock): void {
  const used = new Set<number>();
  for (const a of block.allocations) if (a !== null) used.add(a);
  if (used.size === block.attributes.length) return;
  const renumber = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  block.attributes.forEach((attr, i) => {
    if (!used.has(i)) return;
    renumber.set(i, kept.length);
    kept.push(attr);
  });
  block.attributes = kept;
  block.allocations = block.allocations.map((a) => (a === null ? null : (renumber.get(a) ?? null)));
}
