/**
 * StagedKubernetesNetworkPolicy (namespaced): a Kubernetes `networking.k8s.io/v1` NetworkPolicy
 * spec not yet enforced, with a `stagedAction` (`staged-policy.ts`).
 *
 * Calico validates a staged `Set` by converting it to the Calico NetworkPolicy its
 * `knp.default.` policy would become and validating that; the conversion lives in the datastore
 * package (`kdd/convert`), so here the spec is checked as Kubernetes' own validation would
 * (label selectors, ports, ipBlock CIDRs and their exceptions), which covers what the
 * conversion can fail on. A staged `Delete` must carry nothing but the action.
 */
import type { ValidationIssue } from '../errors.js';
import { cidrContains, parseCIDR } from '../net/ip.js';
import { labels } from '../validation/fields.js';
import { portName, qualifiedName } from '../validation/formats.js';
import { asArray, asObject, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { any, arr, int, intOrStr, item, obj, oneOf, str, test, type Infer } from '../validation/schema.js';
import { checkStagedDelete, isStagedDelete, stagedAction } from './staged-policy.js';

const labelSelector = () =>
  obj({
    matchLabels: labels(),
    matchExpressions: arr(
      obj(
        {
          key: str({ check: test(qualifiedName) }),
          operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
          values: arr(str()),
        },
        { required: ['key', 'operator'] },
      ),
    ),
  });

const k8sPort = intOrStr(
  test((v: number | string) => {
    if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 65535 ? undefined : `port ${v} is outside 1..65535`;
    return portName(v);
  }),
);

const peer = obj({
  podSelector: labelSelector(),
  namespaceSelector: labelSelector(),
  ipBlock: obj({ cidr: str(), except: arr(str()) }, { required: ['cidr'] }),
});

const ports = arr(obj({ protocol: oneOf(['TCP', 'UDP', 'SCTP'] as const), port: k8sPort, endPort: int(1, 65535) }));

const spec = obj({
  stagedAction: stagedAction(),
  podSelector: labelSelector(),
  ingress: arr(obj({ ports, from: arr(peer) })),
  egress: arr(obj({ ports, to: arr(peer) })),
  policyTypes: arr(oneOf(['Ingress', 'Egress'] as const), { maxItems: 2, unique: true }),
});

export type StagedKubernetesNetworkPolicySpec = Infer<typeof spec>;

function defaults(res: WithSpec): void {
  if (res.spec.stagedAction === undefined || res.spec.stagedAction === '') res.spec.stagedAction = 'Set';
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  if (isStagedDelete(res)) {
    checkStagedDelete(res, [], issues);
    return;
  }
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    asArray(res.spec[dir]).forEach((r, i) => {
      const rule = asObject(r) ?? {};
      const path = item(`spec.${dir}`, i);
      asArray(rule.ports).forEach((p, j) => checkPort(asObject(p) ?? {}, item(`${path}.ports`, j), issues));
      asArray(rule[peers]).forEach((p, j) => checkPeer(asObject(p) ?? {}, item(`${path}.${peers}`, j), issues));
    });
  }
}

function checkPort(p: Record<string, unknown>, path: string, issues: ValidationIssue[]): void {
  if (p.endPort === undefined) return;
  if (typeof p.port !== 'number') {
    issues.push({ path: `${path}.endPort`, message: 'needs a numeric port: endPort ends the range port starts' });
  } else if (typeof p.endPort === 'number' && p.endPort < p.port) {
    issues.push({ path: `${path}.endPort`, message: `${p.endPort} is less than port ${p.port}` });
  }
}

function checkPeer(p: Record<string, unknown>, path: string, issues: ValidationIssue[]): void {
  const block = asObject(p.ipBlock);
  if (block && (p.podSelector !== undefined || p.namespaceSelector !== undefined)) {
    issues.push({ path: `${path}.ipBlock`, message: 'cannot be combined with podSelector or namespaceSelector in the same peer' });
  }
  if (!block || typeof block.cidr !== 'string' || block.cidr === '') return;
  const cidr = parseCIDR(block.cidr);
  if (!cidr) {
    issues.push({ path: `${path}.ipBlock.cidr`, message: `"${block.cidr}" is not a CIDR` });
    return;
  }
  asArray(block.except).forEach((e, k) => {
    const ex = typeof e === 'string' ? parseCIDR(e) : undefined;
    const at = item(`${path}.ipBlock.except`, k);
    if (!ex) issues.push({ path: at, message: `${JSON.stringify(e)} is not a CIDR` });
    else if (ex.version !== cidr.version || !cidrContains(cidr, ex) || ex.prefix <= cidr.prefix) {
      issues.push({ path: at, message: `${String(e)} must be strictly within ${String(block.cidr)}` });
    }
  });
}

export const stagedKubernetesNetworkPolicy: KindDef = {
  kind: 'StagedKubernetesNetworkPolicy',
  spec,
  status: any(),
  defaults,
  rules,
};
