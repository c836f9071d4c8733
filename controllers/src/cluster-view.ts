/**
 * What the IPAM garbage collector needs to know about the cluster, behind one small interface so
 * a test can fake it: which nodes exist, which pods exist and which addresses each pod shows.
 *
 * On the Kubernetes datastore these are the API server's Nodes and Pods, read raw (not through
 * the WorkloadEndpoint conversion: that skips pods without an address or on the host network,
 * and a pod that exists must never look absent). A pod's addresses are every place Calico and
 * Kubernetes record one: `status.podIP(s)` and the CNI plugin's `cni.projectcalico.org/podIP` and
 * `podIPs` annotations (as cni/src writes them).
 */
import type { KubeRequester } from './leader-elector.js';
import { kdd } from '@cattail/datastore';

export interface PodAddresses {
  readonly namespace: string;
  readonly name: string;
  /** spec.nodeName ('' while unscheduled). */
  readonly node: string;
  /** Plain addresses (no prefix length), from the status and the Calico annotations. */
  readonly ips: readonly string[];
}

export interface ClusterView {
  /** The names of the nodes that exist. */
  nodeNames(): Promise<Set<string>>;
  /** Every pod. */
  pods(): Promise<PodAddresses[]>;
  /** One pod, read now; undefined when it does not exist. */
  pod(namespace: string, name: string): Promise<PodAddresses | undefined>;
}

interface K8sPod {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: { podIP?: string; podIPs?: Array<{ ip?: string }> };
}

const POD_IP = 'cni.projectcalico.org/podIP';
const POD_IPS = 'cni.projectcalico.org/podIPs';

function bare(text: string): string {
  return text.trim().split('/')[0];
}

export function podAddresses(p: K8sPod): PodAddresses {
  const ips = new Set<string>();
  const add = (v: string | undefined) => {
    if (v && v.trim() !== '') ips.add(bare(v));
  };
  add(p.status?.podIP);
  for (const x of p.status?.podIPs ?? []) add(x.ip);
  const a = p.metadata?.annotations ?? {};
  add(a[POD_IP]);
  for (const x of (a[POD_IPS] ?? '').split(',')) add(x);
  return { namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', node: p.spec?.nodeName ?? '', ips: [...ips] };
}

/** The view on a Kubernetes API server (RBAC: get, list on pods and nodes). */
export function kubeClusterView(api: KubeRequester): ClusterView {
  return {
    async nodeNames() {
      const { items } = await kdd.listPaged((path) => api.request('GET', path), '/api/v1/nodes');
      return new Set((items as Array<{ metadata?: { name?: string } }>).map((n) => n.metadata?.name ?? '').filter((n) => n !== ''));
    },
    async pods() {
      // Every pod of the cluster, in pages of 500 (a 5,000-node cluster has 100,000s).
      const { items } = await kdd.listPaged((path) => api.request('GET', path), '/api/v1/pods');
      return (items as K8sPod[]).map(podAddresses);
    },
    async pod(namespace, name) {
      try {
        return podAddresses((await api.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`)) as K8sPod);
      } catch (err) {
        if (err instanceof kdd.KubeHttpError && err.statusCode === 404) return undefined;
        throw err;
      }
    },
  };
}
