/**
 * Which pools an allocation may use, and which addresses in them it must skip.
 *
 * A pool takes part when it is of the requested IP version, not `disabled`, allows `Workload`
 * use, and its `nodeSelector` matches the node's labels (from the Node resource; a node without
 * one has no labels, so only selectors like `all()` match it). Without an explicit request only
 * pools with `assignmentMode: Automatic` (the default) are used; an explicit request (the CNI
 * config's `ipv4_pools`, by CIDR or by pool name) may name a Manual pool, and naming a pool that
 * does not exist or is disabled is an error rather than a silent fallback.
 *
 * IPReservation entries are addresses no pool hands out; they are checked per block, so a
 * reservation costs nothing for blocks it does not touch.
 */
import { cidrContainsIP, cidrsOverlap, formatCIDR, parseCIDR, parseIP, parseSelector, type CIDR, type IPVersion, type Resource } from '@cattail/api';
import type { Datastore } from '../datastore.js';
import { NotFoundError } from '../errors.js';
import { ipAt } from './block.js';
import { InvalidIpamRequestError, UnknownNodeError } from './errors.js';
import type { IpamLogger } from './logger.js';

export interface UsablePool {
  readonly name: string;
  readonly cidr: CIDR;
  readonly blockPrefix: number;
}

interface PoolSpec {
  cidr?: string;
  blockSize?: number;
  disabled?: boolean;
  nodeSelector?: string;
  allowedUses?: string[];
  assignmentMode?: string;
}

const DEFAULT_BLOCK = { 4: 26, 6: 122 } as const;

/** The node's labels (empty when there is no Node resource). */
/**
 * The node's labels, for pools' nodeSelectors. A node without a Node resource is refused, as
 * libcalico-go's AutoAssign refuses it (it reads the Node before choosing pools or blocks).
 */
export async function nodeLabels(ds: Datastore, node: string): Promise<Record<string, string>> {
  try {
    const res = await ds.get({ kind: 'Node', name: node });
    return { ...(res.metadata.labels ?? {}) };
  } catch (err) {
    if (err instanceof NotFoundError) throw new UnknownNodeError(node, { cause: err });
    throw err;
  }
}

function describePool(p: Resource): string {
  return `IPPool "${p.metadata.name}"`;
}

/**
 * Pools of `version` usable for `node` and `intendedUse`, in name order (or in the order requested). `requested`
 * holds CIDRs or pool names, possibly of both versions; entries of the other version are ignored.
 */
export function selectPools(
  pools: readonly Resource[],
  version: IPVersion,
  labels: Record<string, string>,
  requested: readonly string[] | undefined,
  log?: IpamLogger,
  intendedUse: 'Workload' | 'Tunnel' = 'Workload',
): UsablePool[] {
  const parsed = pools
    .map((p) => {
      const spec = (p.spec ?? {}) as PoolSpec;
      return { res: p, spec, cidr: parseCIDR(String(spec.cidr ?? '')) };
    })
    .filter((p): p is { res: Resource; spec: PoolSpec; cidr: CIDR } => p.cidr !== undefined)
    .sort((a, b) => (a.res.metadata.name < b.res.metadata.name ? -1 : a.res.metadata.name > b.res.metadata.name ? 1 : 0));

  let chosen: typeof parsed;
  const wanted = requested?.filter((r) => {
    const c = parseCIDR(r);
    return c ? c.version === version : true;
  });
  if (wanted && wanted.length > 0) {
    chosen = [];
    for (const req of wanted) {
      const c = parseCIDR(req);
      const match = parsed.find((p) => (c ? formatCIDR(p.cidr) === formatCIDR(c) : p.res.metadata.name === req));
      if (!match) {
        throw new InvalidIpamRequestError(
          `requested pool ${req} does not exist: create an IPPool with that ${c ? 'CIDR' : 'name'} or fix the CNI config's ipv${version}_pools`,
        );
      }
      if (match.cidr.version !== version) continue;
      if (match.spec.disabled === true) {
        throw new InvalidIpamRequestError(`requested pool ${req} (${describePool(match.res)}) is disabled: enable it or request another pool`);
      }
      chosen.push(match);
    }
  } else {
    chosen = parsed.filter((p) => p.cidr.version === version && p.spec.disabled !== true && (p.spec.assignmentMode ?? 'Automatic') === 'Automatic');
  }

  const out: UsablePool[] = [];
  for (const p of chosen) {
    const uses = p.spec.allowedUses ?? ['Workload', 'Tunnel'];
    if (!uses.includes(intendedUse)) continue;
    const selector = p.spec.nodeSelector?.trim() || 'all()';
    let selects: boolean;
    try {
      selects = parseSelector(selector).evaluate(labels);
    } catch {
      log?.warn({ pool: p.res.metadata.name, selector }, 'pool has an invalid nodeSelector: skipped');
      continue;
    }
    if (!selects) {
      if (wanted && wanted.length > 0) log?.warn({ pool: p.res.metadata.name }, 'requested pool does not select this node: skipped');
      continue;
    }
    const usable = usablePool(p);
    if (usable) out.push(usable);
  }
  return out;
}

