/**
 * The world of one fault round, built fresh for every round so a seed replays alone:
 *
 *                         ┌── link A ──▶ ┐
 *   writer ──────────────────────────────▶ etcd (real; stopped, restarted, compacted)
 *                         └── link B ──▶ ┘
 *   Typha A (process) ◀── front A ◀──┐
 *   Typha B (process) ◀── front B ◀──┴── ~50 SyncClients (felix + bgp), static list of both fronts
 *
 * Everything created is registered in a Cleanup stack as it is made, so a failure half-way
 * still ends every process by its pid, closes every proxy and removes etcd's temp dir.
 */
import { EtcdDatastore, etcd as etcdApi } from '@cattail/datastore';
import { Cleanup, startEtcd, startTcpProxy, type EtcdServer } from '@cattail/datastore/testing';
import { Fleet } from './fleet.js';
import type { Rng } from './prng.js';
import { Replica, type ReplicaName } from './replica.js';
import { Writer } from './writer.js';

export interface WorldOptions {
  rng: Rng;
  clients: number;
  /** Random writes before the clients start, so their first snapshot has content. */
  initialWrites: number;
  /** Bound for a replica to listen and be ready. */
  readyMs: number;
  /** TYPHA_* overrides for both replicas. */
  typhaEnv?: Readonly<Record<string, string>>;
  /** Start the clients at the end of start() (default); a scenario may first shape the network. */
  startClients?: boolean;
}

export class World {
  readonly cleanup = new Cleanup();
  etcd!: EtcdServer;
  raw!: etcdApi.EtcdClient;
  /** Straight to etcd: the expected state's reads, a scenario's own writes. */
  ds!: EtcdDatastore;
  writer!: Writer;
  replicas!: Readonly<Record<ReplicaName, Replica>>;
  fleet!: Fleet;
  /** Set by the etcd-stop step, cleared when etcd is started again. */
  etcdDown = false;

  static async start(o: WorldOptions): Promise<World> {
    const w = new World();
    try {
      await w.#build(o);
    } catch (err) {
      await w.close().catch(() => undefined);
      throw err;
    }
    return w;
  }

  async #build(o: WorldOptions): Promise<void> {
    const c = this.cleanup;
    this.etcd = await startEtcd();
    c.add('etcd', () => this.etcd.stop());
    this.raw = new etcdApi.EtcdClient(this.etcd.clientOptions());
    c.add('raw etcd client', () => this.raw.close());
    this.ds = new EtcdDatastore(this.etcd.clientOptions());
    c.add('datastore client', () => this.ds.close());
    this.writer = new Writer(this.etcd.clientUrl, o.rng.fork('writer'));
    c.add('writer', () => this.writer.close());
    const etcdPort = Number(new URL(this.etcd.clientUrl).port);
    const replicas: Partial<Record<ReplicaName, Replica>> = {};
    for (const name of ['A', 'B'] as const) {
      const link = await startTcpProxy('127.0.0.1', etcdPort);
      c.add(`link ${name}`, () => link.close());
      const front = await startTcpProxy('127.0.0.1', 1);
      c.add(`front ${name}`, () => front.close());
      const r = new Replica(name, link, front, o.typhaEnv);
      c.add(`replica ${name}`, () => r.close());
      replicas[name] = r;
    }
    this.replicas = replicas as Record<ReplicaName, Replica>;
    await Promise.all(this.each().map((r) => r.start()));
    await Promise.all(this.each().map((r) => r.ready(o.readyMs)));
    await this.writer.writeRandom(o.initialWrites);
    this.fleet = new Fleet({
      count: o.clients,
      fronts: { A: this.replicas.A.frontAddress, B: this.replicas.B.frontAddress },
      rng: o.rng.fork('fleet'),
    });
    c.add('clients', () => this.fleet.close());
    if (o.startClients !== false) this.fleet.start();
  }

  each(): Replica[] {
    return [this.replicas.A, this.replicas.B];
  }

  /** etcd's current revision (registrations included: it is what compaction needs). */
  async etcdRevision(): Promise<number> {
    return (await this.raw.status()).revision;
  }

  /** Crashes seen so far (unexpected replica exits). */
  crashes(): string[] {
    return this.each().flatMap((r) => r.crashes);
  }

  async describe(): Promise<string[]> {
    return Promise.all(this.each().map((r) => r.describe()));
  }

  /** Client sockets held by the replicas' fan-out workers now (0 when the replicas hold them). */
  async workerSockets(): Promise<number> {
    const all = await Promise.all(this.each().map((r) => r.status()));
    return all.reduce((n, s) => n + (s?.fanoutWorkers ?? []).reduce((m, w) => m + w.sockets, 0), 0);
  }

  async close(): Promise<void> {
    await this.cleanup.run();
  }
}
