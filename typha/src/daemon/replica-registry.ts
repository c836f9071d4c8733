/**
 * Replicas know each other through etcd: each registers `/cattail/typha/replicas/<serverId>`
 * under a lease (so a crashed replica disappears within the TTL) holding its address and load,
 * refreshed every interval, and reads everyone else's at the same time. The registry lives
 * outside `/calico/` so registrations never wake the sync watch.
 *
 * (Calico's Typha learns its peers from the Kubernetes Service's endpoints. Against plain etcd,
 * leases are the native way; on the Kubernetes datastore, `lease-registry.ts` keeps the same
 * reports in coordination.k8s.io Lease objects.)
 *
 * Freshness ({@link ReplicaBook}, shared by both registries), without comparing clocks across
 * machines: a peer's report is `fresh` when this replica saw it change (a new etcd mod revision,
 * a new Lease resourceVersion) at this refresh or the one before, so it is
 * at most about two refresh intervals old. A report seen for the first time is not fresh yet
 * (it may be a dead replica's, waiting for its lease to expire). A peer that stopped reporting
 * (stalled, cut off from etcd, or so loaded that its timer is late) goes stale within two
 * intervals, long before its lease expires, and nobody sheds clients toward it or on the
 * strength of its old numbers.
 */
import type { etcd } from '@cattail/datastore';

export const REPLICA_PREFIX = '/cattail/typha/replicas/';

export interface ReplicaInfo {
  serverId: string;
  /** ws:// or wss:// URL clients can reconnect to. */
  url: string;
  node: string;
  connections: number;
  maxConnections: number;
  inSync: boolean;
  /** The datastore revision it had applied when it wrote this (a client above it would wait there). */
  revision: number;
  updatedAt: string;
}

/** A report as this replica read it. */
export interface ReplicaView extends ReplicaInfo {
  /** Seen to change at this refresh or the previous one (our own: always). */
  fresh: boolean;
}

/** Where replicas find each other: etcd leases, or Lease objects on the Kubernetes API. */
export interface ReplicaDirectory {
  /** Everyone registered, this replica included, as of the last refresh. */
  readonly replicas: readonly ReplicaView[];
  /** Write our report and read everyone's. */
  refresh(self: ReplicaInfo): Promise<readonly ReplicaView[]>;
  /** Remove our report (clean shutdown). */
  deregister(serverId: string): Promise<void>;
}

/** A report as read from the store, with the store's version of it (mod revision, resourceVersion). */
export interface StoredReport {
  value: unknown;
  version: string;
}

/** The freshness bookkeeping: which reports changed at which refresh. */
export class ReplicaBook {
  #peers: ReplicaView[] = [];
  #refreshes = 0;
  /** serverId → the report's last version and the refresh at which it was seen to change. */
  readonly #seen = new Map<string, { version: string; changedAt: number }>();

  get replicas(): readonly ReplicaView[] {
    return this.#peers;
  }

  /** One refresh's read of every report; malformed ones (someone else's garbage) are ignored. */
  observe(selfId: string, reports: readonly StoredReport[]): readonly ReplicaView[] {
    const now = ++this.#refreshes;
    const peers: ReplicaView[] = [];
    const present = new Set<string>();
    for (const { value, version } of reports) {
      const v = value as Partial<ReplicaInfo> | null;
      if (typeof v !== 'object' || v === null || typeof v.serverId !== 'string' || typeof v.url !== 'string' || typeof v.connections !== 'number') continue;
      present.add(v.serverId);
      const seen = this.#seen.get(v.serverId);
      if (seen === undefined) this.#seen.set(v.serverId, { version, changedAt: -Infinity });
      else if (seen.version !== version) this.#seen.set(v.serverId, { version, changedAt: now });
      const changedAt = this.#seen.get(v.serverId)?.changedAt ?? -Infinity;
      const fresh = v.serverId === selfId || changedAt >= now - 1;
      peers.push({ ...(v as ReplicaInfo), revision: typeof v.revision === 'number' ? v.revision : 0, fresh });
    }
    for (const id of this.#seen.keys()) if (!present.has(id)) this.#seen.delete(id);
    this.#peers = peers;
    return peers;
  }
}

export class ReplicaRegistry implements ReplicaDirectory {
  readonly #client: etcd.EtcdClient;
  readonly #ttl: number;
  #lease: string | undefined;
  #keepAlive: { stop(): void } | undefined;
  readonly #book = new ReplicaBook();

  constructor(client: etcd.EtcdClient, ttlSeconds: number) {
    this.#client = client;
    this.#ttl = ttlSeconds;
  }

  get replicas(): readonly ReplicaView[] {
    return this.#book.replicas;
  }

  /** Write our entry (granting a lease on first use) and read all entries. */
  async refresh(self: ReplicaInfo): Promise<readonly ReplicaView[]> {
    if (this.#lease === undefined) {
      const { id } = await this.#client.grant(this.#ttl);
      this.#lease = id;
      const ka = await this.#client.keepAlive(id);
      ka.on('lost', () => {
        // The lease expired (etcd unreachable for a TTL): grant a new one next refresh.
        if (this.#lease === id) this.#lease = undefined;
      });
      this.#keepAlive = ka;
    }
    await this.#client.put(`${REPLICA_PREFIX}${self.serverId}`, JSON.stringify(self), { lease: this.#lease });
    const { kvs } = await this.#client.range(REPLICA_PREFIX, { prefix: true });
    const reports: StoredReport[] = [];
    for (const kv of kvs) {
      try {
        reports.push({ value: JSON.parse(kv.value.toString()), version: String(kv.modRevision) });
      } catch {
        // someone else's garbage under our prefix: ignore it rather than stop balancing
      }
    }
    return this.#book.observe(self.serverId, reports);
  }

  /** Remove our entry and revoke the lease (clean shutdown). */
  async deregister(serverId: string): Promise<void> {
    this.#keepAlive?.stop();
    const lease = this.#lease;
    this.#lease = undefined;
    await this.#client.deleteRange(`${REPLICA_PREFIX}${serverId}`).catch(() => undefined);
    if (lease) await this.#client.revoke(lease).catch(() => undefined);
  }
}
