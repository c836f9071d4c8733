/**
 * The calculation graph (Calico's felix/calc NewCalculationGraph): the felix syncer's updates in,
 * dataplane messages out.
 *
 *   SyncerUpdate<'felix'> ─▶ dispatch by kind
 *     WorkloadEndpoint ──▶ IPSetMemberCalculator (every node) ─ RouteCalculator (every node)
 *                     └──▶ if spec.node is ours: ActiveRulesCalculator + PolicyResolver
 *     HostEndpoint ─────▶ IPSetMemberCalculator; if ours: ActiveRulesCalculator + PolicyResolver
 *     (Global)NetworkSet ▶ IPSetMemberCalculator
 *     Profile ──────────▶ ActiveRulesCalculator (rules, labels) + IPSetMemberCalculator (labels)
 *     (Global)NetworkPolicy ▶ PolicyResolver (order, tier, types) + ActiveRulesCalculator
 *     Tier ─────────────▶ PolicyResolver
 *     IPPool ───────────▶ PoolTracker + RouteCalculator
 *     IPAMBlock ────────▶ RouteCalculator
 *     Node ─────────────▶ RouteCalculator + VXLANResolver + host metadata
 *     FelixConfiguration, ClusterInformation ▶ ConfigCalculator
 *     KubernetesService, KubernetesEndpointSlice ▶ IPSetMemberCalculator's ServiceIndex
 *   ActiveRulesCalculator ─▶ RuleScanner ─▶ IPSetMemberCalculator (which sets exist)
 *   everything ─▶ CalcCallbacks = EventSequencer ─▶ DataplaneSink, once per input batch
 *
 * Nothing reaches the sink before `onInSync()`: the snapshot is applied to the graph as it
 * arrives and leaves it as one ordered batch ending in InSync, so the driver never programs a
 * half-known state (an endpoint before the policy that protects it has arrived). After that,
 * each `onUpdates` call produces at most one batch.
 *
 * A resource the graph cannot use is logged and treated as deleted (InvalidResourceError).
 *
 * What it relies on, and so does not check again: every update changes something (the client's
 * LocalState delivers a new key, a different value, or the deletion of a key the graph has), so
 * each is dispatched as it comes, with no copy of the last value per key to compare with; and
 * every value is its kind's view, validated by Typha (decode-util.ts). What it guarantees in
 * turn is the EventSequencer's: the driver hears of a dataplane object only when the object
 * changed, which an input change often does not do (a label change that leaves an endpoint's
 * policies as they were, a node change that moves no route).
 */
import type { Logger } from '@cattail/typha/client';
import { updateKey } from '@cattail/typha/client';
import { silentLogger } from '@cattail/typha/common';
import { InvalidResourceError } from '../errors.js';
import type { DataplaneSink } from '../proto/messages.js';
import { ActiveRulesCalculator } from './active-rules-calculator.js';
import { ConfigCalculator } from './config-calculator.js';
import {
  decodeBlock,
  decodeHostEndpoint,
  decodeNetworkSet,
  decodeNode,
  decodePolicy,
  decodePool,
  decodeProfile,
  decodeTier,
  decodeWorkloadEndpoint,
  policyKey,
  type EndpointData,
  type NodeData,
} from './decode.js';
import { isPresent, type FelixUpdate } from './decode-util.js';
import { decodeService, decodeSlice } from './decode-service.js';
import { EventSequencer } from './event-sequencer.js';
import { IPSetMemberCalculator } from './ipset-member-calculator.js';
import { PolicyResolver } from './policy-resolver.js';
import { PoolTracker } from './pool-tracker.js';
import { RouteCalculator } from './route-calculator.js';
import { RuleScanner } from './rule-scanner.js';
import { VXLANResolver } from './vxlan-resolver.js';

export interface CalcGraphOptions {
  logger?: Logger;
}

export class CalcGraph {
  readonly #nodeName: string;
  readonly #sink: DataplaneSink;
  readonly #log: Logger;
  readonly #sequencer = new EventSequencer();
  readonly #ipSets: IPSetMemberCalculator;
  readonly #scanner: RuleScanner;
  readonly #resolver: PolicyResolver;
  readonly #activeRules: ActiveRulesCalculator;
  readonly #routes: RouteCalculator;
  readonly #vxlan: VXLANResolver;
  readonly #pools: PoolTracker;
  readonly #config: ConfigCalculator;
  /** Keys of endpoints on this node, as last decoded. */
  readonly #local = new Set<string>();
  #inSync = false;

  constructor(nodeName: string, sink: DataplaneSink, options: CalcGraphOptions = {}) {
    this.#nodeName = nodeName;
    this.#sink = sink;
    this.#log = (options.logger ?? silentLogger).child({ component: 'calc-graph' });
    const seq = this.#sequencer;
    this.#ipSets = new IPSetMemberCalculator(seq);
    this.#scanner = new RuleScanner(this.#ipSets, seq);
    this.#resolver = new PolicyResolver(seq);
    this.#activeRules = new ActiveRulesCalculator(this.#scanner, this.#resolver);
    this.#routes = new RouteCalculator(nodeName, seq);
    this.#vxlan = new VXLANResolver(seq);
    this.#pools = new PoolTracker(seq);
    this.#config = new ConfigCalculator(nodeName, seq);
  }

