/**
 * Kubernetes NetworkPolicy → Calico NetworkPolicy, as libcalico-go's `K8sNetworkPolicyToCalico`
 * builds it for Felix in Kubernetes-datastore mode:
 *
 *   name      knp.default.<name>, in the policy's namespace; tier default, order 1000
 *   selector  the podSelector (`label-selector.ts`), which always includes
 *             projectcalico.org/orchestrator == 'k8s', so only pods are selected
 *   types     from policyTypes (Ingress, Egress, in that order); none given → [Ingress], as a
 *             policy from before policyTypes existed meant
 *   rules     every Kubernetes rule becomes Allow rules: one per protocol group of its ports
 *             (`policy-ports.ts`) times one per peer; no peers → no source/destination match;
 *             a podSelector peer → selector (within the policy's namespace, as a namespaced
 *             Calico policy does), a namespaceSelector peer → namespaceSelector (plain labels:
 *             Felix adds the pcns. prefix), both → both, an ipBlock → nets (the CIDR as a
 *             network) and notNets (its excepts). Ingress rules match the peer as source and the
 *             ports as destination; egress rules put both in destination.
 *   metadata  uid through Calico's `ConvertUID`; creationTimestamp and resourceVersion as given
 *
 * A Kubernetes rule Calico cannot convert is dropped and the rest of the policy kept (Calico
 * returns the policy with an `ErrorPolicyConversion`, which its Kubernetes datastore ignores);
 * each dropped rule is a warning here. Dropping an Allow rule only ever allows less. Two places
 * differ from Calico on malformed input, both to allow less, not more: a peer whose ipBlock
 * CIDR does not parse drops its rule (Calico logs it and leaves the rule without nets, which
 * matches every address), and so does a selector with an unknown operator (Calico leaves the
 * term out). A converted rule `@cattail/api` rejects is left out too, with a warning. Only a
 * policy whose own podSelector cannot be converted fails as a whole.
 *
 * Calico leaves `tier` empty in its converted policy and treats empty as "default"; we write
 * "default", which is what Cattail's create-time defaults would fill in.
 */
import { API_VERSION, validateResource, type Resource } from '@cattail/api';
import { formatCIDR, parseCIDR } from './ip.js';
import type { K8sNetworkPolicy } from './k8s-types.js';
import { k8sSelectorToCalico } from './label-selector.js';
import { K8S_NETWORK_POLICY_PREFIX, describeInput } from './names.js';
import { groupPorts } from './policy-ports.js';
import { list, obj, requiredName, str } from './read.js';
import { InputProblem, convert, finish, type ConversionResult } from './result.js';
import { convertUID } from './uid.js';

export const K8S_POLICY_ORDER = 1000;

type Direction = 'ingress' | 'egress';

interface PeerMatch {
  selector?: string;
  namespaceSelector?: string;
  nets?: string[];
  notNets?: string[];
}

export function k8sNetworkPolicyToCalico(policy: K8sNetworkPolicy): ConversionResult {
  return convert(describeInput('NetworkPolicy', policy), () => {
    const meta = obj(policy.metadata, 'metadata');
    const name = requiredName(meta);
    const namespace = str(meta?.namespace, 'metadata.namespace');
    if (!namespace) throw new InputProblem('metadata.namespace is missing');
    const spec = obj(policy.spec, 'spec');
    const warnings: string[] = [];

    const ingress = convertRules(spec?.ingress, 'ingress', warnings);
    const egress = convertRules(spec?.egress, 'egress', warnings);
    const declared = new Set(list(spec?.policyTypes, 'spec.policyTypes').map((t, i) => str(t, `spec.policyTypes[${i}]`)));
    const types: string[] = [];
    if (declared.has('Ingress')) types.push('Ingress');
    if (declared.has('Egress')) types.push('Egress');
    else if (egress.length > 0) warnings.push('spec.policyTypes does not include Egress, so its egress rules do not apply (as in Calico)');
    if (types.length === 0) types.push('Ingress');

    const calicoSpec: Record<string, unknown> = {
      tier: 'default',
      order: K8S_POLICY_ORDER,
      selector: k8sSelectorToCalico(spec?.podSelector ?? {}, 'pod', 'spec.podSelector'),
      types,
    };
    if (ingress.length > 0) calicoSpec.ingress = ingress;
    if (egress.length > 0) calicoSpec.egress = egress;

    const res: Resource = {
      apiVersion: API_VERSION,
      kind: 'NetworkPolicy',
      metadata: { name: K8S_NETWORK_POLICY_PREFIX + name, namespace },
      spec: calicoSpec,
    };
    const uid = str(meta?.uid, 'metadata.uid');
    if (uid) res.metadata.uid = convertUID(uid);
    const created = str(meta?.creationTimestamp, 'metadata.creationTimestamp');
    if (created) res.metadata.creationTimestamp = created;
    const rv = str(meta?.resourceVersion, 'metadata.resourceVersion');
    if (rv) res.metadata.resourceVersion = rv;
    dropInvalidRules(res, warnings);
    return finish(res, warnings);
  });
}

