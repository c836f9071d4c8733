/**
 * The BGP model: everything the `bgp` syncer sends, kept as the latest value per resource, in
 * the shape the renderer reads.
 *
 *   SyncClient.onUpdates ──▶ BgpModelStore.apply() ──(changed?)──▶ agent schedules a render
 *                                      └── model() ──▶ renderBirdConfig(model, node)
 *
 * What arrives is typed by the bgp syncer's views (`@cattail/typha/protocol`, views/bgp.ts):
 * Typha validated each value before projecting it, and an invalid one arrives as a delete, so
 * the store keeps specs as they come and only reshapes nodes, blocks and affinities. Unset is
 * absent, null or '' (Validated in `@cattail/api`); the renderer reads settings with that in
 * mind. Every update changes something (the client's LocalState guarantees it), so `apply`
 * reports a change for every update of a kind confd reads, without comparing values. The one
 * exception is WorkloadEndpoints: the syncer sends every node's, and a store made for a node
 * (`new BgpModelStore({ node })`) keeps only that node's, so another node's pod starting or
 * stopping costs no render. EndpointSlices likewise: all are kept (with the nodes that have a
 * ready endpoint), but a node's store reports a change only when its own node's part changed.
 */
import type { KindOf, SyncerUpdate, ViewOf } from '@cattail/typha/protocol';

/** The spec of what the bgp syncer sends for kind K. */
type BgpSpec<K extends KindOf<'bgp'>> = NonNullable<ViewOf<'bgp', K>['spec']>;

export type NodeBgpSpec = NonNullable<BgpSpec<'Node'>['bgp']>;
export type PeerSpec = BgpSpec<'BGPPeer'>;
export type BgpConfigurationSpec = BgpSpec<'BGPConfiguration'>;
export type PoolSpec = BgpSpec<'IPPool'>;
export type FilterSpec = BgpSpec<'BGPFilter'>;

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly bgp: Readonly<NodeBgpSpec> | undefined;
}

export interface BlockView {
  readonly cidr: string;
  /** `host:<node>` or `virtual:<name>`. */
  readonly affinity: string | undefined;
}

export interface AffinityView {
  readonly node: string;
  readonly cidr: string;
  readonly state: string | undefined;
  readonly deleted: boolean;
}

/** A workload endpoint on this node, as `localWorkloadSelector` peerings read it. */
export interface WorkloadView {
  /** `<namespace>/<name>`. */
  readonly key: string;
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipNetworks: readonly string[];
}

/** A Kubernetes Service, as service IP advertisement reads it. */
export interface ServiceView {
  /** `<namespace>/<name>`. */
  readonly key: string;
  readonly clusterIPs: readonly string[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  /** `externalTrafficPolicy: Local`: advertised as /32 (/128) only from nodes with an endpoint. */
  readonly local: boolean;
}

/** An EndpointSlice: its Service and the nodes with a ready endpoint in it. */
export interface SliceView {
  readonly service: string;
  readonly readyNodes: readonly string[];
}

export interface BgpModel {
  readonly nodes: ReadonlyMap<string, NodeView>;
  readonly peers: ReadonlyMap<string, Readonly<PeerSpec>>;
  /** By name: `default` and `node.<nodename>`. */
  readonly configs: ReadonlyMap<string, Readonly<BgpConfigurationSpec>>;
  readonly pools: ReadonlyMap<string, Readonly<PoolSpec>>;
  readonly blocks: ReadonlyMap<string, BlockView>;
  readonly affinities: ReadonlyMap<string, AffinityView>;
  readonly filters: ReadonlyMap<string, Readonly<FilterSpec>>;
  /** By `<namespace>/<name>`; only this node's when the store was made for a node. */
  readonly workloads: ReadonlyMap<string, WorkloadView>;
  /** Kubernetes Services by `<namespace>/<name>` (Kubernetes datastore only). */
  readonly services: ReadonlyMap<string, ServiceView>;
  /** EndpointSlices by `<namespace>/<name>`. */
  readonly slices: ReadonlyMap<string, SliceView>;
}

export interface BgpModelStoreOptions {
  /** Keep only this node's WorkloadEndpoints. */
  readonly node?: string;
}

type BgpUpdate = SyncerUpdate<'bgp'>;

function nodeView(name: string, value: ViewOf<'bgp', 'Node'>): NodeView {
  return { name, labels: value.labels ?? {}, bgp: value.spec?.bgp ?? undefined };
}

function blockView(spec: BgpSpec<'IPAMBlock'>): BlockView {
  return { cidr: spec.cidr, affinity: spec.affinity || undefined };
}

function affinityView(spec: BgpSpec<'BlockAffinity'>): AffinityView {
  // libcalico-go's v3 type holds `deleted` as the string "true"/"false".
  return { node: spec.node, cidr: spec.cidr, state: spec.state || undefined, deleted: spec.deleted === true || spec.deleted === 'true' };
}

function workloadView(key: string, value: ViewOf<'bgp', 'WorkloadEndpoint'>): WorkloadView {
  return { key, node: value.spec?.node ?? '', labels: value.labels ?? {}, ipNetworks: value.spec?.ipNetworks ?? [] };
}

function serviceView(key: string, value: ViewOf<'bgp', 'KubernetesService'>): ServiceView {
  const spec = value.spec ?? {};
  return {
    key,
    clusterIPs: (spec.clusterIPs ?? []).filter((ip): ip is string => !!ip),
    externalIPs: (spec.externalIPs ?? []).filter((ip): ip is string => !!ip),
    loadBalancerIPs: (spec.loadBalancerIPs ?? []).filter((ip): ip is string => !!ip),
    local: spec.externalTrafficPolicy === 'Local',
  };
}

function sliceView(namespace: string, value: ViewOf<'bgp', 'KubernetesEndpointSlice'>): SliceView {
  const nodes = new Set<string>();
  for (const e of value.spec?.endpoints ?? []) if (e.ready !== false && e.nodeName && (e.addresses?.length ?? 0) > 0) nodes.add(e.nodeName);
  return { service: `${namespace}/${value.spec?.serviceName ?? ''}`, readyNodes: [...nodes].sort() };
}

/** The latest value of every resource the bgp syncer sent; see the module comment. */
export class BgpModelStore {
  readonly #node: string | undefined;
  readonly #nodes = new Map<string, NodeView>();
  readonly #peers = new Map<string, PeerSpec>();
  readonly #configs = new Map<string, BgpConfigurationSpec>();
  readonly #pools = new Map<string, PoolSpec>();
  readonly #blocks = new Map<string, BlockView>();
  readonly #affinities = new Map<string, AffinityView>();
  readonly #filters = new Map<string, FilterSpec>();
  readonly #workloads = new Map<string, WorkloadView>();
  readonly #services = new Map<string, ServiceView>();
  readonly #slices = new Map<string, SliceView>();
  readonly #model: BgpModel = {
    nodes: this.#nodes,
    peers: this.#peers,
    configs: this.#configs,
    pools: this.#pools,
    blocks: this.#blocks,
    affinities: this.#affinities,
    filters: this.#filters,
    workloads: this.#workloads,
    services: this.#services,
    slices: this.#slices,
  };

