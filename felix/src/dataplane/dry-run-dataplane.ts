/**
 * The `dry-run` driver: keeps the same desired state as the Linux driver and records what it
 * would program (the nft transaction, routes, sysctls, VXLAN) without touching the host. For
 * `cattail felix --dataplane=dry-run`, for debugging a calculation graph, and for tests that
 * compare what two inputs would program. Every workload interface is assumed to exist.
 */
import type { DataplaneMessage, DataplaneSink } from '../proto/messages.js';
import { applyMessages, emptyDesiredState, type DesiredState } from './desired-state.js';
import { endpointStatusReport, type EndpointStatusListener } from './endpoint-status.js';
import { nftOptionsFromConfig, renderRuleset } from './nft-render.js';
import { desiredRoutes, routeSpec, VXLAN_DEVICE } from './routes.js';
import { ApplyTimes, dataplaneStats, type DataplaneStats } from './stats.js';
import { desiredSysctls } from './sysctls.js';
import { desiredVxlan, type DesiredVxlan } from './vxlan.js';

export interface DryRunSnapshot {
  /** The `nft -f` text for `table inet cattail`. */
  nft: string;
  /** `ip route replace` specs (`10.65.0.5/32 dev cali1 scope link proto 80`), sorted. */
  routes: string[];
  sysctls: Record<string, string>;
  vxlan: DesiredVxlan;
}

export interface DryRunOptions {
  nodeName?: string;
  /** Called with each new snapshot (after every batch once in sync). */
  onSnapshot?: (snapshot: DryRunSnapshot) => void;
  /** Each endpoint's status after every snapshot: always up, as every interface is assumed to exist. */
  onEndpointStatus?: EndpointStatusListener;
}

export class DryRunDataplane implements DataplaneSink {
  readonly #state: DesiredState = emptyDesiredState();
  readonly #nodeName: string;
  readonly #onSnapshot: ((s: DryRunSnapshot) => void) | undefined;
  readonly #onEndpointStatus: EndpointStatusListener | undefined;
  readonly #applyTimes = new ApplyTimes();
  #snapshot: DryRunSnapshot | undefined;
  #batches = 0;

  constructor(opts: DryRunOptions = {}) {
    this.#nodeName = opts.nodeName ?? '';
    this.#onSnapshot = opts.onSnapshot;
    this.#onEndpointStatus = opts.onEndpointStatus;
  }

  onMessages(msgs: DataplaneMessage[]): void {
    this.#batches++;
    if (!applyMessages(this.#state, msgs) || !this.#state.inSync) return;
    const started = performance.now();
    const ifaces = new Set([...this.#state.workloads.values()].map((w) => w.endpoint.name));
    const vxlan = desiredVxlan(this.#state, this.#nodeName);
    if (vxlan.device) ifaces.add(VXLAN_DEVICE);
    this.#snapshot = {
      nft: renderRuleset(this.#state, nftOptionsFromConfig(this.#state.config)),
      routes: desiredRoutes(this.#state, ifaces).map(routeSpec),
      sysctls: Object.fromEntries(desiredSysctls(this.#state, ifaces)),
      vxlan,
    };
    this.#applyTimes.observe((performance.now() - started) / 1000);
    this.#onSnapshot?.(this.#snapshot);
    this.#onEndpointStatus?.(endpointStatusReport(this.#state, undefined));
  }

  /** Counts for `/metrics` (an "apply" is the computation of a snapshot). */
  stats(): DataplaneStats {
    return dataplaneStats(this.#state, this.#applyTimes);
  }

  /** What the Linux driver would program now; undefined before the first InSync. */
  snapshot(): DryRunSnapshot | undefined {
    return this.#snapshot;
  }

  get batches(): number {
    return this.#batches;
  }
}

/** A snapshot as text for a human: routes, sysctls, VXLAN peers, then the nft transaction. */
export function formatDryRunSnapshot(s: DryRunSnapshot): string {
  const lines = ['# routes (ip route replace …)', ...s.routes, '', '# sysctls'];
  for (const [k, v] of Object.entries(s.sysctls)) lines.push(`${k.replace(/\//g, '.')} = ${v}`);
  lines.push('', '# vxlan');
  if (s.vxlan.device)
    lines.push(`device vxlan.calico vni ${s.vxlan.device.vni} port ${s.vxlan.device.port} local ${s.vxlan.device.local} address ${s.vxlan.device.address}`);
  for (const p of s.vxlan.peers) lines.push(`peer ${p.node}: ${p.vtepIp} lladdr ${p.mac} dst ${p.hostIp}`);
  lines.push('', '# nft -f -', s.nft);
  return lines.join('\n');
}
