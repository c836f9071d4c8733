/**
 * The node controller's IPAM garbage collection, with calico-kube-controllers' semantics:
 *
 *   every ReconcilerPeriod (a sweep):
 *     read blocks, pools, nodes, pods
 *     for each allocation in each block:
 *       - a tunnel address (type ipip/vxlan/wireguard…TunnelAddress, or a `*-tunnel-addr-<node>`
 *         handle): leaked when its node is gone
 *       - a pod's (namespace + pod attributes, as the CNI plugin writes them): leaked when the
 *         pod is gone, runs on another node than the allocation names, or shows addresses that
 *         do not include this one
 *       - anything else naming a node (attribute `node`, else the block's affinity): leaked
 *         when that node is gone; naming none: never touched
 *       - whatever the above says, an address some pod shows (status or annotations) is in use
 *     a leaked allocation becomes a candidate, remembered with the time it was first seen
 *     (by allocation: address + handle + sequence number, so a reused address starts again)
 *     a candidate is confirmed, and skips the grace period, when its Kubernetes node is gone
 *     as well: a pod's allocation, or the node's tunnel address once nothing else on the node
 *     is in use (Calico's "confirmed leak"); other candidates wait LeakGracePeriod
 *     a due candidate is re-checked against a fresh read (the pod by name, every pod's
 *     addresses, the nodes) and released only while it is still the same allocation
 *     (`releaseAddress` with handle and sequence number: CAS on the block)
 *   then, for every block affinity whose node is gone: the affinity is released; an empty block
 *   is deleted, a block that still holds addresses nobody has leaked keeps them without an
 *   affinity, a block with candidates still in their grace period waits for the next sweep.
 *   On etcd, last, the Calico Nodes of deleted Kubernetes nodes are deleted (calico-node-cleanup.ts).
 *
 * Sweeps run every period, sooner when a candidate's grace period ends first, and soon after a
 * pod or node deletion the daemon's watches report (`kick`).
 *
 * Calico's rules kept: leakGracePeriod `0` disables address GC but for confirmed leaks (node
 * affinities are still released); the grace period and the period come from KubeControllersConfiguration
 * `spec.controllers.node` (`leakGracePeriod`, default 15m; `reconcilerPeriod`, default 5m),
 * overridable from the environment. Calico follows pods and nodes with informers and sweeps
 * from their caches; a sweep here lists them (two list calls per sweep): simpler, and the cost
 * is the same list Calico's informers make at start, once per sweep.
 *
 * Every release is logged and counted (metrics.ts names them as Calico does).
 */
import { cidrContainsIP, durationMillis, formatCIDR, formatIP, parseCIDR, type Resource } from '@cattail/api';
import { ipam, NotFoundError, type Datastore } from '@cattail/datastore';
import { realClock, silentLogger, type Clock, type Logger } from '@cattail/typha/common';
import { deleteOrphanedCalicoNodes, k8sNodeOf } from './calico-node-cleanup.js';
import type { ClusterView, PodAddresses } from './cluster-view.js';
import { SerialRunner } from './serial-runner.js';

export const DEFAULT_LEAK_GRACE_MS = 15 * 60_000;
export const DEFAULT_RECONCILER_PERIOD_MS = 5 * 60_000;

const TUNNEL_TYPES = new Set(['ipipTunnelAddress', 'vxlanTunnelAddress', 'vxlanV6TunnelAddress', 'wireguardTunnelAddress', 'wireguardV6TunnelAddress']);
const TUNNEL_HANDLE = /^(?:ipip|vxlan|vxlan-v6|wireguard|wireguard-v6)-tunnel-addr-(.+)$/;
const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle';
/** A sweep asked for by an event waits this long, so a burst of deletions makes one sweep. */
const KICK_DELAY_MS = 250;

