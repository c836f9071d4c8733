/**
 * The agents: real `SyncClient`s (the public `@cattail/typha/client` surface) in the test
 * process, of both the felix and the bgp syncer, on varied node names (some match the
 * WorkloadEndpoints' nodes, some do not). Each finds Typha by a static list naming both
 * replicas' front proxies, so killing a client's socket is resetting it at the proxy.
 *
 * Each client keeps a short history of what it went through (replica, snapshot or resume,
 * revision): a failure report shows how a client came to hold a wrong state. Shuffling and
 * backoff jitter come from the round's PRNG; backoffs are short so that a round converges in
 * seconds once every fault is healed. The handshake timeout is the client's default (10 s): it
 * must stay above Typha's resume wait (5 s), or a client ahead of a replica never gets that
 * replica's fallback snapshot (see docs/RELIABILITY.md, "not-converged").
 */
import { SyncClient, staticDiscovery, type StatusDetail, type SyncerType } from '../../src/client/index.js';
import type { Rng } from './prng.js';
import { WEP_NODES } from './resources.js';

export interface FleetMember {
  readonly id: string;
  readonly syncer: SyncerType;
  readonly node: string;
  readonly client: SyncClient;
  /** The last status changes, oldest first: `+ms status replica mode r=rev`. */
  readonly history: string[];
}

export interface FleetOptions {
  count: number;
  /** Front addresses by replica name, e.g. {A: '127.0.0.1:4001', B: '127.0.0.1:4002'}. */
  fronts: Readonly<Record<string, string>>;
  rng: Rng;
}

const HISTORY = 12;

export class Fleet {
  readonly members: FleetMember[] = [];
  readonly #replicaByPort = new Map<string, string>();
  readonly #t0 = Date.now();

  constructor(o: FleetOptions) {
    for (const [name, addr] of Object.entries(o.fronts)) this.#replicaByPort.set(addr.split(':').at(-1)!, name);
    const discovery = staticDiscovery(Object.values(o.fronts).join(','));
    for (let i = 0; i < o.count; i++) {
      const syncer: SyncerType = i % 3 === 2 ? 'bgp' : 'felix';
      const node = i % 4 === 3 ? `edge${i}` : `node${i % WEP_NODES}`;
      const id = `c${String(i).padStart(2, '0')}`;
      const history: string[] = [];
      const rng = o.rng.fork(id);
      const client = new SyncClient({
        syncer,
        node,
        discovery,
        clientId: `fault-${id}`,
        random: rng.next,
        backoff: { delaysMs: [20, 100, 250, 500, 1000], jitter: 0.5, maxMs: 1000 },
        readTimeoutMs: 8000,
        pingIntervalMs: 2000,
        maxGoodbyeDelayMs: 500,
        callbacks: {
          onStatus: (status, detail) => this.#record(history, status, detail),
          onUpdates() {},
        },
      });
      this.members.push({ id, syncer, node, client, history });
    }
  }

  start(): void {
    for (const m of this.members) m.client.start();
  }

  /** 'A', 'B', or '-' when not connected. */
  replicaOf(m: FleetMember): string {
    const url = m.client.connectedTo;
    if (url === undefined) return '-';
    return this.#replicaByPort.get(new URL(url).port) ?? url;
  }

  /** Every client in sync at `revision` or later. */
  allInSyncAt(revision: number): boolean {
    return this.members.every((m) => m.client.state === 'in-sync' && m.client.revision >= revision);
  }

  /** One line per client not yet there, for a timeout message. */
  laggards(revision: number): string[] {
    return this.members
      .filter((m) => !(m.client.state === 'in-sync' && m.client.revision >= revision))
      .map((m) => `${m.id} ${m.syncer} ${m.client.state} r=${m.client.revision} on ${this.replicaOf(m)} | ${m.history.slice(-4).join(' | ')}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.client.close()));
  }

  #record(history: string[], status: string, d: StatusDetail): void {
    if (status === 'connecting') return;
    const replica = d.endpoint ? (this.#replicaByPort.get(new URL(d.endpoint).port) ?? d.endpoint) : '?';
    const extra = d.mode ?? (d.goodbye ? `goodbye:${d.goodbye.code}` : d.code !== undefined ? `code:${d.code}` : '');
    history.push(`+${Date.now() - this.#t0}ms ${status} ${replica} ${extra} r=${d.revision}`.replace(/ {2,}/g, ' '));
    if (history.length > HISTORY) history.shift();
  }
}
