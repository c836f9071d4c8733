/**
 * A synthetic Calico cluster, deterministic from a seed and sized by a target resource count R.
 *
 * The mix follows R = 35,000 ≈ a 1,000-node Kubernetes cluster with 30 pods per node:
 *
 *   | kind                  | count (R = 35,000)  | rule                                   |
 *   |-----------------------|---------------------|----------------------------------------|
 *   | IPPool                | 2                   | pod pool 10.128.0.0/9 + a disabled one |
 *   | ClusterInformation    | 1                   | `default`                              |
 *   | FelixConfiguration    | 1                   | `default`                              |
 *   | Node                  | 1,000               | round(R / 35), at least 1              |
 *   | IPAMBlock             | 1,000               | one /26 per node                       |
 *   | BlockAffinity         | 1,000               | one per block, confirmed               |
 *   | Profile               | 200                 | kns.<ns> and ksa.<ns>.default per ns   |
 *   | NetworkPolicy         | 1,500               | round(R × 3 / 70), spread over ns      |
 *   | GlobalNetworkPolicy   | 100                 | round(R / 350)                         |
 *   | NetworkSet            | 200                 | round(R / 175), spread over ns         |
 *   | WorkloadEndpoint      | 29,996              | the rest (≈ 30 per node, ≤ 64 a block) |
 *
 * with round(R / 350) namespaces (100). Counts add up to exactly R. Every value has the shape
 * Calico stores (defaults applied, the labels Calico adds on write already present), so what a
 * reader decodes validates and round-trips through `checkResource` unchanged.
 *
 * WorkloadEndpoint names are Calico's `<node>-k8s-<pod>-<endpoint>` with every '-' inside a
 * segment doubled (node `worker-0001`, pod `web-5d8f7c9b6d-x7k2p` →
 * `worker--0001-k8s-web--5d8f7c9b6d--x7k2p-eth0`), exactly what `workloadEndpointName` derives.
 *
 * Everything random comes from `createRng(seed)` with one derived stream per kind, so adding a
 * field to one kind does not reshuffle another.
 */
import { createHash } from 'node:crypto';
import { API_VERSION, blockAffinityName, cidrToName, type Resource } from '@cattail/api';
import { createRng, deriveSeed, type Rng } from './rng.js';

/** The label the churn writer stamps with its write time (CLOCK_MONOTONIC ns, decimal). */
export const TS_LABEL = 'bench.cattail/ts';

export interface ClusterMix {
  ipPools: number;
  clusterInformation: number;
  felixConfiguration: number;
  nodes: number;
  ipamBlocks: number;
  blockAffinities: number;
  namespaces: number;
  profiles: number;
  networkPolicies: number;
  globalNetworkPolicies: number;
  networkSets: number;
  workloadEndpoints: number;
}

export interface GenerateOptions {
  /** Target number of resources (etcd keys); the result has exactly this many. */
  resources: number;
  seed?: number;
}

export interface GeneratedCluster {
  mix: ClusterMix;
  seed: number;
  /** In write order: cluster-wide config first, then nodes, IPAM, policy, endpoints. */
  resources: Resource[];
  /** The WorkloadEndpoints (the same objects as in `resources`), for the churn writer. */
  workloadEndpoints: Resource[];
  nodeNames: string[];
}

export const MIN_RESOURCES = 16;
/** Addresses of one /26 block. */
const BLOCK_SIZE = 64;
const POD_POOL = { name: 'default-ipv4-ippool', base: ipToInt('10.128.0.0'), prefix: 9 };
const NODE_NET = { base: ipToInt('100.64.0.0'), prefix: 10 };
const APPS = ['web', 'api', 'worker', 'cache', 'db', 'frontend', 'backend', 'queue', 'auth', 'search', 'billing', 'ingest'];
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