function usablePool(p: { res: Resource; spec: PoolSpec; cidr: CIDR }): UsablePool | undefined {
  const blockPrefix = typeof p.spec.blockSize === 'number' && p.spec.blockSize > 0 ? p.spec.blockSize : DEFAULT_BLOCK[p.cidr.version];
  if (blockPrefix < p.cidr.prefix) return undefined;
  return { name: p.res.metadata.name, cidr: p.cidr, blockPrefix };
}

/**
 * The enabled pools for Workload use, whatever their assignment mode and node selector: where a
 * specifically requested address may come from (libcalico-go's AssignIP checks only that).
 */
export function enabledPools(pools: readonly Resource[]): UsablePool[] {
  const out: UsablePool[] = [];
  for (const res of pools) {
    const spec = (res.spec ?? {}) as PoolSpec;
    const cidr = parseCIDR(String(spec.cidr ?? ''));
    if (!cidr || spec.disabled === true || !(spec.allowedUses ?? ['Workload', 'Tunnel']).includes('Workload')) continue;
    const usable = usablePool({ res, spec, cidr });
    if (usable) out.push(usable);
  }
  return out;
}

/** The pool a block belongs to, if any of `pools` holds it. */
export function poolOfBlock(pools: readonly UsablePool[], block: CIDR): UsablePool | undefined {
  return pools.find((p) => p.cidr.version === block.version && block.prefix >= p.cidr.prefix && cidrContainsIP(p.cidr, block.addr));
}

/** Every reserved range (IPReservation `reservedCIDRs`; bare addresses become /32 or /128). */
export async function listReservations(ds: Datastore): Promise<CIDR[]> {
  const { items } = await ds.list('IPReservation');
  const out: CIDR[] = [];
  for (const r of items) {
    const cidrs = (r.spec as { reservedCIDRs?: unknown } | undefined)?.reservedCIDRs;
    if (!Array.isArray(cidrs)) continue;
    for (const text of cidrs) {
      if (typeof text !== 'string') continue;
      const c = parseCIDR(text) ?? bareIP(text);
      if (c) out.push(c);
    }
  }
  return out;
}

function bareIP(text: string): CIDR | undefined {
  const ip = parseIP(text);
  return ip ? { version: ip.version, addr: ip, prefix: ip.version === 4 ? 32 : 128 } : undefined;
}

/** A predicate "is this ordinal of `block` reserved?", or undefined when no reservation touches it. */
export function reservedIn(block: CIDR, reservations: readonly CIDR[]): ((ordinal: number) => boolean) | undefined {
  const touching = reservations.filter((r) => r.version === block.version && cidrsOverlap(r, block));
  if (touching.length === 0) return undefined;
  return (ordinal) => {
    const ip = ipAt(block, ordinal);
    return touching.some((r) => cidrContainsIP(r, ip));
  };
}