export interface IpamGcOptions {
  /** The KubeControllersConfiguration to read (`default`). */
  configName?: string;
  /** etcd mode: also delete Calico Nodes whose Kubernetes Node is gone (calico-node-cleanup.ts). */
  deleteCalicoNodes?: boolean;
  /** Overrides of the resource's values (the environment's). */
  leakGracePeriodMs?: number;
  reconcilerPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Per pool and node, what the metrics show. */
export interface IpamGauges {
  readonly pool: string;
  readonly node: string;
  inUse: number;
  borrowed: number;
  candidates: number;
  blocks: number;
}

export interface IpamGcStatus {
  readonly sweeps: number;
  readonly sweepErrors: number;
  readonly lastSweepMs: number | undefined;
  readonly leakGracePeriodMs: number;
  readonly reconcilerPeriodMs: number;
  readonly candidates: number;
  readonly gauges: readonly IpamGauges[];
  /** Released addresses, by `pool|node`. */
  readonly reclamations: ReadonlyMap<string, number>;
  readonly affinitiesReleased: number;
  readonly calicoNodesDeleted: number;
}

interface Allocation {
  readonly ip: string;
  readonly block: string;
  readonly handle: string | undefined;
  readonly sequence: number;
  readonly attrs: Readonly<Record<string, string>>;
  /** The node this allocation belongs to: its `node` attribute, else the block's affine node. */
  readonly node: string;
  readonly pool: string;
  readonly borrowed: boolean;
}

interface Candidate {
  readonly alloc: Allocation;
  readonly since: number;
  readonly why: string;
  /** Released without waiting for the grace period (see the module comment): its node is gone too. */
  confirmed: boolean;
}

export class IpamGarbageCollector {
  readonly #ds: Datastore;
  readonly #cluster: ClusterView;
  readonly #ipam: ipam.IpamClient;
  readonly #opts: IpamGcOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #candidates = new Map<string, Candidate>();
  readonly #reclamations = new Map<string, number>();
  #gauges: IpamGauges[] = [];
  #sweeps = 0;
  #sweepErrors = 0;
  #lastSweepMs: number | undefined;
  #affinitiesReleased = 0;
  #calicoNodesDeleted = 0;
  #graceMs: number;
  #periodMs: number;
  readonly #runner: SerialRunner;
  /** Set by stop(): a sweep in progress makes no further change (the lead may be lost). */
  #abort = false;

