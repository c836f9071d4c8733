/**
 * Policy rules, shared by NetworkPolicy, GlobalNetworkPolicy and Profile: the schema of a Rule
 * and its EntityRules, and the rules across their fields that libcalico-go's `validateRule` and
 * `validateEntityRule` (and the v3 CRDs' CEL rules) enforce:
 *
 *   - ports/notPorts need protocol TCP, UDP or SCTP (named ports alone need no protocol); ICMP fields need protocol ICMP/ICMPv6;
 *     protocol ICMP needs ipVersion 4 (if set) and ICMPv6 needs 6
 *   - nets/notNets are CIDRs without host bits, all of one IP version, matching ipVersion
 *   - an http match needs action Allow and protocol TCP (or none)
 *   - global() only as a whole namespaceSelector; services exclude selectors, nets and
 *     service accounts, and destination services exclude ports
 *   - in policies: no services in an egress source or ingress destination, no http on egress,
 *     and a GlobalNetworkPolicy's service match must name a namespace
 */
import type { ValidationIssue } from '../errors.js';
import { parseNet } from '../validation/formats.js';
import { annotations, name, port, protocol, protocolHasPorts, protocolNumber, selector } from '../validation/fields.js';
import { asArray, asObject, asString, isSet } from '../validation/kind-def.js';
import { arr, int, item, obj, oneOf, str, test, type Infer } from '../validation/schema.js';

const icmpFields = () =>
  obj(
    { type: int(0, 254), code: int(0, 255) },
    {
      check: (v, path, issues) => {
        if (v.code !== undefined && v.type === undefined) {
          issues.push({ path: `${path}.code`, message: 'an ICMP code needs an ICMP type: set type as well' });
        }
      },
    },
  );

const entityRule = () =>
  obj({
    nets: arr(str()),
    notNets: arr(str()),
    selector: selector(),
    notSelector: selector(),
    namespaceSelector: selector(),
    ports: arr(port()),
    notPorts: arr(port()),
    services: obj({ name: name(), namespace: name() }),
    serviceAccounts: obj({ names: arr(str()), selector: selector() }),
  });

