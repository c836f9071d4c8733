/**
 * The routes Felix programs (the part of Calico's L3RouteResolver a VXLAN/BGP node needs):
 *
 *   local-workload          a /32 or /128 per address of each workload on this node, via its
 *                           interface
 *   remote-workload-vxlan   each IPAM block affine to another node (`host:<node>`) that lies in
 *                           a pool with vxlanMode Always (or CrossSubnet toward a node outside
 *                           our subnet), via that node's VTEP; also a /32 or /128 for a remote
 *                           workload whose address its node borrowed from a block affine to
 *                           some other node (or from no known block), since the block route
 *                           would send it to the wrong node. The felix syncer drops IPAM
 *                           allocations, so borrowed addresses are found from the endpoints.
 *   remote-workload-direct  the same for a CrossSubnet pool toward a node in our subnet: via the
 *                           node's address without encapsulation
 *
 * Blocks in IPIP or unencapsulated pools are BIRD's to program (confd renders them), as in
 * Calico; so are this node's own blocks (a blackhole route in BIRD). A remote route needs the
 * node's address of the destination's family; the driver also waits for the node's VTEP.
 *
 * When sources collide on one destination, a local workload wins over a borrowed address, which
 * wins over a block. Each input change refreshes only the destinations it can affect: a node's
 * blocks and workloads when the node changes, a block's own CIDR and the borrowed addresses
 * inside it when the block changes, everything when a pool or this node changes (rare).
 */
import { cidrContains, formatCIDR, networkOf, parseCIDR, type CIDR } from '@cattail/api';
import type { RouteUpdate } from '../proto/messages.js';
import type { CalcCallbacks } from './callbacks.js';
import { sameSubnet, type BlockData, type NodeData, type PoolData } from './decode.js';
import { addTo, removeFrom } from './map-of-sets.js';

export type RouteOutput = Pick<CalcCallbacks, 'onRouteUpdate' | 'onRouteRemove'>;
type Route = Omit<RouteUpdate, 'kind'>;

/** What routing needs of a workload endpoint (on any node). */
export interface WorkloadRouting {
  readonly node: string;
  readonly iface: string;
  /** Host CIDRs. */
  readonly nets: readonly string[];
}

interface Registration {
  readonly node: string;
  readonly iface: string;
  readonly dsts: readonly string[];
}

export class RouteCalculator {
  readonly #nodeName: string;
  readonly #out: RouteOutput;
  readonly #nodes = new Map<string, NodeData>();
  readonly #pools = new Map<string, PoolData>();
  readonly #blocks = new Map<string, BlockData>();
  readonly #blockByCidr = new Map<string, BlockData>();
  readonly #blocksByNode = new Map<string, Set<string>>();
  readonly #workloads = new Map<string, Registration>();
  /** dst → workload key → registration, for this node's workloads. */
  readonly #localByDst = new Map<string, Map<string, Registration>>();
  /** dst → workload key → registration, for other nodes' workloads. */
  readonly #remoteByDst = new Map<string, Map<string, Registration>>();
  /** Block CIDR → remote workload destinations inside it (by the containing pool's blockSize). */
  readonly #remoteByBlock = new Map<string, Set<string>>();
  /** Node → destinations of its workloads. */
  readonly #remoteByNode = new Map<string, Set<string>>();
  /** The routes the output was last told, by destination. */
  readonly #routes = new Map<string, Route>();

  constructor(nodeName: string, out: RouteOutput) {
    this.#nodeName = nodeName;
    this.#out = out;
  }