  /** One batch of real changes from the syncer client (see the module comment). */
  onUpdates(updates: readonly FelixUpdate[]): void {
    for (const u of updates) this.#dispatch(updateKey(u), u);
    if (this.#inSync) this.#flush(false);
  }

  /** The syncer holds the complete state: emit everything, then InSync (once). */
  onInSync(): void {
    const first = !this.#inSync;
    this.#inSync = true;
    if (first) this.#config.send();
    this.#flush(first);
  }

  /** Counts for status and metrics. */
  stats(): { localEndpoints: number; ipSets: number } & ReturnType<ActiveRulesCalculator['stats']> {
    return { localEndpoints: this.#local.size, ipSets: this.#scanner.activeIPSets, ...this.#activeRules.stats() };
  }

  #flush(inSync: boolean): void {
    this.#resolver.flush();
    const msgs = this.#sequencer.flush();
    if (inSync) msgs.push({ kind: 'InSync' });
    if (msgs.length > 0) this.#sink.onMessages(msgs);
  }

  #dispatch(key: string, u: FelixUpdate): void {
    try {
      this.#apply(key, u);
    } catch (err) {
      if (!(err instanceof InvalidResourceError)) throw err;
      this.#log.warn({ err, key }, err.message);
      // Withdraw whatever the previous valid version contributed.
      this.#apply(key, { kind: u.kind, name: u.name, namespace: u.namespace, revision: u.revision });
    }
  }

  #apply(key: string, u: FelixUpdate): void {
    switch (u.kind) {
      case 'WorkloadEndpoint':
        return this.#endpoint(key, isPresent(u) ? decodeWorkloadEndpoint(u) : undefined);
      case 'HostEndpoint':
        return this.#endpoint(key, isPresent(u) ? decodeHostEndpoint(u) : undefined);
      case 'NetworkSet':
      case 'GlobalNetworkSet':
        if (isPresent(u)) this.#ipSets.updateItem(key, decodeNetworkSet(u));
        else this.#ipSets.deleteItem(key);
        return;
      case 'Profile': {
        const profile = isPresent(u) ? decodeProfile(u) : undefined;
        this.#activeRules.updateProfile(u.name, profile);
        this.#ipSets.updateParentLabels(u.name, profile?.labels);
        return;
      }
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy': {
        const policy = isPresent(u) ? decodePolicy(u) : undefined;
        const pk = policyKey(u);
        this.#resolver.updatePolicy(pk, policy);
        this.#activeRules.updatePolicy(pk, policy);
        return;
      }
      case 'Tier':
        return this.#resolver.updateTier(u.name, isPresent(u) ? decodeTier(u) : undefined);
      case 'IPPool': {
        const pool = isPresent(u) ? decodePool(u) : undefined;
        this.#pools.updatePool(u.name, pool);
        this.#routes.updatePool(u.name, pool);
        return;
      }
      case 'IPAMBlock':
        return this.#routes.updateBlock(u.name, isPresent(u) ? decodeBlock(u) : undefined);
      case 'Node':
        return this.#node(u.name, isPresent(u) ? decodeNode(u) : undefined);
      case 'FelixConfiguration':
      case 'ClusterInformation':
        this.#config.update(u.kind, u.name, u.value?.spec);
        return;
      case 'BGPConfiguration': {
        // Only `default`'s advertised service ranges matter here (service loop prevention).
        if (u.name !== 'default') return;
        const spec = (isPresent(u) ? u.value?.spec : undefined) as Record<string, unknown> | undefined;
        const cidrs = (field: string): string[] =>
          (Array.isArray(spec?.[field]) ? (spec[field] as Array<{ cidr?: unknown }>) : []).flatMap((x) => (typeof x?.cidr === 'string' ? [x.cidr] : [])).sort();
        this.#sequencer.onGlobalBGPConfigUpdate({
          serviceClusterCidrs: cidrs('serviceClusterIPs'),
          serviceExternalCidrs: cidrs('serviceExternalIPs'),
          serviceLoadBalancerCidrs: cidrs('serviceLoadBalancerIPs'),
        });
        return;
      }
      case 'KubernetesService':
        return this.#ipSets.updateService(`${u.namespace ?? 'default'}/${u.name}`, isPresent(u) ? decodeService(u) : undefined);
      case 'KubernetesEndpointSlice':
        return this.#ipSets.updateSlice(key, isPresent(u) ? decodeSlice(u) : undefined);
      default:
        return unknownKind(u);
    }
  }

  #endpoint(key: string, ep: EndpointData | undefined): void {
    if (ep === undefined) {
      this.#ipSets.deleteItem(key);
      this.#routes.updateWorkload(key, undefined);
    } else {
      this.#ipSets.updateItem(key, ep);
      if (ep.kind === 'WorkloadEndpoint') this.#routes.updateWorkload(key, { node: ep.node, iface: ep.endpoint.name, nets: ep.nets });
    }
    if (ep !== undefined && ep.node === this.#nodeName) {
      this.#local.add(key);
      this.#resolver.updateEndpoint(key, ep);
      this.#activeRules.updateEndpoint(key, ep.labels, ep.parents);
    } else if (this.#local.delete(key)) {
      this.#activeRules.deleteEndpoint(key);
      this.#resolver.deleteEndpoint(key);
    }
  }

  #node(name: string, node: NodeData | undefined): void {
    this.#routes.updateNode(name, node);
    this.#vxlan.updateNode(name, node);
    if (node === undefined || (node.ipv4Addr === undefined && node.ipv6Addr === undefined)) {
      this.#sequencer.onHostMetadataRemove(name);
      return;
    }
    const host: Parameters<EventSequencer['onHostMetadataUpdate']>[0] = { hostname: name, labels: { ...node.labels } };
    if (node.ipv4Addr !== undefined) host.ipv4Addr = node.ipv4Addr;
    if (node.ipv6Addr !== undefined) host.ipv6Addr = node.ipv6Addr;
    this.#sequencer.onHostMetadataUpdate(host);
  }
}

/**
 * A kind the felix syncer carries that this graph has no case for: a compile error for a kind
 * this build's views know (`u` is not `never`), ignored for one a newer Typha sends.
 */
function unknownKind(_u: never): void {}