/** How many of each kind a cluster of `resources` keys has (see the table above). */
export function clusterMix(resources: number): ClusterMix {
  if (!Number.isInteger(resources) || resources < MIN_RESOURCES) {
    throw new RangeError(`resources must be an integer >= ${MIN_RESOURCES}, got ${resources}`);
  }
  const nodes = Math.max(1, Math.round(resources / 35));
  const namespaces = Math.max(1, Math.round(resources / 350));
  const mix: ClusterMix = {
    ipPools: 2,
    clusterInformation: 1,
    felixConfiguration: 1,
    nodes,
    ipamBlocks: nodes,
    blockAffinities: nodes,
    namespaces,
    profiles: 2 * namespaces,
    networkPolicies: Math.round((resources * 3) / 70),
    globalNetworkPolicies: Math.round(resources / 350),
    networkSets: Math.round(resources / 175),
    workloadEndpoints: 0,
  };
  mix.workloadEndpoints = resources - mixTotal(mix);
  if (mix.workloadEndpoints < 0 || mix.workloadEndpoints > nodes * BLOCK_SIZE) {
    throw new RangeError(`resources ${resources}: the mix leaves ${mix.workloadEndpoints} endpoints for ${nodes} nodes`);
  }
  if (nodes > 2 ** (32 - POD_POOL.prefix) / BLOCK_SIZE) throw new RangeError(`resources ${resources}: more nodes than /26 blocks in the pod pool`);
  return mix;
}

/** Number of etcd keys a mix stands for (namespaces are not resources of their own). */
export function mixTotal(m: ClusterMix): number {
  return (
    m.ipPools +
    m.clusterInformation +
    m.felixConfiguration +
    m.nodes +
    m.ipamBlocks +
    m.blockAffinities +
    m.profiles +
    m.networkPolicies +
    m.globalNetworkPolicies +
    m.networkSets +
    m.workloadEndpoints
  );
}

export function generateCluster(opts: GenerateOptions): GeneratedCluster {
  const seed = (opts.seed ?? 1) >>> 0;
  const mix = clusterMix(opts.resources);
  const rng = (purpose: string): Rng => createRng(deriveSeed(seed, purpose));
  const namespaces = Array.from({ length: mix.namespaces }, (_, i) => `ns-${pad(i, 3)}`);
  const nodeNames = Array.from({ length: mix.nodes }, (_, i) => `worker-${pad(i, 4)}`);

  const out: Resource[] = [...ipPools(), clusterInformation(seed), felixConfiguration()];
  nodeNames.forEach((n, i) => out.push(node(n, i)));

  // Endpoints first (in memory), so each node's block records exactly the addresses its pods hold.
  const wepRng = rng('wep');
  const perNode: Array<Array<{ ns: string; pod: string; containerID: string }>> = nodeNames.map(() => []);
  const workloadEndpoints: Resource[] = [];
  for (let i = 0; i < mix.workloadEndpoints; i++) {
    const nodeIndex = i % mix.nodes;
    const ordinal = perNode[nodeIndex].length;
    const ns = namespaces[wepRng.int(namespaces.length)];
    const app = wepRng.pick(APPS);
    const pod = `${app}-${wepRng.hex(10)}-${wepRng.hex(5)}`;
    const containerID = wepRng.hex(64);
    perNode[nodeIndex].push({ ns, pod, containerID });
    workloadEndpoints.push(workloadEndpoint(nodeNames[nodeIndex], ns, app, pod, containerID, blockBase(nodeIndex) + ordinal, wepRng));
  }
  nodeNames.forEach((n, i) => out.push(ipamBlock(n, i, perNode[i])));
  nodeNames.forEach((n, i) => out.push(blockAffinity(n, i)));
  for (const ns of namespaces) out.push(...profiles(ns));
  const npRng = rng('networkpolicy');
  for (let i = 0; i < mix.networkPolicies; i++) out.push(networkPolicy(namespaces[i % namespaces.length], i, npRng));
  const gnpRng = rng('globalnetworkpolicy');
  for (let i = 0; i < mix.globalNetworkPolicies; i++) out.push(globalNetworkPolicy(i, gnpRng));
  const nsetRng = rng('networkset');
  for (let i = 0; i < mix.networkSets; i++) out.push(networkSet(namespaces[i % namespaces.length], i, nsetRng));
  out.push(...workloadEndpoints);
  return { mix, seed, resources: out, workloadEndpoints, nodeNames };
}

/** Calico's WorkloadEndpoint name for a Kubernetes pod: segments joined by '-', each '-' doubled. */
export function k8sWorkloadEndpointName(node: string, pod: string, endpoint = 'eth0'): string {
  return [node, 'k8s', pod, endpoint].map((s) => s.replaceAll('-', '--')).join('-');
}

