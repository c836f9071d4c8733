/**
 * The system under the protocol model check: two REAL Typha replicas (TyphaDaemon in-process:
 * watcher, validation, projection, dedupe, batcher, cache and WebSocket server) on a model of
 * etcd (`model-etcd.ts`), and REAL SyncClients (felix and bgp) over loopback WebSockets.
 *
 *   ModelEtcd ─link a─▶ Typha A ─┐
 *             └link b─▶ Typha B ─┴─ ws ─▶ felix client, bgp client (both follow `target`)
 *
 * The clients are watched from their callbacks, at every moment they claim to be in sync:
 *
 *   I1  in sync at revision R  ⇒  the client's state equals etcd's projection at R
 *       (the model keeps etcd's full history, so "at R" is exact);
 *   I2  the revisions a client reaches in sync never go down (no rollback);
 *
 * and after the faults are healed (`converge`):
 *
 *   I3  every client is in sync and holds etcd's current projection.
 *
 * Expected states come from Typha's own projection functions applied to the model's history,
 * never from a replica.
 */
import { parseKey, type Resource } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import { TyphaDaemon } from '../../src/daemon/daemon.js';
import { loadTyphaConfig } from '../../src/config.js';
import { projectUpdate } from '../../src/pipeline/index.js';
import { SYNC_PATH } from '../../src/protocol/transport.js';
import type { SyncerType, Update } from '../../src/protocol/messages.js';
import { SyncClient, updateKey, type StatusDetail } from '../../src/client/index.js';
import { jsonEqual } from '../../src/common/index.js';
import { mulberry32 } from '../fault/prng.js';
import { ModelEtcd, type LinkMode } from './model-etcd.js';
import { silentLogger } from '../../src/common/logger.js';

/** The keys the model writes: few, so that faults and writes collide often. */
export const KEYS = [
  { key: '/calico/resources/v3/projectcalico.org/workloadendpoints/ns/n1-k8s-p0-eth0', make: (v: number) => wep(0, v) },
  { key: '/calico/resources/v3/projectcalico.org/workloadendpoints/ns/n1-k8s-p1-eth0', make: (v: number) => wep(1, v) },
  { key: '/calico/resources/v3/projectcalico.org/ippools/pool-0', make: (v: number) => pool(v) },
  { key: '/calico/resources/v3/projectcalico.org/bgppeers/peer-0', make: (v: number) => peer(v) },
] as const;

function wep(i: number, v: number): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: {
      name: `n1-k8s-p${i}-eth0`,
      namespace: 'ns',
      labels: { app: `v${v}`, 'projectcalico.org/namespace': 'ns', 'projectcalico.org/orchestrator': 'k8s' },
    },
    spec: { node: 'n1', orchestrator: 'k8s', pod: `p${i}`, endpoint: 'eth0', interfaceName: `cali0000000000${i}`, ipNetworks: [`10.65.0.${i + 1}/32`] },
  };
}

function pool(v: number): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-0' }, spec: { cidr: `10.${v + 1}.0.0/16` } };
}

function peer(v: number): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'peer-0' }, spec: { peerIP: '192.0.2.1', asNumber: 64512 + v } };
}

interface Replica {
  readonly name: string;
  daemon: TyphaDaemon | undefined;
  url: string | undefined;
}

interface Watched {
  readonly syncer: SyncerType;
  readonly client: SyncClient;
  lastInSync: number;
}

export class ModelSystem {
  readonly etcd = new ModelEtcd();
  readonly replicas: Replica[] = [
    { name: 'a', daemon: undefined, url: undefined },
    { name: 'b', daemon: undefined, url: undefined },
  ];
  /** The replica both clients are sent to (discovery names it alone). */
  target = 0;
  readonly violations: string[] = [];
  readonly #clients: Watched[] = [];
  readonly #random: () => number;

  /** Fan-out processes per replica: 1 keeps the sockets in the replica, K > 1 puts them in K workers. */
  readonly fanoutWorkers: number;