  constructor(options: BgpModelStoreOptions = {}) {
    this.#node = options.node;
  }

  /** Applies a batch; true when any kind confd reads changed. */
  apply(updates: readonly BgpUpdate[]): boolean {
    let changed = false;
    for (const u of updates) changed = this.#applyOne(u) || changed;
    return changed;
  }

  /** A live view: valid until the next apply(). The renderer reads it synchronously. */
  model(): BgpModel {
    return this.#model;
  }

  #applyOne(u: BgpUpdate): boolean {
    switch (u.kind) {
      case 'Node':
        return set(this.#nodes, u.name, u.value && nodeView(u.name, u.value));
      case 'BGPPeer':
        return set(this.#peers, u.name, u.value && (u.value.spec ?? {}));
      case 'BGPConfiguration':
        return set(this.#configs, u.name, u.value && (u.value.spec ?? {}));
      case 'IPPool':
        return set(this.#pools, u.name, u.value?.spec);
      case 'IPAMBlock':
        return set(this.#blocks, u.name, u.value && blockView(u.value.spec));
      case 'BlockAffinity':
        return set(this.#affinities, u.name, u.value && affinityView(u.value.spec));
      case 'BGPFilter':
        return set(this.#filters, u.name, u.value && (u.value.spec ?? {}));
      case 'WorkloadEndpoint': {
        const key = `${u.namespace ?? ''}/${u.name}`;
        const w = u.value && workloadView(key, u.value);
        // Another node's endpoint: drop it (and any earlier copy, should it have moved).
        if (w !== undefined && this.#node !== undefined && w.node !== this.#node) return this.#workloads.delete(key);
        return set(this.#workloads, key, w);
      }
      case 'KubernetesService': {
        const key = `${u.namespace ?? 'default'}/${u.name}`;
        return set(this.#services, key, u.value && serviceView(key, u.value));
      }
      case 'KubernetesEndpointSlice': {
        const key = `${u.namespace ?? 'default'}/${u.name}`;
        const old = this.#slices.get(key);
        const next = u.value && sliceView(u.namespace ?? 'default', u.value);
        set(this.#slices, key, next);
        // A store made for a node renders again only when whether this node has a ready
        // endpoint of the slice's Service changed; a pod elsewhere costs no render.
        if (this.#node === undefined) return true;
        return old?.service !== next?.service || hasNode(old, this.#node) !== hasNode(next, this.#node);
      }
      default:
        return unknownKind(u);
    }
  }
}

/**
 * A kind the bgp syncer carries that confd has no case for: a compile error for a kind this
 * build's views know (`u` is not `never`), ignored (no change) for one a newer Typha sends.
 */
function unknownKind(_u: never): false {
  return false;
}

function hasNode(slice: SliceView | undefined, node: string): boolean {
  return slice?.readyNodes.includes(node) ?? false;
}

function set<V>(map: Map<string, V>, name: string, value: V | undefined): boolean {
  if (value === undefined) return map.delete(name);
  map.set(name, value);
  return true;
}

/** An empty model, for tests and for rendering before the first snapshot. */
export function emptyModel(): BgpModel {
  return new BgpModelStore().model();
}
