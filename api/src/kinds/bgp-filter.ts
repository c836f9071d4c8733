/**
 * BGPFilter: ordered import and export rules, per address family, that BGPPeers name in their
 * `filters` (projectcalico/api `bgpfilter.go`). A rule matches on a CIDR (with `matchOperator`,
 * and optionally a range of prefix lengths), the route's source, outgoing interface, peer type,
 * a community, an AS path prefix or a priority, and ends in Accept or Reject; an Accept may
 * first apply operations (add a community, prepend to the AS path, set the priority).
 *
 * Rules (the Go validators and the CRD's CEL rules): the CIDR must be of the rule's family and
 * strictly masked; `cidr` and `matchOperator` are set together or not at all; `prefixLength`
 * needs `cidr`; operations only with Accept, each setting exactly one operation; the interface
 * is up to 15 of `[a-zA-Z0-9_.*-]`; community values are `aa:nn` or `aa:nn:mm`.
 */
import type { ValidationIssue } from '../errors.js';
import { asNumber, cidr } from '../validation/fields.js';
import { communityValue } from '../validation/formats.js';
import { asArray, asObject, isSet, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, int, item, obj, oneOf, str, test, type Infer } from '../validation/schema.js';

const community = () => str({ maxLength: 32, check: test(communityValue) });
const filterInterface = () =>
  str({
    check: test((s: string) =>
      s === '*' || /^[a-zA-Z0-9_.*-]{1,15}$/.test(s) ? undefined : `"${s}" is not an interface match: up to 15 of letters, digits, '_', '.', '-', '*'`,
    ),
  });

const operation = obj({
  addCommunity: obj({ value: community() }, { required: ['value'] }),
  prependASPath: obj({ prefix: arr(asNumber(), { maxItems: 10 }) }, { required: ['prefix'] }),
  setPriority: obj({ value: int(1, 2147483646) }, { required: ['value'] }),
});

function rule(version: 4 | 6) {
  const maxLen = version === 4 ? 32 : 128;
  return obj(
    {
      cidr: cidr({ version, masked: true, bareIP: true }),
      prefixLength: obj({ min: int(0, maxLen), max: int(0, maxLen) }),
      source: oneOf(['RemotePeers'] as const),
      interface: filterInterface(),
      matchOperator: oneOf(['Equal', 'NotEqual', 'In', 'NotIn'] as const),
      peerType: oneOf(['eBGP', 'iBGP'] as const),
      communities: obj({ values: arr(community(), { maxItems: 1 }) }, { required: ['values'] }),
      asPathPrefix: arr(asNumber()),
      priority: int(1, 2147483646),
      action: oneOf(['Accept', 'Reject'] as const),
      operations: arr(operation, { maxItems: 10 }),
    },
    { required: ['action'] },
  );
}

const spec = obj({
  exportV4: arr(rule(4)),
  importV4: arr(rule(4)),
  exportV6: arr(rule(6)),
  importV6: arr(rule(6)),
});

export type BGPFilterSpec = Infer<typeof spec>;

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  for (const list of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    asArray(res.spec[list]).forEach((r, i) => {
      const rl = asObject(r);
      if (rl) checkRule(rl, item(`spec.${list}`, i), issues);
    });
  }
}

function checkRule(r: Record<string, unknown>, path: string, issues: ValidationIssue[]): void {
  if (isSet(r.cidr) !== isSet(r.matchOperator)) {
    issues.push({ path: `${path}.${isSet(r.cidr) ? 'matchOperator' : 'cidr'}`, message: 'cidr and matchOperator must both be set or both be empty' });
  }
  if (r.prefixLength !== undefined && !isSet(r.cidr)) {
    issues.push({ path: `${path}.prefixLength`, message: 'needs cidr: it narrows the prefix lengths a CIDR match accepts' });
  }
  const ops = asArray(r.operations);
  if (ops.length > 0 && r.action !== 'Accept') {
    issues.push({ path: `${path}.operations`, message: 'may only be used with action Accept' });
  }
  ops.forEach((o, i) => {
    const op = asObject(o);
    if (op && Object.keys(op).filter((k) => op[k] !== undefined).length !== 1) {
      issues.push({ path: item(`${path}.operations`, i), message: 'exactly one operation must be set (addCommunity, prependASPath or setPriority)' });
    }
    const prefix = asObject(op?.prependASPath)?.prefix;
    if (Array.isArray(prefix) && prefix.length === 0) {
      issues.push({ path: `${item(`${path}.operations`, i)}.prependASPath.prefix`, message: 'is required: at least one AS number' });
    }
  });
  const values = asObject(r.communities)?.values;
  if (Array.isArray(values) && values.length === 0) issues.push({ path: `${path}.communities.values`, message: 'is required: one community value' });
}

export const bgpFilter: KindDef = { kind: 'BGPFilter', spec, rules };
