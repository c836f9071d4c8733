/**
 * IPAMBlock: one allocation block of a pool (libcalico-go model `AllocationBlock`, stored at
 * /calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26). Its name is the CIDR in Calico's name form
 * (`10-0-0-0-26`), filled in when left out.
 *
 * Beyond types, the block's own bookkeeping must hold together, since IPAM trusts it: one
 * allocation entry per address; each allocated entry points at an existing attribute; every
 * free ordinal is listed once in `unallocated` and nothing allocated is; per-allocation sequence
 * numbers are keyed by ordinals inside the block.
 */
import type { ValidationIssue } from '../errors.js';
import { cidrToName, formatCIDR, hasHostBits, parseCIDR } from '../net/ip.js';
import { asArray, asObject, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, bool, int, mapOf, obj, str, test, type Infer } from '../validation/schema.js';

const affinity = (s: string) => (/^(host|virtual):[a-zA-Z0-9.\-_]+$/.test(s) ? undefined : `"${s}" is not a block affinity: use host:<node> or virtual:<name>`);

const spec = obj(
  {
    cidr: str(),
    affinity: str({ check: test(affinity) }),
    affinityClaimTime: str(),
    strictAffinity: bool(),
    allocations: arr(int(0, undefined, { nullable: true })),
    unallocated: arr(int(0)),
    attributes: arr(obj({ handle_id: str(), secondary: mapOf(str()), alternate: mapOf(str()) })),
    sequenceNumber: int(0),
    sequenceNumberForAllocation: mapOf(int(0)),
    deleted: bool(),
    hostAffinity: str(),
  },
  { required: ['cidr'] },
);

/** `allocations` holds `null` for a free ordinal, which the schema allows (`nullable`) but cannot type. */
export type IPAMBlockSpec = Omit<Infer<typeof spec>, 'allocations'> & { allocations?: Array<number | null> };

/** The block's CIDR, when it is one without host bits. */
function blockCIDR(spec: Record<string, unknown>) {
  const c = typeof spec.cidr === 'string' ? parseCIDR(spec.cidr) : undefined;
  return c && !hasHostBits(c) ? c : undefined;
}

function defaults(res: WithSpec): void {
  const c = blockCIDR(res.spec);
  if (!c) return;
  res.spec.cidr = formatCIDR(c);
  if (!res.metadata.name) res.metadata.name = cidrToName(formatCIDR(c));
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  if (typeof s.cidr !== 'string' || s.cidr === '') return;
  const parsed = parseCIDR(s.cidr);
  if (!parsed) return void issues.push({ path: 'spec.cidr', message: `"${s.cidr}" is not a CIDR` });
  if (hasHostBits(parsed)) return void issues.push({ path: 'spec.cidr', message: `${s.cidr} has host bits set: use ${formatCIDR(parsed)}` });
  const expected = cidrToName(formatCIDR(parsed));
  if (res.metadata.name && res.metadata.name !== expected) {
    issues.push({ path: 'metadata.name', message: `must be "${expected}", the name of block ${formatCIDR(parsed)}` });
  }
  const bits = (parsed.version === 4 ? 32 : 128) - parsed.prefix;
  if (bits > 16) {
    issues.push({
      path: 'spec.cidr',
      message: `/${parsed.prefix} is too large for a block: blocks hold at most 65536 addresses`,
    });
    return;
  }
  const size = 2 ** bits;
  const allocations = asArray(s.allocations);
  const attributes = asArray(s.attributes);
  if (Array.isArray(s.allocations) && allocations.length !== size) {
    issues.push({
      path: 'spec.allocations',
      message: `has ${allocations.length} entries; a /${parsed.prefix} block has ${size} addresses`,
    });
  }
  allocations.forEach((a, i) => {
    if (typeof a === 'number' && Number.isInteger(a) && a >= attributes.length) {
      issues.push({
        path: `spec.allocations[${i}]`,
        message: `refers to attributes[${a}], but there are ${attributes.length} attributes`,
      });
    }
  });
  const listed = new Set<number>();
  asArray(s.unallocated).forEach((o, i) => {
    if (typeof o !== 'number' || !Number.isInteger(o)) return;
    const at = `spec.unallocated[${i}]`;
    if (o >= size) issues.push({ path: at, message: `ordinal ${o} is outside the block (0..${size - 1})` });
    else if (listed.has(o)) issues.push({ path: at, message: `ordinal ${o} is listed twice` });
    else if (allocations[o] !== null && allocations[o] !== undefined)
      issues.push({ path: at, message: `ordinal ${o} is allocated, so it cannot be unallocated` });
    listed.add(o);
  });
  if (allocations.length === size) {
    const missing = allocations.flatMap((a, o) => (a === null && !listed.has(o) ? [o] : []));
    if (missing.length > 0) {
      issues.push({
        path: 'spec.unallocated',
        message: `is missing free ordinal${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      });
    }
  }
  for (const key of Object.keys(asObject(s.sequenceNumberForAllocation) ?? {})) {
    if (!/^\d+$/.test(key) || Number(key) >= size) {
      issues.push({
        path: `spec.sequenceNumberForAllocation["${key}"]`,
        message: `"${key}" is not an ordinal of this block (0..${size - 1})`,
      });
    }
  }
}

export const ipamBlock: KindDef = { kind: 'IPAMBlock', spec, defaults, rules };
