/**
 * v3 rules → the dataplane's rules (Calico's `RuleAPIV2ToBackend` then the RuleScanner's
 * `ruleToParsedRule`): every selector becomes the ID of an IP set the graph keeps filled.
 *
 * Per side (source, destination) of a rule:
 *   - the positive selector is `entityRuleSelector(...)` (selector + namespaceSelector +
 *     serviceAccounts + the policy's namespace); when `notSelector` is also set it is folded in
 *     as `(pos) && (!(not))`, so one IP set does both (only valid with a positive selector:
 *     without one the negation must also match addresses outside any endpoint)
 *   - named ports (`ports: ["http"]`) become `ip-port` IP sets of (selector or all(), port name,
 *     protocol of the rule: UDP, SCTP, otherwise TCP); negated named ports filter by the
 *     positive selector too
 *   - the plain selector IP set is only needed when there are numeric ports or no named ports:
 *     a named-port set already restricts the addresses to the selector's endpoints
 *
 * Kubernetes Service matches (`services: {name, namespace}`) become Calico's service IP sets:
 * `ip-port` (`dstIpPortSetIds`) for a destination, `net` for a source, filled from the felix
 * syncer's KubernetesService and KubernetesEndpointSlice (./service-index.ts). In etcd mode
 * nothing fills them: the rule matches what Calico's would for a service without endpoints
 * (nothing), rather than being dropped or widened.
 *
 * IP set IDs are Calico's (libcalico-go `hash.MakeUniqueID`): a selector set is
 * `selector.uniqueId()`; a named-port set is `n:` + base64url(SHA-224(`n:<selector id>,<proto>,
 * <port name>`)); service sets hash `svc:<ns>/<name>` and `svcnoport:<ns>/<name>` the same way.
 *
 * Rules arrive typed (`Validated<Rule>` of `@cattail/api`) and validated by Typha: the action is
 * one of the four, ports and protocols have their types, ICMP fields are numbers. Entity `nets`
 * are not checked by the API (Calico's are not either), so an unparsable one is dropped here.
 */
import { createHash } from 'node:crypto';
import { formatCIDR, parseCIDR, parseIP, parseSelectorCached, type EntityRule, type Rule as RuleSpec, type Selector, type Validated } from '@cattail/api';
import type { IPSetType, IcmpMatch, PortRange, Protocol, Rule } from '../proto/messages.js';
import { asLabels } from './decode-util.js';
import { entityRuleSelector, type EntitySelectorFields } from './selector-text.js';

export type NamedPortProtocol = 'tcp' | 'udp' | 'sctp';

/** An IP set a rule needs: a selector, optionally narrowed to one named port; or a service. */
export interface IPSetData {
  readonly id: string;
  readonly type: IPSetType;
  /** Absent for a service set, which no selector fills. */
  readonly selector?: Selector;
  readonly namedPort?: string;
  readonly namedPortProtocol?: NamedPortProtocol;
  /** `namespace/name` of a Kubernetes Service. */
  readonly service?: string;
}

const ALL = parseSelectorCached('all()');

type RuleIn = Validated<RuleSpec>;
type EntityIn = Validated<EntityRule>;
const NO_ENTITY: EntityIn = Object.freeze({});

/**
 * Parses one `ingress` or `egress` list. `namespace` is the NetworkPolicy's ('' for global
 * policies and profiles). `ipSets` collects the sets used, shared across both directions.
 * Throws SelectorSyntaxError or Error on rules that cannot be understood.
 */
export function parseRules(list: readonly RuleIn[], namespace: string, ipSets: Map<string, IPSetData>): Rule[] {
  return list.map((raw, position) => parseRule(raw, position, namespace, ipSets));
}

function parseRule(raw: RuleIn, position: number, namespace: string, ipSets: Map<string, IPSetData>): Rule {
  const rule: Rule = { action: raw.action, position };
  if (raw.ipVersion === 4 || raw.ipVersion === 6) rule.ipVersion = raw.ipVersion;
  const protocol = protocolOf(raw.protocol);
  if (protocol !== undefined) rule.protocol = protocol;
  const notProtocol = protocolOf(raw.notProtocol);
  if (notProtocol !== undefined) rule.notProtocol = notProtocol;

  const namedPortProtocol = namedPortProtocolOf(protocol);
  parseSide(rule, 'src', raw.source ?? NO_ENTITY, namespace, namedPortProtocol, ipSets);
  parseSide(rule, 'dst', raw.destination ?? NO_ENTITY, namespace, namedPortProtocol, ipSets);

  const icmp = icmpOf(raw.icmp);
  if (icmp) rule.icmp = icmp;
  const notIcmp = icmpOf(raw.notICMP);
  if (notIcmp) rule.notIcmp = notIcmp;
  const annotations = raw.metadata?.annotations;
  if (annotations && Object.keys(annotations).length > 0) rule.annotations = { ...asLabels(annotations) };
  return rule;
}

type Side = 'src' | 'dst';