  constructor(seed: number, options: { fanoutWorkers?: number } = {}) {
    this.#random = mulberry32(seed);
    this.fanoutWorkers = options.fanoutWorkers ?? 1;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.replicas.length; i++) await this.startReplica(i);
    for (const syncer of ['felix', 'bgp'] as const) this.#startClient(syncer);
    await this.settle();
  }

  /** Deflated delta frames made by the replicas running now (deflate-deltas, which SyncClient offers by default). */
  deflatedFrames(): number {
    let n = 0;
    for (const r of this.replicas) {
      const cache = r.daemon?.status().cache as Record<string, { batcher: { variantFrames: number } }> | undefined;
      for (const c of Object.values(cache ?? {})) n += c.batcher.variantFrames;
    }
    return n;
  }

  /** TCP connections held by the running replicas' fan-out workers (0 when the sockets stay in the replicas). */
  workerSockets(): number {
    let n = 0;
    for (const r of this.replicas) {
      for (const w of (r.daemon?.status().fanoutWorkers as { sockets: number }[] | undefined) ?? []) n += w.sockets;
    }
    return n;
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((w) => w.client.close()));
    for (let i = 0; i < this.replicas.length; i++) await this.stopReplica(i);
  }

  // ── faults and writes ─────────────────────────────────────────────────────────────────────

  write(key: number, variant: number | undefined): void {
    const k = KEYS[key];
    if (variant === undefined) this.etcd.delete(k.key);
    else this.etcd.put(k.key, k.make(variant));
  }

  /** A write outside `/calico/` (a replica registration, a Felix status report): only the revision moves. */
  writeElsewhere(): void {
    this.etcd.put('/cattail/typha/replicas/model', { apiVersion: 'v1', kind: 'Registration', metadata: { name: 'model' }, spec: {} });
  }

  setLink(replica: number, mode: LinkMode): void {
    this.etcd.link(this.replicas[replica].name).setMode(mode);
  }

  running(replica: number): boolean {
    return this.replicas[replica].daemon !== undefined;
  }

  async startReplica(i: number): Promise<void> {
    const r = this.replicas[i];
    if (r.daemon !== undefined) return;
    const link = this.etcd.link(r.name);
    const daemon = new TyphaDaemon(
      loadTyphaConfig({
        TYPHA_SERVERHOST: '127.0.0.1',
        TYPHA_SERVERPORT: '0',
        TYPHA_CONNECTIONREBALANCINGMODE: 'none',
        TYPHA_SERVERBATCHWINDOWMS: '0',
        // One update per snapshot page: a snapshot is several frames, so it can be cut half-way.
        TYPHA_SNAPSHOTCACHEMAXBATCHSIZE: '1',
        TYPHA_FANOUTWORKERS: String(this.fanoutWorkers),
      }),
      {
        logger: silentLogger,
        serverId: r.name,
        factories: { datastore: () => link as unknown as Datastore },
        tuning: { listRetryDelaysMs: [5], resumeWaitMs: 30 },
      },
    );
    const { syncPort } = await daemon.start();
    r.daemon = daemon;
    r.url = `ws://127.0.0.1:${syncPort}${SYNC_PATH}`;
  }

  async stopReplica(i: number): Promise<void> {
    const r = this.replicas[i];
    const d = r.daemon;
    if (d === undefined) return;
    r.daemon = undefined;
    r.url = undefined;
    await d.stop();
  }

  /** Sends both clients to replica `i`: the one serving them says Goodbye with a hint. */
  moveClients(i: number): void {
    this.target = i;
    const to = this.replicas[i].url;
    for (const r of this.replicas) if (r.daemon !== undefined && r.url !== to) r.daemon.server.shed(this.#clients.length, to ? { reconnect: to } : undefined);
  }

  /** Drops both clients' connections (they come back to the target). */
  dropClients(): void {
    for (const r of this.replicas) r.daemon?.server.shed(this.#clients.length);
  }

  // ── waiting ───────────────────────────────────────────────────────────────────────────────

  /**
   * Waits (bounded) until what can progress has: every running replica whose link is up has
   * applied etcd's last change under /calico/, and each client on a replica that is not behind it is in sync
   * there with that replica's state. Returns whether it got there; a fault may legitimately
   * keep it from it, so only `converge` treats "not there" as a failure.
   */
  async settle(ms = 1000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.#settled()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
    return true;
  }

  /** Heals every fault and requires I3 within `ms`; throws with the details otherwise. */
  async converge(ms = 10_000): Promise<void> {
    for (let i = 0; i < this.replicas.length; i++) {
      this.setLink(i, 'up');
      await this.startReplica(i);
    }
    if (!(await this.settle(ms))) throw new Error(`did not converge within ${ms} ms:\n${this.describe()}`);
    for (const w of this.#clients) {
      const diff = this.#diff(w, this.etcd.revision);
      if (diff) throw new Error(`${w.syncer} client converged on a wrong state: ${diff}\n${this.describe()}`);
    }
  }

  describe(): string {
    const lines = [`etcd revision ${this.etcd.revision}, compacted at ${this.etcd.compactRevision}, target ${this.replicas[this.target].name}`];
    for (const r of this.replicas) {
      const st = r.daemon?.status() as { inSync: boolean; revision: number } | undefined;
      lines.push(`  replica ${r.name}: ${st ? `inSync=${st.inSync} revision=${st.revision}` : 'stopped'}, link ${this.etcd.link(r.name).mode}`);
    }
    for (const w of this.#clients) {
      lines.push(
        `  ${w.syncer} client: ${w.client.state} revision=${w.client.revision} on ${w.client.connectedTo ?? '-'}; diff vs now: ${this.#diff(w, this.etcd.revision) ?? 'none'}`,
      );
    }
    return lines.join('\n');
  }

  #settled(): boolean {
    // A watch reports only changes under /calico/: that is how far a replica must have got.
    const last = this.etcd.lastRevisionUnder('/calico/');
    for (const r of this.replicas) {
      if (r.daemon === undefined || this.etcd.link(r.name).mode !== 'up') continue;
      if (!r.daemon.ready || this.#cacheRevision(r, 'felix') < last || this.#cacheRevision(r, 'bgp') < last) return false;
    }
    const t = this.replicas[this.target];
    for (const w of this.#clients) {
      // In sync on any running replica (hints teach clients the other one): with its state.
      const on = this.replicas.find((r) => r.daemon !== undefined && r.url === w.client.connectedTo);
      if (w.client.state === 'in-sync' && on !== undefined) {
        if (this.#diff(w, this.#cacheRevision(on, w.syncer)) !== undefined) return false;
        continue;
      }
      if (t.daemon === undefined) continue; // nowhere it is sent to: it retries
      if (w.client.revision > this.#cacheRevision(t, w.syncer)) continue; // the target is behind it
      return false;
    }
    return true;
  }

  #cacheRevision(r: Replica, syncer: SyncerType): number {
    const st = r.daemon?.status() as { cache: Record<string, { revision: number }> } | undefined;
    return st?.cache[syncer]?.revision ?? 0;
  }

  #startClient(syncer: SyncerType): void {
    const watched: Watched = { syncer, client: undefined as unknown as SyncClient, lastInSync: 0 };
    const client = new SyncClient({
      syncer,
      node: 'n1',
      discovery: {
        endpoints: async () => {
          const url = this.replicas[this.target].url;
          return url === undefined ? [] : [{ url }];
        },
      },
      callbacks: {
        onStatus: (status: string, detail: StatusDetail) => {
          if (status !== 'in-sync') return;
          if (detail.revision < watched.lastInSync)
            this.violations.push(`I2: ${syncer} client went back from revision ${watched.lastInSync} to ${detail.revision} (${detail.endpoint})`);
          watched.lastInSync = Math.max(watched.lastInSync, detail.revision);
          this.#check(watched, detail.revision, 'in-sync');
        },
        onUpdates: (_changes: Update[], revision: number) => {
          if (watched.client.state === 'in-sync') this.#check(watched, revision, 'deltas');
        },
      },
      backoff: { delaysMs: [0, 5, 10], jitter: 0, maxMs: 10 },
      handshakeTimeoutMs: 2000,
      random: this.#random,
      logger: silentLogger,
    });
    (watched as { client: SyncClient }).client = client;
    this.#clients.push(watched);
    client.start();
  }

  #check(w: Watched, revision: number, when: string): void {
    const diff = this.#diff(w, revision);
    if (diff) this.violations.push(`I1: ${w.syncer} client in sync at revision ${revision} (${when}) differs from etcd's projection there: ${diff}`);
  }

  /** How the client's state differs from etcd's projection at `revision`; undefined if equal. */
  #diff(w: Watched, revision: number): string | undefined {
    const want = expectedProjection(this.etcd, w.syncer, revision);
    const have = new Map(w.client.snapshot().map((u) => [updateKey(u), u.value]));
    const out: string[] = [];
    for (const [k, v] of want) {
      if (!have.has(k)) out.push(`missing ${k}`);
      else if (!jsonEqual(have.get(k), v)) out.push(`stale ${k}`);
    }
    for (const k of have.keys()) if (!want.has(k)) out.push(`extra ${k}`);
    return out.length > 0 ? out.join(', ') : undefined;
  }
}

/** etcd's content at `revision`, projected for `syncer` by Typha's own projection table. */
export function expectedProjection(etcd: ModelEtcd, syncer: SyncerType, revision: number): Map<string, Update['value']> {
  const out = new Map<string, Update['value']>();
  for (const [key, { value, modRevision }] of etcd.stateAt(revision)) {
    const parsed = parseKey(key);
    if (parsed === undefined) continue;
    const kv = {
      key,
      kind: parsed.kind.kind,
      name: parsed.name,
      revision: modRevision,
      resource: value,
      ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
    };
    const u = projectUpdate(syncer, kv);
    if (u?.value !== undefined) out.set(updateKey(u), u.value);
  }
  return out;
}
