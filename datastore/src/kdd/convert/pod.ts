/**
 * Pod → WorkloadEndpoint, as libcalico-go's Kubernetes datastore presents a pod
 * (`conversion/workload_endpoint_default.go`, `conversion.go`, and the pod filter of
 * `resources/workloadendpoint.go`):
 *
 *   skipped     host-network pods and pods without spec.nodeName (Calico's WorkloadEndpoint
 *               client never shows them); finished pods (phase Succeeded, Failed or Completed,
 *               or being deleted after the CNI plugin blanked the podIP annotation) and pods
 *               without an IP. Calico's v3 API still lists those last two with empty ipNetworks
 *               and its Felix syncer drops them (`updateprocessors`: no IPNetworks, no endpoint);
 *               we drop them here, at the source, so every consumer sees what Felix sees.
 *   name        <node>-k8s-<pod>-eth0, '-' doubled in each part (`workloadEndpointName`)
 *   ipNetworks  status.podIPs, else status.podIP, else the cni.projectcalico.org/podIPs
 *               annotation, else podIP, else the AWS VPC CNI's pod-ips annotation; each a /32 or
 *               /128. Calico reads the status first and its annotations only as a fallback
 *               (they exist because kubelet is slow to write the status).
 *   labels      the pod's, plus projectcalico.org/namespace and /orchestrator, and
 *               /serviceaccount when the pod has one shorter than 63 characters
 *   profiles    kns.<ns>, and ksa.<ns>.<sa> with a service account
 *   ports       container and init-container ports with a name or a hostPort; protocol TCP
 *               when unset; a port of another protocol is left out (with a warning), as Calico
 *               leaves it out
 *   interface   "cali" + 11 hex of SHA-1("<ns>.<pod>") (`workloadInterfaceName`)
 *   also        containerID from its annotation; ipNATs from cni.projectcalico.org/floatingIPs;
 *               allowSpoofedSourcePrefixes from cni.projectcalico.org/allowedSourcePrefixes; the
 *               Multus network-status annotation; uid, creationTimestamp, generateName and
 *               resourceVersion of the pod.
 *
 * Not converted: the QoS annotations (bandwidth, burst, packet rate, connections), which Calico
 * parses into spec.qosControls; a pod carrying them converts without them.
 */
import { API_VERSION, LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, workloadEndpointName, type Resource } from '@cattail/api';
import { formatCIDR, isSingleAddress, parseCIDR, parseCIDROrIP } from './ip.js';
import type { K8sPod } from './k8s-types.js';
import {
  ANNOTATION_ALLOWED_SOURCE_PREFIXES,
  ANNOTATION_AWS_POD_IPS,
  ANNOTATION_CONTAINER_ID,
  ANNOTATION_FLOATING_IPS,
  ANNOTATION_NETWORK_STATUS,
  ANNOTATION_POD_IP,
  ANNOTATION_POD_IPS,
  DEFAULT_INTERFACE_PREFIX,
  ORCHESTRATOR_K8S,
  describeInput,
  namespaceProfileName,
  serviceAccountProfileName,
  workloadInterfaceName,
} from './names.js';
import { bool, int, list, obj, requiredName, str, strMap } from './read.js';
import { InputProblem, SkipSignal, convert, finish, type ConversionResult } from './result.js';

export const POD_ENDPOINT = 'eth0';
const FINISHED_PHASES = new Set(['Succeeded', 'Failed', 'Completed']);

export interface PodConversionOptions {
  /** The first entry of Felix's InterfacePrefix; Calico's default is "cali". */
  readonly interfacePrefix?: string;
}

