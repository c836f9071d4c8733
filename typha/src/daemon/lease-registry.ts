/**
 * Replica registration on the Kubernetes datastore: each replica keeps a `coordination.k8s.io/v1`
 * Lease `cattail-typha-<serverId>` in TYPHA_K8SNAMESPACE, labelled `cattail.dev/typha-replica`,
 * whose annotation holds the same report the etcd registry writes (URL, connections, whether it
 * takes clients); holderIdentity, leaseDurationSeconds and renewTime are filled as Kubernetes
 * tools expect, so `kubectl get leases` shows who is alive. Every interval a replica renews its
 * Lease and lists everyone's.
 *
 * Freshness is the etcd registry's ({@link ReplicaBook}): a report counts only when this replica
 * saw its resourceVersion change at this refresh or the one before, so no clock is compared to
 * decide whom to shed toward. A crashed replica's Lease stops changing and is ignored at once;
 * Leases not renewed for ten durations (by renewTime, the only place a clock is read) are
 * deleted by whichever replica sees them, with a resourceVersion precondition, so a Lease
 * renewed meanwhile survives. On a clean shutdown a replica deletes its own.
 *
 * RBAC: get, list, create, update, delete on leases in that namespace.
 */
import { kdd } from '@cattail/datastore';
import { ReplicaBook, type ReplicaDirectory, type ReplicaInfo, type ReplicaView, type StoredReport } from './replica-registry.js';

export const REPLICA_LABEL = 'cattail.dev/typha-replica';
export const REPORT_ANNOTATION = 'cattail.dev/typha-report';
/** Leases not renewed for this many durations are removed. */
const STALE_DURATIONS = 10;

interface Lease {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { renewTime?: string; leaseDurationSeconds?: number };
}

/** A DNS-1123 name for a server id (host names may hold upper case or dots in odd places). */
export function leaseName(serverId: string): string {
  const clean = serverId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `cattail-typha-${clean}`.slice(0, 253).replace(/-+$/, '');
}

/** Kubernetes' MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseReplicaRegistry implements ReplicaDirectory {
  readonly #ds: kdd.KubeDatastore;
  readonly #namespace: string;
  readonly #ttl: number;
  readonly #book = new ReplicaBook();
  readonly #now: () => Date;
  /** The resourceVersion of our Lease as we last wrote it. */
  #version: string | undefined;

  constructor(ds: kdd.KubeDatastore, opts: { namespace: string; ttlSeconds: number; now?: () => Date }) {
    this.#ds = ds;
    this.#namespace = opts.namespace;
    this.#ttl = opts.ttlSeconds;
    this.#now = opts.now ?? (() => new Date());
  }

  get replicas(): readonly ReplicaView[] {
    return this.#book.replicas;
  }

  async refresh(self: ReplicaInfo): Promise<readonly ReplicaView[]> {
    await this.#renew(self);
    const list = (await this.#ds.request('GET', `${this.#collection()}?labelSelector=${encodeURIComponent(REPLICA_LABEL)}`)) as { items?: Lease[] };
    const reports: StoredReport[] = [];
    const now = this.#now().getTime();
    for (const lease of list.items ?? []) {
      const text = lease.metadata?.annotations?.[REPORT_ANNOTATION];
      const renewed = Date.parse(lease.spec?.renewTime ?? '');
      const duration = lease.spec?.leaseDurationSeconds ?? this.#ttl;
      if (Number.isFinite(renewed) && now - renewed > STALE_DURATIONS * duration * 1000) {
        await this.#remove(lease);
        continue;
      }
      if (text === undefined) continue;
      try {
        reports.push({ value: JSON.parse(text), version: lease.metadata?.resourceVersion ?? '' });
      } catch {
        // a report we cannot read: ignored, as the etcd registry ignores garbage under its prefix
      }
    }
    return this.#book.observe(self.serverId, reports);
  }

  async deregister(serverId: string): Promise<void> {
    await this.#ds.request('DELETE', `${this.#collection()}/${leaseName(serverId)}`).catch(() => undefined);
  }

  #collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases`;
  }

  /**
   * Create our Lease, or update it with the resourceVersion of our last write (the API server
   * wants one on every update of a Lease). Unknown (first refresh) or stale (someone touched it,
   * a 409): read it once and write again; gone (a peer removed it as stale): create it.
   */
  async #renew(self: ReplicaInfo): Promise<void> {
    const name = leaseName(self.serverId);
    const path = `${this.#collection()}/${name}`;
    const body = (resourceVersion?: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.#namespace,
        ...(resourceVersion !== undefined ? { resourceVersion } : {}),
        labels: { [REPLICA_LABEL]: 'true' },
        annotations: { [REPORT_ANNOTATION]: JSON.stringify(self) },
      },
      spec: { holderIdentity: self.serverId, leaseDurationSeconds: this.#ttl, renewTime: microTime(this.#now()) },
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (this.#version === undefined) {
          const current = (await this.#ds.request('GET', path).catch((err: unknown) => {
            if (err instanceof kdd.KubeHttpError && err.statusCode === 404) return undefined;
            throw err;
          })) as Lease | undefined;
          const written = (await (current === undefined
            ? this.#ds.request('POST', this.#collection(), body())
            : this.#ds.request('PUT', path, body(current.metadata?.resourceVersion)))) as Lease;
          this.#version = written.metadata?.resourceVersion;
        } else {
          this.#version = ((await this.#ds.request('PUT', path, body(this.#version))) as Lease).metadata?.resourceVersion;
        }
        return;
      } catch (err) {
        this.#version = undefined;
        if (!(err instanceof kdd.KubeHttpError) || (err.statusCode !== 409 && err.statusCode !== 404) || attempt > 0) throw err;
      }
    }
  }

  async #remove(lease: Lease): Promise<void> {
    const name = lease.metadata?.name;
    if (!name) return;
    const preconditions = { resourceVersion: lease.metadata?.resourceVersion };
    await this.#ds.request('DELETE', `${this.#collection()}/${name}`, { preconditions }).catch(() => undefined);
  }
}
