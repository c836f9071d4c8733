/**
 * The BGP model: everything the `bgp` syncer sends, kept as the latest value per resource, in
 * the shape the renderer reads. Typha validated every value before projecting it (an invalid
 * one arrives as a delete), so the store only narrows types; the renderer still treats odd
 * values as absent rather than throwing, because one surprising field must not stop confd.
 *
 *   SyncClient.onUpdates ──▶ BgpModelStore.apply() ──(changed?)──▶ agent schedules a render
 *                                      └── model() ──▶ renderBirdConfig(model, node)
 *
 * What the `bgp` projection carries (typha/src/pipeline/projections.ts): Node labels and
 * spec.bgp; BGPPeer, BGPConfiguration and IPPool specs; IPAMBlock cidr + affinity;
 * BlockAffinity node, cidr, state, deleted.
 */
import type { BGPConfigurationSpec, BGPPeerSpec, IPPoolSpec } from '@cattail/api';
import type { Update } from '@cattail/typha/client';

export interface NodeBgpSpec {
  ipv4Address?: string;
  ipv6Address?: string;
  asNumber?: number | string;
  routeReflectorClusterID?: string;
}

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

export interface BgpModel {
  readonly nodes: ReadonlyMap<string, NodeView>;
  readonly peers: ReadonlyMap<string, Readonly<BGPPeerSpec>>;
  /** By name: `default` and `node.<nodename>`. */
  readonly configs: ReadonlyMap<string, Readonly<BGPConfigurationSpec>>;
  readonly pools: ReadonlyMap<string, Readonly<IPPoolSpec>>;
  readonly blocks: ReadonlyMap<string, BlockView>;
  readonly affinities: ReadonlyMap<string, AffinityView>;
}

type Spec = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function nodeView(name: string, u: Update): NodeView {
  const bgp = u.value?.spec?.bgp;
  return {
    name,
    labels: u.value?.labels ?? {},
    bgp: typeof bgp === 'object' && bgp !== null && !Array.isArray(bgp) ? (bgp as NodeBgpSpec) : undefined,
  };
}

function blockView(spec: Spec): BlockView | undefined {
  const cidr = str(spec.cidr);
  return cidr === undefined ? undefined : { cidr, affinity: str(spec.affinity) };
}

function affinityView(spec: Spec): AffinityView | undefined {
  const node = str(spec.node);
  const cidr = str(spec.cidr);
  if (node === undefined || cidr === undefined) return undefined;
  // libcalico-go's v3 type holds `deleted` as the string "true"/"false".
  return { node, cidr, state: str(spec.state), deleted: spec.deleted === true || spec.deleted === 'true' };
}

/** The latest value of every resource the bgp syncer sent; see the module comment. */
export class BgpModelStore {
  readonly #nodes = new Map<string, NodeView>();
  readonly #peers = new Map<string, BGPPeerSpec>();
  readonly #configs = new Map<string, BGPConfigurationSpec>();
  readonly #pools = new Map<string, IPPoolSpec>();
  readonly #blocks = new Map<string, BlockView>();
  readonly #affinities = new Map<string, AffinityView>();
  readonly #model: BgpModel = {
    nodes: this.#nodes,
    peers: this.#peers,
    configs: this.#configs,
    pools: this.#pools,
    blocks: this.#blocks,
    affinities: this.#affinities,
  };

  /** Applies a batch; true when any kind confd reads changed. */
  apply(updates: readonly Update[]): boolean {
    let changed = false;
    for (const u of updates) changed = this.#applyOne(u) || changed;
    return changed;
  }

  /** A live view: valid until the next apply(). The renderer reads it synchronously. */
  model(): BgpModel {
    return this.#model;
  }

  #applyOne(u: Update): boolean {
    const spec: Spec = u.value?.spec ?? {};
    switch (u.kind) {
      case 'Node':
        return set(this.#nodes, u.name, u.value ? nodeView(u.name, u) : undefined);
      case 'BGPPeer':
        return set(this.#peers, u.name, u.value ? (spec as BGPPeerSpec) : undefined);
      case 'BGPConfiguration':
        return set(this.#configs, u.name, u.value ? (spec as BGPConfigurationSpec) : undefined);
      case 'IPPool':
        return set(this.#pools, u.name, u.value && str(spec.cidr) ? (spec as IPPoolSpec) : undefined);
      case 'IPAMBlock':
        return set(this.#blocks, u.name, u.value ? blockView(spec) : undefined);
      case 'BlockAffinity':
        return set(this.#affinities, u.name, u.value ? affinityView(spec) : undefined);
      default:
        return false;
    }
  }
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