  constructor(ds: Datastore, cluster: ClusterView, opts: IpamGcOptions = {}) {
    this.#ds = ds;
    this.#cluster = cluster;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? silentLogger).child({ controller: 'node', part: 'ipam-gc' });
    this.#ipam = new ipam.IpamClient(ds, { logger: this.#log });
    this.#graceMs = opts.leakGracePeriodMs ?? DEFAULT_LEAK_GRACE_MS;
    this.#periodMs = opts.reconcilerPeriodMs ?? DEFAULT_RECONCILER_PERIOD_MS;
    this.#runner = new SerialRunner(() => this.sweep(), {
      clock: this.#clock,
      soonMs: KICK_DELAY_MS,
      nextMs: () => this.#nextDelay(),
      onError: (err) => {
        this.#sweepErrors++;
        this.#log.error({ err }, 'IPAM sweep failed; retrying next period');
        return false;
      },
    });
  }

  status(): IpamGcStatus {
    return {
      sweeps: this.#sweeps,
      sweepErrors: this.#sweepErrors,
      lastSweepMs: this.#lastSweepMs,
      leakGracePeriodMs: this.#graceMs,
      reconcilerPeriodMs: this.#periodMs,
      candidates: this.#candidates.size,
      gauges: this.#gauges,
      reclamations: this.#reclamations,
      affinitiesReleased: this.#affinitiesReleased,
      calicoNodesDeleted: this.#calicoNodesDeleted,
    };
  }

  /** Sweeps now and then every period until stop(). A new start forgets the candidates (a new leader starts its grace periods afresh, as Calico's does). */
  start(): void {
    if (!this.#runner.stopped) return;
    this.#abort = false;
    this.#candidates.clear();
    this.#runner.start();
  }

  /** Sweep now; sweeps never overlap, one asked for during a sweep runs after it. */
  tick(): void {
    this.#runner.now();
  }

  /**
   * Something was deleted (a pod, a node: the daemon's watches say so): sweep soon rather than
   * at the end of the period, so a leak is seen, and its grace period starts, when it happens.
   */
  kick(): void {
    this.#runner.soon();
  }

  /** The period, or sooner when a candidate's grace period ends before it. */
  #nextDelay(): number {
    if (this.#graceMs <= 0 || this.#candidates.size === 0) return this.#periodMs;
    const now = this.#clock.now();
    let soonest = Infinity;
    for (const c of this.#candidates.values()) soonest = Math.min(soonest, c.since + this.#graceMs - now);
    return Math.min(this.#periodMs, Math.max(KICK_DELAY_MS, soonest));
  }

  /** Stops sweeping; waits for a sweep in progress to end. */
  async stop(): Promise<void> {
    this.#abort = true;
    await this.#runner.stop();
  }

  /** One sweep (start() runs them on the period; a test may call it directly). */
  async sweep(): Promise<void> {
    const started = this.#clock.now();
    await this.#readSettings();
    const [blocks, poolsList, nodes, pods, affinities] = await Promise.all([
      ipam.listBlocks(this.#ds),
      this.#ds.list('IPPool'),
      this.#nodeNames(),
      this.#cluster.pods(),
      ipam.listAllAffinities(this.#ds),
    ]);
    const pools = poolsList.items;
    const allocations = blocks.flatMap((b) => allocationsOf(b, pools));
    const podIndex = indexPods(pods);

    // 1. Candidates: every allocation that looks leaked now.
    const seen = new Set<string>();
    const now = this.#clock.now();
    const pending = new Set<string>(); // blocks with a candidate still in its grace period
    const reasons = new Map(allocations.map((a) => [a, leakReason(a, nodes, podIndex)] as const));
    // Nodes that still have an allocation in use (a tunnel address does not count).
    const inUseOn = new Set(allocations.filter((a) => tunnelNodeOf(a) === undefined && reasons.get(a) === undefined).map((a) => a.node));
    for (const a of allocations) {
      const why = reasons.get(a);
      if (why === undefined) continue;
      const key = `${a.ip}|${a.handle ?? ''}|${a.sequence}`;
      seen.add(key);
      const confirmed = isConfirmedLeak(a, nodes, inUseOn);
      const known = this.#candidates.get(key);
      if (known) {
        known.confirmed = confirmed;
      } else {
        this.#candidates.set(key, { alloc: a, since: now, why, confirmed });
        this.#log.info(
          { address: a.ip, handleId: a.handle, node: a.node, namespace: a.attrs.namespace, pod: a.attrs.pod, why, confirmed },
          'address looks leaked',
        );
      }
    }
    for (const key of [...this.#candidates.keys()]) if (!seen.has(key)) this.#candidates.delete(key);

    // 2. Release confirmed leaks, and candidates past their grace period, each re-checked against a fresh read.
    const due = [...this.#candidates.entries()].filter(([, c]) => c.confirmed || (this.#graceMs > 0 && now - c.since >= this.#graceMs));
    const dueKeys = new Set(due.map(([key]) => key));
    for (const [key, c] of this.#candidates) if (!dueKeys.has(key)) pending.add(c.alloc.block);
    if (due.length > 0) {
      const [freshNodes, freshPods] = await Promise.all([this.#nodeNames(), this.#cluster.pods()]);
      const freshIndex = indexPods(freshPods);
      const cidrs = blocks.map((b) => formatCIDR(b.cidr));
      for (const [key, c] of due) {
        if (this.#abort) return;
        const a = c.alloc;
        const still = await this.#stillLeaked(a, freshNodes, freshIndex);
        if (still === undefined) {
          this.#log.info({ address: a.ip, handleId: a.handle }, 'address is in use after all; kept');
          this.#candidates.delete(key);
          continue;
        }
        const outcome = await this.#ipam.releaseAddress({ address: a.ip, handleId: a.handle, sequenceNumber: a.sequence }, cidrs);
        this.#candidates.delete(key);
        if (outcome === 'released') {
          const k = `${a.pool}|${a.node}`;
          this.#reclamations.set(k, (this.#reclamations.get(k) ?? 0) + 1);
          this.#log.info(
            { address: a.ip, handleId: a.handle, node: a.node, namespace: a.attrs.namespace, pod: a.attrs.pod, why: still, leakedForMs: now - c.since },
            'released leaked address',
          );
        } else {
          this.#log.info({ address: a.ip, handleId: a.handle, outcome }, 'leaked address changed meanwhile; left alone');
        }
      }
    }

    // 3. Affinities of nodes that are gone.
    const orphaned = affinities.filter((aff) => !nodes.has(aff.node) && !pending.has(aff.cidr));
    const current = orphaned.length > 0 ? await this.#nodeNames() : nodes;
    for (const aff of orphaned) {
      if (this.#abort) return;
      if (current.has(aff.node)) continue; // re-created meanwhile
      const outcome = await this.#ipam.releaseBlockAffinity(aff.node, aff.cidr);
      this.#affinitiesReleased++;
      this.#log.info({ node: aff.node, block: aff.cidr, outcome }, 'released the block affinity of a deleted node');
    }

    // 4. etcd mode: the Calico Nodes of deleted Kubernetes nodes.
    if (this.#opts.deleteCalicoNodes && !this.#abort) {
      this.#calicoNodesDeleted += (await deleteOrphanedCalicoNodes(this.#ds, () => this.#cluster.nodeNames(), this.#log)).length;
    }

    this.#gauges = gaugesOf(allocations, blocks, pools, this.#candidates);
    this.#sweeps++;
    this.#lastSweepMs = this.#clock.now() - started;
  }

  /**
   * The nodes that exist: the Kubernetes Nodes; on etcd also the Calico Nodes that stand for no
   * Kubernetes node (registered by hand), whose addresses and blocks are theirs to keep.
   */
  async #nodeNames(): Promise<Set<string>> {
    const nodes = await this.#cluster.nodeNames();
    if (!this.#opts.deleteCalicoNodes) return nodes;
    for (const n of (await this.#ds.list('Node')).items) if (k8sNodeOf(n) === undefined) nodes.add(n.metadata.name);
    return nodes;
  }

  /** The reason it is still leaked by a fresh read, or undefined when it is in use. */
  async #stillLeaked(a: Allocation, nodes: ReadonlySet<string>, index: PodIndex): Promise<string | undefined> {
    const ns = a.attrs.namespace;
    const name = a.attrs.pod;
    if (ns && name) {
      const pod = await this.#cluster.pod(ns, name);
      const byName = new Map(index.byName);
      if (pod) byName.set(`${ns}/${name}`, pod);
      else byName.delete(`${ns}/${name}`);
      return leakReason(a, nodes, { byName, ips: index.ips });
    }
    return leakReason(a, nodes, index);
  }

  async #readSettings(): Promise<void> {
    let node: { leakGracePeriod?: unknown; reconcilerPeriod?: unknown } | undefined;
    try {
      const res = await this.#ds.get({ kind: 'KubeControllersConfiguration', name: this.#opts.configName ?? 'default' });
      node = (res.spec as { controllers?: { node?: typeof node } } | undefined)?.controllers?.node;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const fromResource = (v: unknown) => (typeof v === 'string' ? durationMillis(v) : undefined);
    const grace = this.#opts.leakGracePeriodMs ?? fromResource(node?.leakGracePeriod) ?? DEFAULT_LEAK_GRACE_MS;
    const period = this.#opts.reconcilerPeriodMs ?? fromResource(node?.reconcilerPeriod) ?? DEFAULT_RECONCILER_PERIOD_MS;
    if (grace !== this.#graceMs || period !== this.#periodMs) this.#log.info({ leakGracePeriodMs: grace, reconcilerPeriodMs: period }, 'IPAM GC settings');
    this.#graceMs = grace;
    this.#periodMs = Math.max(period, 100);
  }
}

interface PodIndex {
  readonly byName: ReadonlyMap<string, PodAddresses>;
  /** Every address some pod shows. */
  readonly ips: ReadonlySet<string>;
}

function indexPods(pods: readonly PodAddresses[]): PodIndex {
  return { byName: new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p])), ips: new Set(pods.flatMap((p) => p.ips)) };
}

/** The node whose tunnel address this is, or undefined for any other allocation. */
function tunnelNodeOf(a: Allocation): string | undefined {
  return TUNNEL_TYPES.has(a.attrs.type ?? '') ? a.node : TUNNEL_HANDLE.exec(a.handle ?? '')?.[1];
}

/**
 * A leak certain enough to release without the grace period, as Calico's kube-controllers
 * decides: the allocation's Kubernetes node is gone too, and it is a pod's (whose pod is gone or
 * elsewhere), or it is the node's tunnel address and nothing on the node is in use any more.
 * Anything else waits out the grace period.
 */
function isConfirmedLeak(a: Allocation, nodes: ReadonlySet<string>, inUseOn: ReadonlySet<string>): boolean {
  const tunnelNode = tunnelNodeOf(a);
  if (tunnelNode !== undefined) return !nodes.has(tunnelNode) && !inUseOn.has(tunnelNode);
  return Boolean(a.attrs.namespace && a.attrs.pod) && a.node !== '' && !nodes.has(a.node);
}

/** Why an allocation is leaked, or undefined when it is (or may be) in use. */
function leakReason(a: Allocation, nodes: ReadonlySet<string>, pods: PodIndex): string | undefined {
  if (a.handle === WINDOWS_RESERVED_HANDLE) return undefined;
  if (pods.ips.has(a.ip)) return undefined; // a pod shows it: in use, whatever the attributes say
  const tunnelNode = tunnelNodeOf(a);
  if (tunnelNode !== undefined) return nodes.has(tunnelNode) ? undefined : `the tunnel address of node ${tunnelNode}, which is gone`;
  const ns = a.attrs.namespace;
  const name = a.attrs.pod;
  if (ns && name) {
    const pod = pods.byName.get(`${ns}/${name}`);
    if (!pod) return `pod ${ns}/${name} is gone`;
    if (pod.node !== '' && a.node !== '' && pod.node !== a.node) return `pod ${ns}/${name} runs on ${pod.node}, not ${a.node}`;
    if (pod.ips.length > 0) return `pod ${ns}/${name} has other addresses (${pod.ips.join(', ')})`;
    return undefined; // the pod exists and has no address yet: its CNI ADD may be in progress
  }
  if (a.node !== '' && !nodes.has(a.node)) return `node ${a.node} is gone`;
  return undefined;
}

function poolName(pools: readonly Resource[], block: ipam.StoredBlock): string {
  for (const p of pools) {
    const cidr = typeof p.spec?.cidr === 'string' ? parseCIDR(p.spec.cidr) : undefined;
    if (cidr && cidr.version === block.cidr.version && cidr.prefix <= block.cidr.prefix && cidrContainsIP(cidr, block.cidr.addr)) return p.metadata.name;
  }
  return '';
}

function affineNode(b: ipam.StoredBlock): string {
  const a = b.block.affinity;
  return a?.startsWith('host:') ? a.slice(5) : '';
}

function allocationsOf(b: ipam.StoredBlock, pools: readonly Resource[]): Allocation[] {
  const out: Allocation[] = [];
  const pool = poolName(pools, b);
  const owner = affineNode(b);
  const block = formatCIDR(b.cidr);
  b.block.allocations.forEach((index, ordinal) => {
    if (index === null) return;
    const attr = b.block.attributes[index] ?? {};
    const attrs = attr.secondary ?? {};
    const node = attrs.node || owner;
    out.push({
      ip: formatIP(ipam.ipAt(b.cidr, ordinal)),
      block,
      handle: attr.handle_id,
      sequence: b.block.sequenceNumberForAllocation[String(ordinal)] ?? 0,
      attrs,
      node,
      pool,
      borrowed: owner !== '' && node !== owner,
    });
  });
  return out;
}

function gaugesOf(
  allocations: readonly Allocation[],
  blocks: readonly ipam.StoredBlock[],
  pools: readonly Resource[],
  candidates: ReadonlyMap<string, Candidate>,
): IpamGauges[] {
  const byKey = new Map<string, IpamGauges>();
  const at = (pool: string, node: string): IpamGauges => {
    const k = `${pool}|${node}`;
    let g = byKey.get(k);
    if (!g) byKey.set(k, (g = { pool, node, inUse: 0, borrowed: 0, candidates: 0, blocks: 0 }));
    return g;
  };
  for (const a of allocations) {
    const g = at(a.pool, a.node);
    g.inUse++;
    if (a.borrowed) g.borrowed++;
  }
  for (const c of candidates.values()) at(c.alloc.pool, c.alloc.node).candidates++;
  for (const b of blocks) at(poolName(pools, b), affineNode(b)).blocks++;
  return [...byKey.values()];
}