const httpPath = obj(
  { exact: str(), prefix: str() },
  {
    check: (v, path, issues) => {
      const exact = asString(v.exact);
      const prefix = asString(v.prefix);
      if (exact && prefix) issues.push({ path, message: 'set either exact or prefix, not both' });
      const p = exact ?? prefix;
      if (p === undefined) issues.push({ path, message: 'set exact or prefix' });
      else if (!p.startsWith('/') || /[? #]/.test(p)) {
        issues.push({ path, message: `"${p}" is not an HTTP path: it must start with "/" and not contain "?", "#" or spaces` });
      }
    },
  },
);

const ipVersion = () => int(undefined, undefined, { check: test((v: number) => (v === 4 || v === 6 ? undefined : `${v} is not an IP version: use 4 or 6`)) });

export const ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;

export const ruleSchema = obj(
  {
    action: oneOf(ACTIONS),
    ipVersion: ipVersion(),
    protocol: protocol(),
    notProtocol: protocol(),
    icmp: icmpFields(),
    notICMP: icmpFields(),
    source: entityRule(),
    destination: entityRule(),
    http: obj({ methods: arr(str(), { unique: true }), paths: arr(httpPath) }),
    metadata: obj({ annotations: annotations() }),
  },
  { required: ['action'] },
);

export type Rule = Infer<typeof ruleSchema>;
export type EntityRule = Infer<ReturnType<typeof entityRule>>;

/** Calico's limit on rules per direction in a policy or profile. */
const MAX_RULES = 1024;
export const rulesSchema = () => arr(ruleSchema, { maxItems: MAX_RULES });

export interface RuleContext {
  /** Which list the rule is in. */
  readonly direction: 'ingress' | 'egress';
  /** Policies restrict where services and http may appear; profiles do not. */
  readonly owner: 'NetworkPolicy' | 'GlobalNetworkPolicy' | 'Profile';
}

/** The cross-field rules for every rule of one list; `path` is e.g. `spec.ingress`. */
export function checkRules(rules: unknown, path: string, ctx: RuleContext, issues: ValidationIssue[]): void {
  asArray(rules).forEach((r, i) => {
    const rule = asObject(r);
    if (rule) checkRule(rule, item(path, i), ctx, issues);
  });
}

/** A named port (`http`), as opposed to a number or a `min:max` range. */
function isNamedPort(p: unknown): boolean {
  return typeof p === 'string' && !/^\d+(:\d+)?$/.test(p);
}

function checkRule(rule: Record<string, unknown>, path: string, ctx: RuleContext, issues: ValidationIssue[]): void {
  const src = asObject(rule.source) ?? {};
  const dst = asObject(rule.destination) ?? {};
  const proto = rule.protocol;
  const protoValid = proto === undefined || protocolNumber(proto) !== undefined;

  if (protoValid && !protocolHasPorts(proto)) {
    const why = proto === undefined ? 'protocol is not set' : `protocol is ${String(proto)}`;
    for (const [side, e] of [
      ['source', src],
      ['destination', dst],
    ] as const) {
      for (const field of ['ports', 'notPorts'] as const) {
        // Without a protocol, named ports are allowed (the port's own protocol applies, as in
        // Calico's validateRule with numorstring.AllPortsAreNamed); numbers and ranges are not.
        const bad = proto === undefined ? asArray(e[field]).some((p) => !isNamedPort(p)) : isSet(e[field]);
        if (bad) {
          issues.push({
            path: `${path}.${side}.${field}`,
            message: `${proto === undefined ? 'numeric ' : ''}${field} need protocol TCP, UDP or SCTP (${why})`,
          });
        }
      }
    }
  }

  if (rule.icmp !== undefined && protoValid) {
    const n = protocolNumber(proto);
    if (n !== 1 && n !== 58) issues.push({ path: `${path}.icmp`, message: 'ICMP fields need protocol ICMP or ICMPv6' });
  }
  for (const field of ['protocol', 'notProtocol'] as const) {
    const n = protocolNumber(rule[field]);
    const want = n === 1 ? 4 : n === 58 ? 6 : undefined;
    if (want && typeof rule.ipVersion === 'number' && rule.ipVersion !== want) {
      issues.push({ path: `${path}.ipVersion`, message: `${field} ${String(rule[field])} needs ipVersion ${want}` });
    }
  }

  checkNets(rule, src, dst, path, issues);
  checkHttp(rule, protoValid, path, ctx, issues);
  checkEntity(src, `${path}.source`, issues);
  checkEntity(dst, `${path}.destination`, issues);
  checkServices(src, dst, path, ctx, issues);
}

function checkHttp(rule: Record<string, unknown>, protoValid: boolean, path: string, ctx: RuleContext, issues: ValidationIssue[]): void {
  if (rule.http === undefined) return;
  if (rule.action !== undefined && rule.action !== 'Allow') {
    issues.push({ path: `${path}.http`, message: 'an http match is only valid on Allow rules' });
  }
  if (rule.protocol !== undefined && protoValid && protocolNumber(rule.protocol) !== 6) {
    issues.push({
      path: `${path}.protocol`,
      message: 'rules with an http match must use protocol TCP or leave it unset',
    });
  }
  if (ctx.owner !== 'Profile' && ctx.direction === 'egress') {
    issues.push({ path: `${path}.http`, message: 'an http match is not allowed in egress rules' });
  }
}

/** Where Kubernetes service matches may appear, and what they exclude. */
function checkServices(src: Record<string, unknown>, dst: Record<string, unknown>, path: string, ctx: RuleContext, issues: ValidationIssue[]): void {
  if (isSet(dst.services)) {
    for (const field of ['ports', 'notPorts'] as const) {
      if (isSet(dst[field])) {
        issues.push({
          path: `${path}.destination.${field}`,
          message: "cannot be combined with destination.services: a service match uses the service's own ports",
        });
      }
    }
  }
  if (ctx.owner === 'Profile') return;
  if (ctx.direction === 'egress' && src.services !== undefined) {
    issues.push({
      path: `${path}.source.services`,
      message: 'services are not allowed in the source of an egress rule',
    });
  }
  if (ctx.direction === 'ingress' && dst.services !== undefined) {
    issues.push({
      path: `${path}.destination.services`,
      message: 'services are not allowed in the destination of an ingress rule',
    });
  }
  if (ctx.owner === 'GlobalNetworkPolicy') {
    const [sideName, side] = ctx.direction === 'egress' ? ['destination', dst] : ['source', src];
    const services = asObject(side.services);
    if (services && !asString(services.namespace)) {
      issues.push({
        path: `${path}.${sideName}.services.namespace`,
        message: 'is required in a GlobalNetworkPolicy: service names are only unique within a namespace',
      });
    }
  }
}

function checkNets(rule: Record<string, unknown>, src: Record<string, unknown>, dst: Record<string, unknown>, path: string, issues: ValidationIssue[]): void {
  const lists = [
    ['source.nets', src.nets],
    ['source.notNets', src.notNets],
    ['destination.nets', dst.nets],
    ['destination.notNets', dst.notNets],
  ] as const;
  const ruleVersion = rule.ipVersion === 4 || rule.ipVersion === 6 ? rule.ipVersion : undefined;
  let seen4 = false;
  let seen6 = false;
  for (const [field, list] of lists) {
    let v4 = false;
    let v6 = false;
    asArray(list).forEach((n, i) => {
      if (typeof n !== 'string') return;
      const at = `${path}.${field}[${i}]`;
      const { cidr, message } = parseNet(n, { masked: true });
      if (!cidr) {
        issues.push({ path: at, message: message! });
        return;
      }
      if (cidr.version === 4) v4 = true;
      else v6 = true;
      if (ruleVersion && cidr.version !== ruleVersion) {
        issues.push({
          path: at,
          message: `${n} is an IPv${cidr.version} CIDR but the rule's ipVersion is ${ruleVersion}`,
        });
      }
    });
    if ((v4 && v6) || (v4 && seen6) || (v6 && seen4)) {
      issues.push({
        path: `${path}.${field}`,
        message: 'mixes IPv4 and IPv6 CIDRs: a rule matches only one IP version',
      });
    }
    seen4 ||= v4;
    seen6 ||= v6;
  }
}

function checkEntity(e: Record<string, unknown>, path: string, issues: ValidationIssue[]): void {
  if (typeof e.selector === 'string' && e.selector.includes('global(')) {
    issues.push({ path: `${path}.selector`, message: 'global() can only be used in a namespaceSelector' });
  }
  const ns = e.namespaceSelector;
  if (typeof ns === 'string' && ns.includes('global(') && ns.replace(/\s+/g, '') !== 'global()') {
    issues.push({ path: `${path}.namespaceSelector`, message: 'global() cannot be combined with other selectors' });
  }
  const services = asObject(e.services);
  if (!services) return;
  const at = `${path}.services`;
  if (!asString(services.name)) issues.push({ path: `${at}.name`, message: 'is required: name the Kubernetes Service to match' });
  if (isSet(e.namespaceSelector)) issues.push({ path: at, message: 'cannot be combined with namespaceSelector' });
  if (isSet(e.selector) || isSet(e.notSelector)) issues.push({ path: at, message: 'cannot be combined with selector or notSelector' });
  if (e.serviceAccounts !== undefined) issues.push({ path: at, message: 'cannot be combined with serviceAccounts' });
  if (isSet(e.nets) || isSet(e.notNets))
    issues.push({ path: at, message: "cannot be combined with nets or notNets: a service match uses the service's endpoints" });
}