/** A copy of a WorkloadEndpoint with the churn label set to `ts` (spec and other labels shared). */
export function withTimestamp(wep: Resource, ts: string): Resource {
  return { ...wep, metadata: { ...wep.metadata, labels: { ...wep.metadata.labels, [TS_LABEL]: ts } } };
}

// ── kinds ────────────────────────────────────────────────────────────────────────────────────

function meta(name: string, namespace?: string, labels?: Record<string, string>): Resource['metadata'] {
  const m: Resource['metadata'] = { name };
  if (namespace !== undefined) m.namespace = namespace;
  if (labels !== undefined) m.labels = labels;
  return m;
}

/** The label clientv3 puts on a policy of tier `default`. */
const DEFAULT_TIER_LABEL: Readonly<Record<string, string>> = { 'projectcalico.org/tier': 'default' };

/** One creation time for the whole cluster: the generator is deterministic. */
const CREATED = '2026-01-01T00:00:00Z';

/**
 * Every resource gets the `uid` and `creationTimestamp` Calico's clientv3 sets on create (Calico's
 * own Typha refuses a ClusterInformation without them). The uid is a UUID-shaped SHA-1 of kind,
 * namespace and name, so a regenerated cluster has the same uids.
 */
function res(kind: string, metadata: Resource['metadata'], spec: Record<string, unknown>): Resource {
  const h = createHash('sha1')
    .update(`${kind}/${metadata.namespace ?? ''}/${metadata.name}`)
    .digest('hex');
  const uid = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return { apiVersion: API_VERSION, kind, metadata: { ...metadata, uid, creationTimestamp: CREATED }, spec };
}

function ipPools(): Resource[] {
  return [
    res('IPPool', meta(POD_POOL.name), {
      cidr: `${intToIp(POD_POOL.base)}/${POD_POOL.prefix}`,
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      natOutgoing: true,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    }),
    res('IPPool', meta('spare-ipv4-ippool'), {
      cidr: '172.20.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      disabled: true,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    }),
  ];
}

function clusterInformation(seed: number): Resource {
  const guid = createHash('sha1').update(`cattail-bench-${seed}`).digest('hex').slice(0, 32);
  return res('ClusterInformation', meta('default'), {
    clusterGUID: guid,
    clusterType: 'k8s,bgp,kdd',
    calicoVersion: 'v3.28.0',
    datastoreReady: true,
  });
}

function felixConfiguration(): Resource {
  return res('FelixConfiguration', meta('default'), {
    logSeverityScreen: 'Info',
    reportingInterval: '0s',
    routeRefreshInterval: '1m30s',
  });
}

function node(name: string, i: number): Resource {
  const labels = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'topology.kubernetes.io/zone': ZONES[i % ZONES.length],
    rack: `rack-${pad(Math.floor(i / 40), 3)}`,
  };
  return res('Node', meta(name, undefined, labels), {
    bgp: { ipv4Address: `${intToIp(NODE_NET.base + 1 + i)}/${NODE_NET.prefix}` },
    orchRefs: [{ nodeName: name, orchestrator: 'k8s' }],
  });
}

function blockBase(nodeIndex: number): number {
  return POD_POOL.base + nodeIndex * BLOCK_SIZE;
}

function blockCidr(nodeIndex: number): string {
  return `${intToIp(blockBase(nodeIndex))}/26`;
}

function ipamBlock(nodeName: string, i: number, pods: ReadonlyArray<{ ns: string; pod: string; containerID: string }>): Resource {
  const allocations: Array<number | null> = [];
  const unallocated: number[] = [];
  for (let o = 0; o < BLOCK_SIZE; o++) {
    if (o < pods.length) allocations.push(o);
    else {
      allocations.push(null);
      unallocated.push(o);
    }
  }
  const attributes = pods.map((p) => ({
    handle_id: `k8s-pod-network.${p.containerID}`,
    secondary: { namespace: p.ns, node: nodeName, pod: p.pod, timestamp: '2024-01-01 00:00:00.000000000 +0000 UTC' },
  }));
  const cidr = blockCidr(i);
  return res('IPAMBlock', meta(cidrToName(cidr)), {
    cidr,
    affinity: `host:${nodeName}`,
    strictAffinity: false,
    allocations,
    unallocated,
    attributes,
    sequenceNumber: pods.length,
    deleted: false,
  });
}

function blockAffinity(nodeName: string, i: number): Resource {
  const cidr = blockCidr(i);
  return res('BlockAffinity', meta(blockAffinityName(nodeName, cidr)), { state: 'confirmed', node: nodeName, cidr, deleted: false });
}

function profiles(ns: string): Resource[] {
  return [
    res('Profile', meta(`kns.${ns}`), {
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
      labelsToApply: { 'projectcalico.org/name': ns },
    }),
    res('Profile', meta(`ksa.${ns}.default`), {
      labelsToApply: { 'pcsa.projectcalico.org/name': 'default' },
    }),
  ];
}

function networkPolicy(ns: string, i: number, rng: Rng): Resource {
  const app = APPS[i % APPS.length];
  const from = rng.pick(APPS);
  const port = 8000 + rng.int(1000);
  return res('NetworkPolicy', meta(`allow-${app}-${pad(i, 5)}`, ns, { ...DEFAULT_TIER_LABEL }), {
    tier: 'default',
    order: 100 + (i % 50),
    selector: `app == "${app}"`,
    types: ['Ingress', 'Egress'],
    ingress: [
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: `app == "${from}"` },
        destination: { ports: [80, port, '9000:9100'] },
      },
    ],
    egress: [
      { action: 'Allow', protocol: 'TCP', destination: { selector: `app == "${rng.pick(APPS)}"`, ports: [443, 5432] } },
      { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
    ],
  });
}

