/**
 * Automatic host endpoints, as calico-kube-controllers' node controller makes them
 * (KubeControllersConfiguration `spec.controllers.node.hostEndpoint.autoCreate: Enabled`, or
 * AUTO_HOST_ENDPOINTS=enabled): every Calico Node gets a HostEndpoint `<node>-auto-hep` for all
 * its interfaces, so host-protection policy can select nodes by their labels.
 *
 *   Node watch (listPrefix + watchPrefix) ──change──▶ reconcile (debounced; again every period)
 *                                                       desired: one HostEndpoint per Node
 *   HostEndpoints labelled created-by=calico-kube-controllers ──▶ create / update / delete
 *
 * The HostEndpoint, as Calico's: labels = the Node's labels plus
 * `projectcalico.org/created-by: calico-kube-controllers`; spec.node = the Node; interfaceName
 * `*`; expectedIPs = the Node's BGP addresses (without prefix) and tunnel addresses (VXLAN,
 * IP-in-IP, WireGuard); profiles `projectcalico-default-allow`, so traffic no policy selects
 * keeps flowing (the default host endpoint's). Only endpoints carrying that label are ever
 * updated or deleted; a hand-made HostEndpoint of the same name is left alone and reported.
 * With autoCreate off, the ones it made are deleted. Not built: `createDefaultHostEndpoint:
 * Disabled` with `templates` (per-interface endpoints from CIDR templates).
 */
import { listPrefix, type Resource } from '@cattail/api';
import { AlreadyExistsError, ConflictError, NotFoundError, type Datastore, type WatchHandle } from '@cattail/datastore';
import { jsonEqual, realClock, silentLogger, type Clock, type Logger, type TimerHandle } from '@cattail/typha/common';
import { SerialRunner } from './serial-runner.js';

export const CREATED_BY_LABEL = 'projectcalico.org/created-by';
export const CREATED_BY = 'calico-kube-controllers';
export const AUTO_HEP_SUFFIX = '-auto-hep';
const DEFAULT_ALLOW_PROFILE = 'projectcalico-default-allow';

export interface AutoHostEndpointsOptions {
  /** AUTO_HOST_ENDPOINTS: wins over the KubeControllersConfiguration when set. */
  enabled?: boolean;
  configName?: string;
  periodMs?: number;
  debounceMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface AutoHostEndpointsStatus {
  enabled: boolean;
  endpoints: number;
  created: number;
  updated: number;
  deleted: number;
  errors: number;
}

/** A node's addresses as host endpoint expectedIPs: bare IPs, each once, in a stable order. */
function nodeAddresses(node: Resource): string[] {
  const spec = node.spec ?? {};
  const bgp = (spec.bgp ?? {}) as Record<string, unknown>;
  const wg = (spec.wireguard ?? {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const v of [
    bgp.ipv4Address,
    bgp.ipv6Address,
    bgp.ipv4IPIPTunnelAddr,
    spec.ipv4VXLANTunnelAddr,
    spec.ipv6VXLANTunnelAddr,
    wg.interfaceIPv4Address,
    wg.interfaceIPv6Address,
  ]) {
    if (typeof v !== 'string' || v === '') continue;
    const ip = v.split('/')[0];
    if (!out.includes(ip)) out.push(ip);
  }
  return out;
}

/** The host endpoint Calico makes for `node`. */
export function autoHostEndpoint(node: Resource): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: { name: `${node.metadata.name}${AUTO_HEP_SUFFIX}`, labels: { ...(node.metadata.labels ?? {}), [CREATED_BY_LABEL]: CREATED_BY } },
    spec: { node: node.metadata.name, interfaceName: '*', expectedIPs: nodeAddresses(node), profiles: [DEFAULT_ALLOW_PROFILE] },
  };
}

export class AutoHostEndpoints {
  readonly #ds: Datastore;
  readonly #o: AutoHostEndpointsOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #watch: WatchHandle | undefined;
  readonly #runner: SerialRunner;
  #watchTimer: TimerHandle | undefined;
  readonly #status: AutoHostEndpointsStatus = { enabled: false, endpoints: 0, created: 0, updated: 0, deleted: 0, errors: 0 };