function convertRules(rules: unknown, direction: Direction, warnings: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  list(rules, `spec.${direction}`).forEach((r, i) => {
    const at = `spec.${direction}[${i}]`;
    try {
      for (const rule of convertRule(obj(r, at) ?? {}, direction, at)) out.push(rule);
    } catch (err) {
      if (!(err instanceof InputProblem)) throw err;
      warnings.push(`${at} is left out: ${err.message}`);
    }
  });
  return out;
}

/** One Kubernetes rule → Calico rules, all or nothing (a problem anywhere drops the whole rule). */
function convertRule(rule: Record<string, unknown>, direction: Direction, at: string): Array<Record<string, unknown>> {
  const peerField = direction === 'ingress' ? 'from' : 'to';
  const peerList = list(rule[peerField], `${at}.${peerField}`);
  const peers: PeerMatch[] = peerList.length === 0 ? [{}] : peerList.map((p, i) => peerMatch(p, `${at}.${peerField}[${i}]`));
  const groups = groupPorts(list(rule.ports, `${at}.ports`), `${at}.ports`);

  const out: Array<Record<string, unknown>> = [];
  for (const group of groups) {
    for (const peer of peers) {
      const ports = group.ports ? { ports: group.ports } : {};
      const calicoRule: Record<string, unknown> = { action: 'Allow' };
      if (group.protocol) calicoRule.protocol = group.protocol;
      if (direction === 'ingress') {
        calicoRule.source = { ...peer };
        calicoRule.destination = ports;
      } else {
        calicoRule.source = {};
        calicoRule.destination = { ...ports, ...peer };
      }
      out.push(calicoRule);
    }
  }
  return out;
}

/** Calico's `k8sPeerToCalicoFields`; an ipBlock excludes the selectors (Kubernetes forbids both). */
function peerMatch(peer: unknown, at: string): PeerMatch {
  const p = obj(peer, at) ?? {};
  const block = obj(p.ipBlock, `${at}.ipBlock`);
  if (block) {
    const nets = [network(str(block.cidr, `${at}.ipBlock.cidr`) ?? '', `${at}.ipBlock.cidr`)];
    const notNets = list(block.except, `${at}.ipBlock.except`).map((e, i) => network(str(e, `${at}.ipBlock.except[${i}]`) ?? '', `${at}.ipBlock.except[${i}]`));
    return notNets.length > 0 ? { nets, notNets } : { nets };
  }
  const match: PeerMatch = {};
  const selector = k8sSelectorToCalico(p.podSelector, 'pod', `${at}.podSelector`);
  const namespaceSelector = k8sSelectorToCalico(p.namespaceSelector, 'namespace', `${at}.namespaceSelector`);
  if (selector) match.selector = selector;
  if (namespaceSelector) match.namespaceSelector = namespaceSelector;
  return match;
}

/**
 * Leaves out each Calico rule `@cattail/api` rejects (say an ipBlock whose excepts mix IP
 * versions), so one bad rule costs that rule, never the policy: a policy that disappeared would
 * stop isolating its pods, which allows more, not less.
 */
function dropInvalidRules(res: Resource, warnings: string[]): void {
  const spec = res.spec ?? {};
  const bad = new Map<string, string>();
  for (const issue of validateResource(res)) {
    const m = /^spec\.(ingress|egress)\[(\d+)\]/.exec(issue.path);
    if (m && !bad.has(m[0])) bad.set(m[0], `${issue.path}: ${issue.message}`);
  }
  for (const direction of ['ingress', 'egress'] as const) {
    const rules = spec[direction];
    if (!Array.isArray(rules)) continue;
    const kept = rules.filter((_r, i) => {
      const problem = bad.get(`spec.${direction}[${i}]`);
      if (problem) warnings.push(`a converted ${direction} rule is left out: ${problem}`);
      return !problem;
    });
    if (kept.length > 0) spec[direction] = kept;
    else delete spec[direction];
  }
}

function network(text: string, at: string): string {
  const cidr = parseCIDR(text);
  if (!cidr) throw new InputProblem(`${at} ${JSON.stringify(text)} is not a CIDR`);
  return formatCIDR(cidr);
}
