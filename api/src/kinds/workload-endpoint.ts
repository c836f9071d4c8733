/**
 * WorkloadEndpoint (namespaced): a pod's or VM's interface on a host, normally written by the CNI
 * plugin. Its name is not free: Calico derives it from the spec (libcalico-go `names`):
 *
 *   k8s:         <node>-k8s-<pod>-<endpoint>
 *   cni:         <node>-cni-<containerID>-<endpoint>
 *   libnetwork:  <node>-libnetwork-libnetwork-<endpoint>
 *   other:       <node>-<orchestrator>-<workload>-<endpoint>
 *
 * with every '-' inside a segment doubled. A document may leave the name out and gets the
 * derived one; a given name must equal it. On write Calico also sets the labels
 * `projectcalico.org/namespace` and `projectcalico.org/orchestrator`, which policy selects on.
 */
import type { ValidationIssue } from '../errors.js';
import { cidrContainsIP, parseIP } from '../net/ip.js';
import { cidr, interfaceName, ip, mac, name, portNumber, protocol } from '../validation/fields.js';
import { parseNet, portName } from '../validation/formats.js';
import { asArray, asObject, asString, isSet, type KindDef, type Spec, type WithSpec } from '../validation/kind-def.js';
import { any, arr, int, mapOf, obj, str, test, type Infer } from '../validation/schema.js';
import { checkPortProtocols } from './host-endpoint.js';

const containerID = () =>
  str({
    check: test((s: string) => (/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(s) ? undefined : `"${s}" is not a container ID: letters, digits and '-'`)),
  });

const spec = obj({
  orchestrator: name(),
  workload: name(),
  node: name(),
  containerID: containerID(),
  pod: name(),
  endpoint: name(),
  serviceAccountName: name(),
  ipNetworks: arr(cidr({ masked: true, bareIP: true })),
  ipNATs: arr(obj({ internalIP: ip(), externalIP: ip(), source: str() }, { required: ['internalIP', 'externalIP'] })),
  ipv4Gateway: ip(4),
  ipv6Gateway: ip(6),
  profiles: arr(name()),
  interfaceName: interfaceName(),
  mac: mac(),
  ports: arr(
    obj(
      { name: str({ check: test(portName) }), protocol: protocol(), port: portNumber(), hostPort: int(0, 65535), hostIP: ip() },
      { required: ['protocol', 'port'] },
    ),
  ),
  allowSpoofedSourcePrefixes: arr(cidr({ bareIP: true })),
  // Newer Calico's QoS settings; carried through unchecked.
  qosControls: mapOf(any()),
});

export type WorkloadEndpointSpec = Infer<typeof spec>;

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
/** Set by the CNI plugin and the Kubernetes datastore from the pod's service account. */
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';

/** The name segments for the spec's orchestrator, as [field, value] pairs. */
function segments(spec: Spec): Array<[string, string | undefined]> {
  const orch = asString(spec.orchestrator);
  const tail: Record<string, [string, string | undefined]> = {
    k8s: ['pod', asString(spec.pod)],
    cni: ['containerID', asString(spec.containerID)],
    libnetwork: ['orchestrator', orch],
  };
  const third = (orch && Object.hasOwn(tail, orch) ? tail[orch] : undefined) ?? ['workload', asString(spec.workload)];
  return [['node', asString(spec.node)], ['orchestrator', orch], third, ['endpoint', asString(spec.endpoint)]];
}

/**
 * Calico's name for an endpoint: node, orchestrator, pod (k8s) / container ID (cni) / workload,
 * and endpoint, each with its own '-' doubled, joined by '-'; undefined when a part is missing or
 * begins or ends with '-'. The CNI plugin names the endpoints it writes with it.
 */
export function workloadEndpointName(spec: Spec): string | undefined {
  const parts: string[] = [];
  for (const [, value] of segments(spec)) {
    if (!value || value.startsWith('-') || value.endsWith('-')) return undefined;
    parts.push(value.replaceAll('-', '--'));
  }
  return parts.join('-');
}

function defaults(res: WithSpec): void {
  if (!res.metadata.name) {
    const derived = workloadEndpointName(res.spec);
    if (derived) res.metadata.name = derived;
  }
  const orch = asString(res.spec.orchestrator);
  const ns = res.metadata.namespace;
  const labels = asObject(res.metadata.labels) ?? {};
  if (ns && labels[LABEL_NAMESPACE] !== ns) labels[LABEL_NAMESPACE] = ns;
  if (orch && labels[LABEL_ORCHESTRATOR] !== orch) labels[LABEL_ORCHESTRATOR] = orch;
  if (Object.keys(labels).length > 0) res.metadata.labels = labels as Record<string, string>;
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  for (const [field, value] of segments(s)) {
    if (!value) {
      issues.push({
        path: `spec.${field}`,
        message: `is required: it forms the endpoint's name${field === 'pod' ? ' (orchestrator k8s)' : ''}`,
      });
    } else if (value.startsWith('-') || value.endsWith('-')) {
      issues.push({
        path: `spec.${field}`,
        message: `"${value}" must not begin or end with '-': it forms the endpoint's name`,
      });
    }
  }
  const expected = workloadEndpointName(s);
  if (expected && res.metadata.name && res.metadata.name !== expected) {
    issues.push({
      path: 'metadata.name',
      message: `must be "${expected}", the name Calico derives from the spec's node, orchestrator, workload and endpoint`,
    });
  }
  if (!isSet(s.interfaceName)) issues.push({ path: 'spec.interfaceName', message: 'is required: the host-side interface name (e.g. cali0ef24ba)' });

  const nets = asArray(s.ipNetworks).map((n, i) => {
    const parsed = typeof n === 'string' ? parseNet(n, { bareIP: true, masked: true }).cidr : undefined;
    if (parsed && parsed.prefix !== (parsed.version === 4 ? 32 : 128)) {
      issues.push({
        path: `spec.ipNetworks[${i}]`,
        message: `${String(n)} contains several addresses: a workload endpoint's networks are single addresses (/32 or /128)`,
      });
    }
    return parsed;
  });
  asArray(s.ipNATs).forEach((nat, i) => {
    const o = asObject(nat);
    const internal = typeof o?.internalIP === 'string' ? parseIP(o.internalIP) : undefined;
    const external = typeof o?.externalIP === 'string' ? parseIP(o.externalIP) : undefined;
    if (internal && !nets.some((n) => n && cidrContainsIP(n, internal))) {
      issues.push({
        path: `spec.ipNATs[${i}].internalIP`,
        message: `${String(o?.internalIP)} is not one of the endpoint's ipNetworks`,
      });
    }
    if (internal && external && internal.version !== external.version) {
      issues.push({ path: `spec.ipNATs[${i}].externalIP`, message: 'must be of the same IP version as internalIP' });
    }
  });
  asArray(s.ports).forEach((p, i) => {
    const o = asObject(p);
    if (o && !asString(o.name) && !(typeof o.hostPort === 'number' && o.hostPort > 0)) {
      issues.push({ path: `spec.ports[${i}].name`, message: 'is required unless hostPort is set' });
    }
  });
  checkPortProtocols(s.ports, 'spec.ports', issues);
}

export const workloadEndpoint: KindDef = {
  kind: 'WorkloadEndpoint',
  spec,
  defaults,
  rules,
};