function parseSide(rule: Rule, side: Side, er: EntityIn, namespace: string, proto: NamedPortProtocol, ipSets: Map<string, IPSetData>): void {
  const sa = er.serviceAccounts;
  const fields: EntitySelectorFields = {
    selector: er.selector ?? undefined,
    notSelector: er.notSelector ?? undefined,
    namespaceSelector: er.namespaceSelector ?? undefined,
    serviceAccounts: sa ? { names: sa.names ?? undefined, selector: sa.selector ?? undefined } : undefined,
  };
  let positive = entityRuleSelector(fields, namespace);
  let negative = fields.notSelector ?? '';
  if (positive !== '' && negative !== '') {
    positive = `(${positive}) && (!(${negative}))`;
    negative = '';
  }
  const posSel = positive === '' ? undefined : parseSelectorCached(positive);
  const negSel = negative === '' ? undefined : parseSelectorCached(negative);

  const ports = splitPorts(er.ports ?? []);
  const notPorts = splitPorts(er.notPorts ?? []);
  const namedPortBase = posSel ?? ALL;

  setList(rule, `${side}Nets`, netsOf(er.nets ?? []));
  setList(rule, `${side}Ports`, ports.numeric);
  setList(
    rule,
    `${side}NamedPortIpSetIds`,
    ports.named.map((n) => use(ipSets, namedPortSet(namedPortBase, n, proto))),
  );
  if (posSel && (ports.numeric.length > 0 || ports.named.length === 0)) {
    setList(rule, `${side}IpSetIds`, [use(ipSets, selectorSet(posSel))]);
  }
  const svc = er.services;
  if (svc?.name) {
    const set = serviceSet(`${svc.namespace || namespace}/${svc.name}`, side === 'dst');
    if (side === 'dst') rule.dstIpPortSetIds = [use(ipSets, set)];
    else rule.srcIpSetIds = [...(rule.srcIpSetIds ?? []), use(ipSets, set)];
  }
  const not = side === 'src' ? 'notSrc' : 'notDst';
  setList(rule, `${not}Nets`, netsOf(er.notNets ?? []));
  setList(rule, `${not}Ports`, notPorts.numeric);
  setList(
    rule,
    `${not}NamedPortIpSetIds`,
    notPorts.named.map((n) => use(ipSets, namedPortSet(namedPortBase, n, proto))),
  );
  if (negSel) setList(rule, `${not}IpSetIds`, [use(ipSets, selectorSet(negSel))]);
}

type ListField =
  | `${Side | 'notSrc' | 'notDst'}Nets`
  | `${Side | 'notSrc' | 'notDst'}Ports`
  | `${Side | 'notSrc' | 'notDst'}NamedPortIpSetIds`
  | `${Side | 'notSrc' | 'notDst'}IpSetIds`;

function setList(rule: Rule, field: ListField, values: string[] | PortRange[]): void {
  if (values.length > 0) (rule as unknown as Record<string, unknown>)[field] = values;
}

function use(ipSets: Map<string, IPSetData>, set: IPSetData): string {
  if (!ipSets.has(set.id)) ipSets.set(set.id, set);
  return set.id;
}

export function selectorSet(selector: Selector): IPSetData {
  return { id: selector.uniqueId(), type: 'net', selector };
}

export function namedPortSet(selector: Selector, port: string, protocol: NamedPortProtocol): IPSetData {
  const id = uniqueId('n', `${selector.uniqueId()},${protocol},${port}`);
  return { id, type: 'ip-port', selector, namedPort: port, namedPortProtocol: protocol };
}

/** A Kubernetes Service's endpoints: with ports for a destination, addresses only for a source. */
export function serviceSet(service: string, withPorts: boolean): IPSetData {
  return withPorts ? { id: uniqueId('svc', service), type: 'ip-port', service } : { id: uniqueId('svcnoport', service), type: 'net', service };
}

/** libcalico-go `hash.MakeUniqueID`. */
function uniqueId(prefix: string, content: string): string {
  return `${prefix}:${createHash('sha224').update(`${prefix}:${content}`).digest('base64url')}`;
}

/** Numeric ports and ranges, and named ports, of a v3 port list. */
function splitPorts(list: readonly (number | string)[]): { numeric: PortRange[]; named: string[] } {
  const numeric: PortRange[] = [];
  const named: string[] = [];
  for (const p of list) {
    if (typeof p === 'number') {
      numeric.push({ first: p, last: p });
    } else {
      const m = /^(\d+)(?::(\d+))?$/.exec(p);
      if (m) numeric.push({ first: Number(m[1]), last: Number(m[2] ?? m[1]) });
      else named.push(p);
    }
  }
  return { numeric, named };
}

/** Masked CIDRs; a bare address is a host CIDR. Unparsable entries are dropped, as in Calico. */
function netsOf(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of list) {
    const text = normalizeNet(n);
    if (text !== undefined) out.push(text);
  }
  return out;
}

/** `10.0.0.5/24` → `10.0.0.0/24`, `10.0.0.5` → `10.0.0.5/32`; undefined when not an address. */
export function normalizeNet(text: string): string | undefined {
  const cidr = parseCIDR(text);
  if (cidr) return formatCIDR(cidr);
  const ip = parseIP(text);
  return ip ? formatCIDR({ version: ip.version, addr: ip, prefix: ip.version === 4 ? 32 : 128 }) : undefined;
}

/** v3 protocols in v1 form: names lower-cased, numbers (also as digit strings) as numbers. */
function protocolOf(v: number | string | null | undefined): Protocol | undefined {
  if (typeof v === 'number') return v;
  if (!v) return undefined;
  return /^\d+$/.test(v) ? Number(v) : v.toLowerCase();
}

function namedPortProtocolOf(protocol: Protocol | undefined): NamedPortProtocol {
  if (protocol === 'udp' || protocol === 17) return 'udp';
  if (protocol === 'sctp' || protocol === 132) return 'sctp';
  return 'tcp';
}

function icmpOf(v: RuleIn['icmp']): IcmpMatch | undefined {
  if (v === null || v === undefined || v.type === null || v.type === undefined) return undefined;
  return v.code === null || v.code === undefined ? { type: v.type } : { type: v.type, code: v.code };
}
