/**
 * HostEndpoint: one of a host's own interfaces (or all of them, `interfaceName: "*"`), so that
 * policy can protect the host. It needs a node, and an interface name or expected IPs to find
 * the interface by; its named ports must use a protocol that has ports.
 */
import type { ValidationIssue } from '../errors.js';
import { interfaceName, ip, name, portNumber, protocol, protocolHasPorts, protocolNumber } from '../validation/fields.js';
import { portName } from '../validation/formats.js';
import { asArray, asObject, isSet, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, obj, str, test, type Infer } from '../validation/schema.js';

/** A named port of an endpoint, which policy rules can refer to by name. */
const endpointPort = obj({ name: str({ check: test(portName) }), protocol: protocol(), port: portNumber() }, { required: ['name', 'protocol', 'port'] });

const spec = obj({
  node: name(),
  interfaceName: interfaceName(),
  expectedIPs: arr(ip(), { unique: true }),
  profiles: arr(name(), { unique: true }),
  ports: arr(endpointPort),
});

export type HostEndpointSpec = Infer<typeof spec>;

/** Named ports must use TCP, UDP or SCTP. */
export function checkPortProtocols(ports: unknown, path: string, issues: ValidationIssue[]): void {
  asArray(ports).forEach((p, i) => {
    const proto = asObject(p)?.protocol;
    if (proto !== undefined && protocolNumber(proto) !== undefined && !protocolHasPorts(proto)) {
      issues.push({ path: `${path}[${i}].protocol`, message: `${String(proto)} has no ports: use TCP, UDP or SCTP` });
    }
  });
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  if (!isSet(s.node)) issues.push({ path: 'spec.node', message: 'is required: the node this host endpoint belongs to' });
  if (!isSet(s.interfaceName) && !isSet(s.expectedIPs)) {
    issues.push({
      path: 'spec.interfaceName',
      message: 'set interfaceName or expectedIPs (or both) so Calico can find the interface',
    });
  }
  checkPortProtocols(s.ports, 'spec.ports', issues);
}

export const hostEndpoint: KindDef = { kind: 'HostEndpoint', spec, rules };