export function podToWorkloadEndpoint(pod: K8sPod, options: PodConversionOptions = {}): ConversionResult {
  return convert(describeInput('Pod', pod), () => {
    const meta = obj(pod.metadata, 'metadata');
    const name = requiredName(meta);
    const namespace = str(meta?.namespace, 'metadata.namespace');
    if (!namespace) throw new InputProblem('metadata.namespace is missing');
    const spec = obj(pod.spec, 'spec');
    const status = obj(pod.status, 'status');
    const annotations = strMap(meta?.annotations, 'metadata.annotations');

    if (bool(spec?.hostNetwork, 'spec.hostNetwork')) throw new SkipSignal('host-network', 'uses the host network: no workload endpoint');
    const node = str(spec?.nodeName, 'spec.nodeName');
    if (!node) throw new SkipSignal('unscheduled', 'has no spec.nodeName yet: no workload endpoint');

    const wepName = workloadEndpointName({ orchestrator: ORCHESTRATOR_K8S, node, pod: name, endpoint: POD_ENDPOINT });
    if (!wepName) throw new InputProblem(`node "${node}" or pod name "${name}" begins or ends with '-': no workload endpoint name can be formed`);

    // Calico parses the addresses before deciding the pod is finished, so a malformed address
    // is an error even then.
    const ipNetworks = podIPs(status, annotations);
    if (isFinished(meta, status, annotations)) throw new SkipSignal('finished', 'has finished (or released its IPs while terminating): no workload endpoint');
    if (ipNetworks.length === 0) throw new SkipSignal('no-ip', 'has no IP yet: no workload endpoint');

    const serviceAccount = str(spec?.serviceAccountName, 'spec.serviceAccountName') ?? '';
    const labels = strMap(meta?.labels, 'metadata.labels');
    labels[LABEL_NAMESPACE] = namespace;
    labels[LABEL_ORCHESTRATOR] = ORCHESTRATOR_K8S;
    if (serviceAccount !== '' && serviceAccount.length < 63) labels[LABEL_SERVICE_ACCOUNT] = serviceAccount;

    const warnings: string[] = [];
    const wepSpec: Record<string, unknown> = {
      orchestrator: ORCHESTRATOR_K8S,
      node,
      pod: name,
      endpoint: POD_ENDPOINT,
      interfaceName: workloadInterfaceName(namespace, name, options.interfacePrefix ?? DEFAULT_INTERFACE_PREFIX),
      profiles: serviceAccount ? [namespaceProfileName(namespace), serviceAccountProfileName(namespace, serviceAccount)] : [namespaceProfileName(namespace)],
      ipNetworks: ipNetworks.map((n) => n.text),
    };
    const containerID = annotations[ANNOTATION_CONTAINER_ID];
    if (containerID) wepSpec.containerID = containerID;
    if (serviceAccount) wepSpec.serviceAccountName = serviceAccount;
    const ports = [...containerPorts(spec?.containers, 'spec.containers', warnings), ...containerPorts(spec?.initContainers, 'spec.initContainers', warnings)];
    if (ports.length > 0) wepSpec.ports = ports;
    const nats = floatingIPs(annotations, ipNetworks);
    if (nats.length > 0) wepSpec.ipNATs = nats;
    const prefixes = allowedSourcePrefixes(annotations);
    if (prefixes.length > 0) wepSpec.allowSpoofedSourcePrefixes = prefixes;

    const wep: Resource = {
      apiVersion: API_VERSION,
      kind: 'WorkloadEndpoint',
      metadata: { name: wepName, namespace, labels },
      spec: wepSpec,
    };
    copyMeta(meta, wep, ['uid', 'creationTimestamp', 'resourceVersion', 'generateName']);
    const networkStatus = annotations[ANNOTATION_NETWORK_STATUS];
    if (networkStatus !== undefined) wep.metadata.annotations = { [ANNOTATION_NETWORK_STATUS]: networkStatus };
    return finish(wep, warnings);
  });
}

/** Copies the string fields `keys` of a Kubernetes ObjectMeta that are set. */
export function copyMeta(meta: Record<string, unknown> | undefined, res: Resource, keys: readonly string[]): void {
  for (const key of keys) {
    const v = str(meta?.[key], `metadata.${key}`);
    if (v) res.metadata[key] = v;
  }
}

interface PodNet {
  readonly version: 4 | 6;
  readonly addr: string;
  readonly text: string;
}

/** Calico's `getPodIPs`: the first source that has any, then every entry must parse. */
function podIPs(status: Record<string, unknown> | undefined, annotations: Record<string, string>): PodNet[] {
  let texts: Array<[string, string]> = [];
  const statusIPs = list(status?.podIPs, 'status.podIPs');
  const statusIP = str(status?.podIP, 'status.podIP');
  if (statusIPs.length > 0) {
    texts = statusIPs.map((p, i) => [str(obj(p, `status.podIPs[${i}]`)?.ip, `status.podIPs[${i}].ip`) ?? '', `status.podIPs[${i}].ip`]);
  } else if (statusIP) {
    texts = [[statusIP, 'status.podIP']];
  } else if (annotations[ANNOTATION_POD_IPS]) {
    texts = annotations[ANNOTATION_POD_IPS].split(',').map((t) => [t, `annotation ${ANNOTATION_POD_IPS}`]);
  } else if (annotations[ANNOTATION_POD_IP]) {
    texts = [[annotations[ANNOTATION_POD_IP], `annotation ${ANNOTATION_POD_IP}`]];
  } else if (annotations[ANNOTATION_AWS_POD_IPS]) {
    texts = annotations[ANNOTATION_AWS_POD_IPS].split(',').map((t) => [t, `annotation ${ANNOTATION_AWS_POD_IPS}`]);
  }
  return texts.map(([text, where]) => {
    const cidr = parseCIDROrIP(text);
    if (!cidr) throw new InputProblem(`${where}: "${text}" is not an IP address`);
    if (!isSingleAddress(cidr)) throw new InputProblem(`${where}: "${text}" is a network; a pod address is a single IP (/32 or /128)`);
    const formatted = formatCIDR(cidr);
    return { version: cidr.version, addr: formatted.slice(0, formatted.indexOf('/')), text: formatted };
  });
}

