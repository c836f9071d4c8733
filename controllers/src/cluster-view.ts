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

/**
 * Every pod as the collector reads it (podAddresses), as one list and watch on the API server
 * (KindWatcher: paged list, bookmarks, a relist after a 410, backoff) rather than a list of the
 * whole cluster's pods per sweep: a sweep, and the sweeps every pod deletion asks for during a
 * rollout, then cost nothing on the API server. The key of each pod is `namespace/name`.
 */
export function podAddressSource(): kdd.KubeSource {
  const pods = kdd.podSource();
  return {
    name: 'pods',
    kind: 'Pod',
    namespaced: true,
    path: (namespace, name) => pods.path(namespace, name),
    decode(obj) {
      const p = podAddresses(obj as K8sPod);
      if (p.name === '') return { outcome: 'failed', message: 'a pod without a name' };
      return {
        outcome: 'resource',
        key: `${p.namespace}/${p.name}`,
        resource: { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace }, spec: { addresses: p } },
      };
    },
  };
}

type Watchable = Pick<kdd.KubeDatastore, 'watchKind'>;

/**
 * The pods cache: filled by the first list, kept by the watch. `list()` is undefined until the
 * first list arrived (the caller lists itself then). `onDelete` runs for every batch that
 * deleted a pod (the collector's kick).
 */
export class WatchedPods {
  readonly #pods = new Map<string, PodAddresses>();
  readonly #kube: Watchable;
  readonly #onDelete: () => void;
  readonly #onError: (err: Error) => void;
  #synced = false;
  #handle: { close(): void } | undefined;

  constructor(kube: Watchable, handlers: { onDelete: () => void; onError: (err: Error) => void }) {
    this.#kube = kube;
    this.#onDelete = handlers.onDelete;
    this.#onError = handlers.onError;
  }

  start(): void {
    this.#handle = this.#kube.watchKind(podAddressSource(), {
      onEvents: (events) => {
        let deleted = false;
        for (const e of events) {
          if (e.type === 'delete') {
            deleted = true;
            this.#pods.delete(e.key);
          } else if (e.resource) {
            this.#pods.set(e.key, (e.resource.spec as { addresses: PodAddresses }).addresses);
          } else {
            this.#pods.delete(e.key);
          }
        }
        this.#synced = true;
        if (deleted) this.#onDelete();
      },
      onError: (err) => {
        // Terminal for this watch (a start revision compacted): forget the cache, so sweeps list
        // again, and start over.
        this.#synced = false;
        this.#pods.clear();
        this.#onError(err);
        this.#handle = undefined;
        this.start();
      },
    });
  }

  stop(): void {
    this.#handle?.close();
    this.#handle = undefined;
    this.#synced = false;
    this.#pods.clear();
  }

  list(): PodAddresses[] | undefined {
    return this.#synced ? [...this.#pods.values()] : undefined;
  }
}

/** `base` with its pods() answered from the cache once it is filled (nodes and single pods read fresh). */
export function cachedClusterView(base: ClusterView, pods: WatchedPods): ClusterView {
  return {
    nodeNames: () => base.nodeNames(),
    pods: async () => pods.list() ?? base.pods(),
    pod: (namespace, name) => base.pod(namespace, name),
  };
}