function globalNetworkPolicy(i: number, rng: Rng): Resource {
  return res('GlobalNetworkPolicy', meta(`global-${pad(i, 4)}`, undefined, { ...DEFAULT_TIER_LABEL }), {
    tier: 'default',
    order: 10 + i,
    selector: i % 2 === 0 ? 'all()' : `app == "${rng.pick(APPS)}"`,
    types: ['Ingress', 'Egress'],
    ingress: [{ action: 'Deny', source: { selector: `blocklist == "set-${pad(i % 20, 2)}"` } }, { action: 'Pass' }],
    egress: [{ action: 'Deny', destination: { nets: [`198.18.${i % 256}.0/24`] } }, { action: 'Pass' }],
  });
}

function networkSet(ns: string, i: number, rng: Rng): Resource {
  const nets = Array.from({ length: 3 + rng.int(4) }, () => `203.0.${rng.int(256)}.${rng.int(64) * 4}/30`);
  return res('NetworkSet', meta(`partners-${pad(i, 4)}`, ns, { role: 'partner', blocklist: `set-${pad(i % 20, 2)}` }), {
    nets: [...new Set(nets)],
  });
}

function workloadEndpoint(nodeName: string, ns: string, app: string, pod: string, containerID: string, ip: number, rng: Rng): Resource {
  const labels: Record<string, string> = {
    app,
    'pod-template-hash': pod.split('-')[1],
    'projectcalico.org/namespace': ns,
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': 'default',
  };
  const spec: Record<string, unknown> = {
    orchestrator: 'k8s',
    node: nodeName,
    pod,
    endpoint: 'eth0',
    containerID,
    serviceAccountName: 'default',
    ipNetworks: [`${intToIp(ip)}/32`],
    profiles: [`kns.${ns}`, `ksa.${ns}.default`],
    interfaceName: `cali${createHash('sha1').update(`${ns}.${pod}`).digest('hex').slice(0, 11)}`,
    mac: macFrom(rng),
  };
  if (rng.next() < 0.5) spec.ports = [{ name: 'http', protocol: 'TCP', port: 8080 }];
  return res('WorkloadEndpoint', meta(k8sWorkloadEndpointName(nodeName, pod), ns, labels), spec);
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

function macFrom(rng: Rng): string {
  // Locally administered, unicast: the first octet's low two bits are 10.
  const first = ((rng.int(64) << 2) | 0x02).toString(16).padStart(2, '0');
  const rest = rng.hex(10).match(/../g) as string[];
  return [first, ...rest].join(':');
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