  constructor(ds: Datastore, opts: AutoHostEndpointsOptions = {}) {
    this.#ds = ds;
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? silentLogger).child({ controller: 'node-host-endpoints' });
    this.#runner = new SerialRunner(() => this.#reconcile(), {
      clock: this.#clock,
      soonMs: opts.debounceMs ?? 200,
      nextMs: () => opts.periodMs ?? 5 * 60_000,
      onError: (err) => {
        this.#status.errors++;
        this.#log.warn({ err }, 'host endpoint reconcile failed; retrying');
        return true;
      },
    });
  }

  get #stopped(): boolean {
    return this.#runner.stopped;
  }

  status(): AutoHostEndpointsStatus {
    return { ...this.#status };
  }

  start(): void {
    if (this.#runner.start()) void this.#startWatch();
  }

  async stop(): Promise<void> {
    const stopped = this.#runner.stop(); // marks it stopped at once: no watch restarts from here
    this.#watch?.close();
    this.#watch = undefined;
    this.#clock.clearTimeout(this.#watchTimer);
    await stopped;
  }

  /** Reconcile now; never two at once. */
  tick(): void {
    this.#runner.now();
  }

  /** Node changes make a reconcile soon: a node added, relabelled, re-addressed or deleted. */
  async #startWatch(): Promise<void> {
    const prefix = listPrefix('Node');
    try {
      const listed = await this.#ds.listPrefix(prefix);
      if (this.#stopped) return;
      this.#watch = this.#ds.watchPrefix(prefix, listed.revision + 1, {
        onEvents: () => this.#runner.soon(),
        onError: (err) => {
          this.#log.warn({ err }, 'the Node watch stopped; watching again');
          this.#watch = undefined;
          if (!this.#stopped) this.#watchTimer = this.#clock.setTimeout((self: AutoHostEndpoints) => void self.#startWatch(), 1_000, this);
        },
      });
    } catch (err) {
      this.#log.warn({ err }, 'cannot watch Nodes; reconciling every period only, trying again');
      if (!this.#stopped) this.#watchTimer = this.#clock.setTimeout((self: AutoHostEndpoints) => void self.#startWatch(), 5_000, this);
    }
  }

  async #enabled(): Promise<boolean> {
    if (this.#o.enabled !== undefined) return this.#o.enabled;
    try {
      const res = await this.#ds.get({ kind: 'KubeControllersConfiguration', name: this.#o.configName ?? 'default' });
      const hep = (res.spec as { controllers?: { node?: { hostEndpoint?: { autoCreate?: unknown } } } } | undefined)?.controllers?.node?.hostEndpoint;
      return hep?.autoCreate === 'Enabled';
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async #reconcile(): Promise<void> {
    const enabled = await this.#enabled();
    this.#status.enabled = enabled;
    const desired = new Map<string, Resource>();
    if (enabled) for (const node of (await this.#ds.list('Node')).items) desired.set(`${node.metadata.name}${AUTO_HEP_SUFFIX}`, autoHostEndpoint(node));
    let existing: Resource[];
    try {
      existing = (await this.#ds.list('HostEndpoint')).items;
    } catch (err) {
      // Off, and not allowed to read host endpoints (RBAC without the feature's grant): there is
      // nothing of ours to clean up that we could see. On, it is an error to report and retry.
      if (!enabled) {
        this.#log.debug({ err }, 'automatic host endpoints are off and host endpoints cannot be listed; nothing to clean up');
        return;
      }
      throw err;
    }
    const ours = new Map(existing.filter((h) => h.metadata.labels?.[CREATED_BY_LABEL] === CREATED_BY).map((h) => [h.metadata.name, h]));
    const others = new Set(existing.filter((h) => !ours.has(h.metadata.name)).map((h) => h.metadata.name));
    for (const [name, want] of desired) {
      const have = ours.get(name);
      if (!have) {
        if (others.has(name)) {
          this.#log.warn({ name }, 'a HostEndpoint of this name was not made by kube-controllers; left alone');
          continue;
        }
        await this.#write('created', name, () => this.#ds.create(want));
      } else if (!jsonEqual(have.metadata.labels ?? {}, want.metadata.labels) || !jsonEqual(have.spec, want.spec)) {
        const next: Resource = { ...have, metadata: { ...have.metadata, labels: want.metadata.labels }, spec: want.spec };
        await this.#write('updated', name, () => this.#ds.update(next));
      }
    }
    for (const [name, have] of ours) {
      if (desired.has(name)) continue;
      await this.#write('deleted', name, () => this.#ds.delete({ kind: 'HostEndpoint', name }, { resourceVersion: have.metadata.resourceVersion }));
    }
    this.#status.endpoints = desired.size;
  }

  async #write(op: 'created' | 'updated' | 'deleted', name: string, fn: () => Promise<unknown>): Promise<void> {
    if (this.#stopped) return;
    try {
      await fn();
    } catch (err) {
      if (err instanceof AlreadyExistsError || err instanceof ConflictError || err instanceof NotFoundError) {
        this.#runner.again(); // someone wrote meanwhile: the next run sees it
        return;
      }
      throw err;
    }
    this.#status[op]++;
    this.#log.info({ hostEndpoint: name }, `${op} the automatic host endpoint`);
  }
}