/** Calico's `IsFinished`. */
function isFinished(meta: Record<string, unknown> | undefined, status: Record<string, unknown> | undefined, annotations: Record<string, string>): boolean {
  if (str(meta?.deletionTimestamp, 'metadata.deletionTimestamp')) {
    // The CNI plugin blanks its annotation (and the AWS CNI its own) once the pod's network is gone.
    if (annotations[ANNOTATION_POD_IP] === '' || annotations[ANNOTATION_AWS_POD_IPS] === '') return true;
  }
  return FINISHED_PHASES.has(str(status?.phase, 'status.phase') ?? '');
}

const PORT_PROTOCOLS: Readonly<Record<string, string>> = { '': 'TCP', TCP: 'TCP', UDP: 'UDP', SCTP: 'SCTP' };

function containerPorts(containers: unknown, path: string, warnings: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  list(containers, path).forEach((c, ci) => {
    list(obj(c, `${path}[${ci}]`)?.ports, `${path}[${ci}].ports`).forEach((p, pi) => {
      const at = `${path}[${ci}].ports[${pi}]`;
      const port = obj(p, at);
      const containerPort = int(port?.containerPort, `${at}.containerPort`) ?? 0;
      const hostPort = int(port?.hostPort, `${at}.hostPort`) ?? 0;
      const name = str(port?.name, `${at}.name`) ?? '';
      if (containerPort === 0 || (hostPort === 0 && name === '')) return;
      if (containerPort < 1 || containerPort > 65535) throw new InputProblem(`${at}.containerPort ${containerPort} is outside 1..65535`);
      if (hostPort < 0 || hostPort > 65535) throw new InputProblem(`${at}.hostPort ${hostPort} is outside 0..65535`);
      const protocolText = str(port?.protocol, `${at}.protocol`) ?? '';
      const protocol = Object.hasOwn(PORT_PROTOCOLS, protocolText) ? PORT_PROTOCOLS[protocolText] : undefined;
      if (!protocol) {
        warnings.push(`${at}: protocol "${protocolText}" is not TCP, UDP or SCTP; the port is left out`);
        return;
      }
      const entry: Record<string, unknown> = { protocol, port: containerPort };
      if (name) entry.name = name;
      if (hostPort) entry.hostPort = hostPort;
      const hostIP = str(port?.hostIP, `${at}.hostIP`);
      if (hostIP) entry.hostIP = hostIP;
      out.push(entry);
    });
  });
  return out;
}

function jsonStrings(text: string, annotation: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputProblem(`annotation ${annotation}: ${JSON.stringify(text)} is not JSON (a list of strings)`);
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
    throw new InputProblem(`annotation ${annotation}: ${JSON.stringify(text)} is not a JSON list of strings`);
  }
  return parsed;
}

/** Each floating IP NATs to the pod's (last) address of its family, as Calico pairs them. */
function floatingIPs(annotations: Record<string, string>, nets: readonly PodNet[]): Array<Record<string, string>> {
  const text = annotations[ANNOTATION_FLOATING_IPS];
  if (text === undefined) return [];
  const v4 = nets.filter((n) => n.version === 4).at(-1);
  const v6 = nets.filter((n) => n.version === 6).at(-1);
  const out: Array<Record<string, string>> = [];
  for (const external of jsonStrings(text, ANNOTATION_FLOATING_IPS)) {
    const internal = external.includes(':') ? v6 : v4;
    if (internal) out.push({ internalIP: internal.addr, externalIP: external });
  }
  return out;
}

function allowedSourcePrefixes(annotations: Record<string, string>): string[] {
  const text = annotations[ANNOTATION_ALLOWED_SOURCE_PREFIXES];
  if (!text) return [];
  return jsonStrings(text, ANNOTATION_ALLOWED_SOURCE_PREFIXES).map((p) => {
    const cidr = parseCIDR(p);
    if (!cidr) throw new InputProblem(`annotation ${ANNOTATION_ALLOWED_SOURCE_PREFIXES}: "${p}" is not a CIDR`);
    return formatCIDR(cidr);
  });
}
