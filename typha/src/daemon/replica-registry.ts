/**
 * Replicas know each other through etcd: each registers `/cattail/typha/replicas/<serverId>`
 * under a lease (so a crashed replica disappears within the TTL) holding its address and load,
 * refreshed every interval, and reads everyone else's at the same time. The registry lives
 * outside `/calico/` so registrations never wake the sync watch.
 *
 * (Calico's Typha learns its peers from the Kubernetes Service's endpoints; the Kubernetes
 * backend will do that too. Against plain etcd, leases are the native way.)
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
  updatedAt: string;
}

export class ReplicaRegistry {
  readonly #client: etcd.EtcdClient;
  readonly #ttl: number;
  #lease: string | undefined;
  #keepAlive: { stop(): void } | undefined;
  #peers: ReplicaInfo[] = [];

  constructor(client: etcd.EtcdClient, ttlSeconds: number) {
    this.#client = client;
    this.#ttl = ttlSeconds;
  }

  /** Everyone registered, this replica included, as of the last refresh. */
  get replicas(): readonly ReplicaInfo[] {
    return this.#peers;
  }

  /** Write our entry (granting a lease on first use) and read all entries. */
  async refresh(self: ReplicaInfo): Promise<readonly ReplicaInfo[]> {
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
    const peers: ReplicaInfo[] = [];
    for (const kv of kvs) {
      try {
        const v = JSON.parse(kv.value.toString()) as ReplicaInfo;
        if (typeof v.url === 'string' && typeof v.connections === 'number') peers.push(v);
      } catch {
        // Someone else's garbage under our prefix: ignore it rather than stop balancing.
      }
    }
    this.#peers = peers;
    return peers;
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
