/**
 * IPPool: a range Calico IPAM allocates from, with its encapsulation and NAT settings.
 *
 * Defaults (libcalico-go clientv3 `ipPools.validateAndSetDefaults`): blockSize 26 (IPv4) or 122
 * (IPv6), ipipMode and vxlanMode Never, nodeSelector `all()`, allowedUses [Workload, Tunnel],
 * assignmentMode Automatic; the CIDR is rewritten in canonical form (`fd00:0::/64` → `fd00::/64`).
 * natOutgoing is left out, as Calico does (absent means false).
 *
 * Rules (clientv3 and `validateIPPoolSpec`): the CIDR has no host bits and does not overlap the
 * link-local ranges; blockSize is 20..32 (IPv4) or 116..128 (IPv6) and, for an enabled pool, no
 * smaller than the pool's prefix; IPIP is IPv4 only; IPIP and VXLAN are not both enabled; a
 * LoadBalancer pool is used for nothing else, has no encapsulation, is exported over BGP and
 * selects all nodes.
 */
import type { ValidationIssue } from '../errors.js';
import { cidrsOverlap, formatCIDR, hasHostBits, parseCIDR } from '../net/ip.js';
import { selector } from '../validation/fields.js';
import { asArray, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { any, arr, bool, int, obj, oneOf, str, type Infer } from '../validation/schema.js';

const MODES = ['Never', 'Always', 'CrossSubnet'] as const;

const spec = obj(
  {
    cidr: str(),
    vxlanMode: oneOf(MODES),
    ipipMode: oneOf(MODES),
    natOutgoing: bool(),
    disabled: bool(),
    disableBGPExport: bool(),
    blockSize: int(),
    nodeSelector: selector(),
    namespaceSelector: selector(),
    allowedUses: arr(oneOf(['Workload', 'Tunnel', 'LoadBalancer'] as const), { unique: true }),
    assignmentMode: oneOf(['Automatic', 'Manual'] as const),
  },
  { required: ['cidr'] },
);

export type IPPoolSpec = Infer<typeof spec>;

const LINK_LOCAL = { 4: parseCIDR('169.254.0.0/16')!, 6: parseCIDR('fe80::/10')! };
const BLOCK_SIZE = { 4: { min: 20, max: 32, default: 26 }, 6: { min: 116, max: 128, default: 122 } };

function defaults(res: WithSpec): void {
  const s = res.spec;
  const cidr = typeof s.cidr === 'string' ? parseCIDR(s.cidr) : undefined;
  if (cidr) {
    if (!hasHostBits(cidr)) s.cidr = formatCIDR(cidr);
    if (s.blockSize === undefined || s.blockSize === 0) s.blockSize = BLOCK_SIZE[cidr.version].default;
  }
  if (s.ipipMode === undefined || s.ipipMode === '') s.ipipMode = 'Never';
  if (s.vxlanMode === undefined || s.vxlanMode === '') s.vxlanMode = 'Never';
  if (s.nodeSelector === undefined || s.nodeSelector === '') s.nodeSelector = 'all()';
  if (s.allowedUses === undefined || (Array.isArray(s.allowedUses) && s.allowedUses.length === 0)) {
    s.allowedUses = ['Workload', 'Tunnel'];
  }
  if (s.assignmentMode === undefined || s.assignmentMode === '') s.assignmentMode = 'Automatic';
}

const enabled = (mode: unknown) => mode === 'Always' || mode === 'CrossSubnet';

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  if (typeof s.cidr !== 'string' || s.cidr === '') return;
  const cidr = parseCIDR(s.cidr);
  if (!cidr) {
    issues.push({ path: 'spec.cidr', message: `"${s.cidr}" is not a CIDR (e.g. 192.168.0.0/16 or fd00:10::/64)` });
    return;
  }
  const v = cidr.version;
  if (hasHostBits(cidr)) {
    issues.push({ path: 'spec.cidr', message: `${s.cidr} has host bits set: use ${formatCIDR(cidr)}` });
  }
  if (cidrsOverlap(cidr, LINK_LOCAL[v])) {
    issues.push({
      path: 'spec.cidr',
      message: `${s.cidr} overlaps the IPv${v} link-local range ${formatCIDR(LINK_LOCAL[v])}`,
    });
  }

  const range = BLOCK_SIZE[v];
  if (typeof s.blockSize === 'number' && Number.isInteger(s.blockSize)) {
    if (s.blockSize < range.min || s.blockSize > range.max) {
      issues.push({
        path: 'spec.blockSize',
        message: `${s.blockSize} is outside ${range.min}..${range.max} for an IPv${v} pool`,
      });
    } else if (s.disabled !== true && cidr.prefix > s.blockSize) {
      issues.push({
        path: 'spec.blockSize',
        message: `${s.blockSize} is larger than the pool itself (/${cidr.prefix}): blockSize must be ≥ ${cidr.prefix}, or disable the pool`,
      });
    }
  }

  if (v === 6 && enabled(s.ipipMode)) {
    issues.push({
      path: 'spec.ipipMode',
      message: `${String(s.ipipMode)} is not supported on an IPv6 pool: IPIP is IPv4 only, use Never (or VXLAN)`,
    });
  }
  if (enabled(s.ipipMode) && enabled(s.vxlanMode)) {
    issues.push({
      path: 'spec.vxlanMode',
      message: 'cannot enable both VXLAN and IPIP on the same pool: set one of ipipMode and vxlanMode to Never',
    });
  }

  const uses = asArray(s.allowedUses);
  if (uses.includes('Tunnel') && typeof s.namespaceSelector === 'string' && s.namespaceSelector !== '') {
    // Calico's CRD rule: tunnel addresses belong to nodes, not to a namespace's pods. Note that
    // allowedUses defaults to [Workload, Tunnel], so such a pool must list its uses.
    issues.push({
      path: 'spec.namespaceSelector',
      message: 'an IP pool with allowed use Tunnel cannot have a namespaceSelector: set allowedUses to [Workload]',
    });
  }
  if (uses.includes('LoadBalancer')) {
    for (const other of uses.filter((u) => u === 'Workload' || u === 'Tunnel')) {
      issues.push({ path: 'spec.allowedUses', message: `LoadBalancer cannot be combined with ${String(other)}` });
    }
    if (enabled(s.ipipMode) || enabled(s.vxlanMode)) {
      issues.push({
        path: 'spec.allowedUses',
        message: 'a LoadBalancer pool cannot use IPIP or VXLAN: set ipipMode and vxlanMode to Never',
      });
    }
    if (s.disableBGPExport === true) {
      issues.push({
        path: 'spec.disableBGPExport',
        message: 'must be false for a LoadBalancer pool: its addresses are advertised over BGP',
      });
    }
    if (s.nodeSelector !== undefined && s.nodeSelector !== 'all()') {
      issues.push({ path: 'spec.nodeSelector', message: 'must be all() for a LoadBalancer pool' });
    }
  }
}

/** Conditions newer Calico reports (e.g. Allocatable); carried through unchecked. */
const status = obj({ conditions: arr(any()) });

export const ipPool: KindDef = { kind: 'IPPool', spec, status, defaults, rules };