  updateWorkload(key: string, w: WorkloadRouting | undefined): void {
    const dirty = new Set<string>();
    const old = this.#workloads.get(key);
    if (old !== undefined) {
      if (w !== undefined && old.node === w.node && old.iface === w.iface && sameList(old.dsts, w.nets)) return;
      this.#workloads.delete(key);
      const byDst = old.node === this.#nodeName ? this.#localByDst : this.#remoteByDst;
      for (const dst of old.dsts) {
        const refs = byDst.get(dst);
        refs?.delete(key);
        if (byDst === this.#remoteByDst && !hasNode(refs, old.node)) removeFrom(this.#remoteByNode, old.node, dst);
        if (refs?.size === 0) {
          byDst.delete(dst);
          if (byDst === this.#remoteByDst) this.#unindexBlock(dst);
        }
        dirty.add(dst);
      }
    }
    if (w !== undefined) {
      const reg: Registration = { node: w.node, iface: w.iface, dsts: w.nets };
      this.#workloads.set(key, reg);
      const local = w.node === this.#nodeName;
      for (const dst of w.nets) {
        const byDst = local ? this.#localByDst : this.#remoteByDst;
        let refs = byDst.get(dst);
        if (refs === undefined) {
          refs = new Map();
          byDst.set(dst, refs);
        }
        refs.set(key, reg);
        if (!local) this.#indexRemote(dst, w.node);
        dirty.add(dst);
      }
    }
    for (const dst of dirty) this.#refresh(dst);
  }

  updatePool(name: string, pool: PoolData | undefined): void {
    if (pool === undefined) this.#pools.delete(name);
    else this.#pools.set(name, pool);
    // Block boundaries of remote addresses follow the pools' block sizes.
    this.#remoteByBlock.clear();
    for (const [dst, refs] of this.#remoteByDst) for (const reg of refs.values()) this.#indexRemote(dst, reg.node);
    this.#refreshAll();
  }

  updateBlock(name: string, block: BlockData | undefined): void {
    const old = this.#blocks.get(name);
    if (old !== undefined) {
      if (this.#blockByCidr.get(old.cidrText) === old) this.#blockByCidr.delete(old.cidrText);
      if (old.node !== undefined) removeFrom(this.#blocksByNode, old.node, old.cidrText);
    }
    if (block === undefined) this.#blocks.delete(name);
    else {
      this.#blocks.set(name, block);
      this.#blockByCidr.set(block.cidrText, block);
      if (block.node !== undefined) addTo(this.#blocksByNode, block.node, block.cidrText);
    }
    for (const b of [old, block]) {
      if (b === undefined) continue;
      this.#refresh(b.cidrText);
      for (const dst of this.#remoteByBlock.get(b.cidrText) ?? []) this.#refresh(dst);
    }
  }

  updateNode(name: string, node: NodeData | undefined): void {
    if (node === undefined) this.#nodes.delete(name);
    else this.#nodes.set(name, node);
    // Our own subnet decides CrossSubnet routing toward every node.
    if (name === this.#nodeName) return this.#refreshAll();
    for (const dst of this.#blocksByNode.get(name) ?? []) this.#refresh(dst);
    for (const dst of this.#remoteByNode.get(name) ?? []) this.#refresh(dst);
  }

  #refreshAll(): void {
    const all = new Set<string>(this.#routes.keys());
    for (const dst of this.#localByDst.keys()) all.add(dst);
    for (const dst of this.#remoteByDst.keys()) all.add(dst);
    for (const dst of this.#blockByCidr.keys()) all.add(dst);
    for (const dst of all) this.#refresh(dst);
  }

  #refresh(dst: string): void {
    const want = this.#localRoute(dst) ?? this.#borrowedRoute(dst) ?? this.#blockRoute(dst);
    const have = this.#routes.get(dst);
    if (want === undefined) {
      if (have === undefined) return;
      this.#routes.delete(dst);
      this.#out.onRouteRemove(dst);
    } else {
      // Unchanged routes go out too: the EventSequencer drops what the driver already has.
      this.#routes.set(dst, want);
      this.#out.onRouteUpdate(want);
    }
  }

  #localRoute(dst: string): Route | undefined {
    const reg = first(this.#localByDst.get(dst));
    if (reg === undefined || reg.iface === '') return undefined;
    return { type: 'local-workload', dst, dstNodeName: this.#nodeName, ifaceName: reg.iface };
  }

  #borrowedRoute(dst: string): Route | undefined {
    const reg = first(this.#remoteByDst.get(dst));
    if (reg === undefined) return undefined;
    const cidr = parseCIDR(dst);
    const pool = cidr && this.#poolFor(cidr);
    if (!cidr || !pool) return undefined;
    if (this.#blockByCidr.get(blockOf(cidr, pool))?.node === reg.node) return undefined;
    return this.#remoteRoute(dst, cidr.version, pool, reg.node);
  }

  #blockRoute(dst: string): Route | undefined {
    const block = this.#blockByCidr.get(dst);
    if (block?.node === undefined || block.node === this.#nodeName) return undefined;
    return this.#remoteRoute(dst, block.cidr.version, this.#poolFor(block.cidr), block.node);
  }

  #remoteRoute(dst: string, version: 4 | 6, pool: PoolData | undefined, node: string): Route | undefined {
    if (pool === undefined || (pool.vxlanMode !== 'Always' && pool.vxlanMode !== 'CrossSubnet')) return undefined;
    const info = this.#nodes.get(node);
    const addr = version === 4 ? info?.ipv4Addr : info?.ipv6Addr;
    if (addr === undefined) return undefined;
    const self = this.#nodes.get(this.#nodeName);
    const direct = pool.vxlanMode === 'CrossSubnet' && sameSubnet(version === 4 ? self?.ipv4Net : self?.ipv6Net, addr);
    return { type: direct ? 'remote-workload-direct' : 'remote-workload-vxlan', dst, dstNodeName: node, dstNodeIp: addr };
  }

  /** The most specific pool containing `cidr`. */
  #poolFor(cidr: CIDR): PoolData | undefined {
    let best: PoolData | undefined;
    for (const p of this.#pools.values()) {
      if (cidrContains(p.cidr, cidr) && (best === undefined || p.cidr.prefix > best.cidr.prefix)) best = p;
    }
    return best;
  }

  #indexRemote(dst: string, node: string): void {
    addTo(this.#remoteByNode, node, dst);
    const cidr = parseCIDR(dst);
    const pool = cidr && this.#poolFor(cidr);
    if (cidr && pool) addTo(this.#remoteByBlock, blockOf(cidr, pool), dst);
  }

  #unindexBlock(dst: string): void {
    const cidr = parseCIDR(dst);
    const pool = cidr && this.#poolFor(cidr);
    if (cidr && pool) removeFrom(this.#remoteByBlock, blockOf(cidr, pool), dst);
  }
}

/** The block of `pool` that holds `cidr`'s address. */
function blockOf(cidr: CIDR, pool: PoolData): string {
  const block: CIDR = { version: cidr.version, addr: cidr.addr, prefix: pool.blockSize };
  return formatCIDR({ ...block, addr: networkOf(block) });
}

function hasNode(refs: Map<string, Registration> | undefined, node: string): boolean {
  if (refs !== undefined) for (const r of refs.values()) if (r.node === node) return true;
  return false;
}

/** The registration of the smallest workload key: a deterministic pick among duplicates. */
function first(refs: Map<string, Registration> | undefined): Registration | undefined {
  if (refs === undefined) return undefined;
  let bestKey: string | undefined;
  let best: Registration | undefined;
  for (const [k, r] of refs) {
    if (bestKey === undefined || k < bestKey) {
      bestKey = k;
      best = r;
    }
  }
  return best;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
