/**
 * BlockAffinity: a node's claim on an IPAM block (libcalico-go model `BlockAffinity`, stored at
 * /calico/ipam/v2/host/<node>/ipv4/block/<cidr>). Its name is `<node>-<cidr name>`, as Calico's
 * Kubernetes backend names it, filled in when left out; state defaults to `confirmed`, which is
 * what Calico assumes for affinities written before states existed.
 *
 * `deleted` is a boolean here; libcalico-go's v3 type holds it as the string "true"/"false",
 * which is accepted too.
 */
import type { ValidationIssue } from '../errors.js';
import { blockAffinityName } from '../keys.js';
import { formatCIDR, hasHostBits, parseCIDR } from '../net/ip.js';
import { cidr, name } from '../validation/fields.js';
import { asString, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { any, obj, oneOf, test, type Infer } from '../validation/schema.js';

const deleted = test((v: unknown) =>
  typeof v === 'boolean' || v === 'true' || v === 'false' ? undefined : `expected true or false, got ${JSON.stringify(v)}`,
);

const spec = obj(
  {
    state: oneOf(['confirmed', 'pending', 'pendingDeletion'] as const),
    node: name(),
    cidr: cidr({ masked: true }),
    deleted: any({ check: deleted }),
  },
  { required: ['node', 'cidr'] },
);

export type BlockAffinitySpec = Omit<Infer<typeof spec>, 'deleted'> & { deleted?: boolean | 'true' | 'false' };

function canonicalCIDR(v: unknown): string | undefined {
  const c = typeof v === 'string' ? parseCIDR(v) : undefined;
  return c && !hasHostBits(c) ? formatCIDR(c) : undefined;
}

function defaults(res: WithSpec): void {
  const s = res.spec;
  if (s.state === undefined || s.state === '') s.state = 'confirmed';
  if (s.deleted === undefined) s.deleted = false;
  const c = canonicalCIDR(s.cidr);
  if (c) s.cidr = c;
  const node = asString(s.node);
  if (!res.metadata.name && node && c) res.metadata.name = blockAffinityName(node, c);
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  const node = asString(s.node);
  const c = canonicalCIDR(s.cidr);
  if (node && c && res.metadata.name) {
    const expected = blockAffinityName(node, c);
    if (res.metadata.name !== expected) {
      issues.push({ path: 'metadata.name', message: `must be "${expected}", derived from spec.node and spec.cidr` });
    }
  }
}

export const blockAffinity: KindDef = { kind: 'BlockAffinity', spec, defaults, rules };
