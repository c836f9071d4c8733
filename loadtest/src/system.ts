/**
 * The system under test: a private etcd seeded with a synthetic cluster (bench's generator and
 * seeder) and Typha as a child process (bench's TyphaProcess), or an existing Typha (--url)
 * with an optional etcd for the churn writer. Everything started here is ended by its own pid
 * in close(), also after an error.
 */
import type { Resource } from '@cattail/api';
import { generateCluster, seedCluster, TyphaProcess, type ProcStats, type TyphaStatus } from '@cattail/bench';
import { etcd } from '@cattail/datastore';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';
import type { RunOptions } from './options.js';

export interface SystemInfo {
  managed: boolean;
  typhaUrl: string;
  /** etcd the writer uses (ours when managed, --etcd otherwise); empty without one. */
  etcdEndpoints: string[];
  resources: number;
  seeded: boolean;
  seedMs: number | undefined;
  seedRevision: number | undefined;
  typhaReadyMs: number | undefined;
  typhaEnv: Record<string, string>;
}

export class SystemUnderTest {
  readonly info: SystemInfo;
  /** The cluster's WorkloadEndpoints, for the churn writer (replaced as it writes). */
  readonly weps: Resource[];
  readonly client: etcd.EtcdClient | undefined;
  readonly #etcd: EtcdServer | undefined;
  readonly #typha: TyphaProcess | undefined;

  private constructor(
    info: SystemInfo,
    weps: Resource[],
    client: etcd.EtcdClient | undefined,
    etcdServer: EtcdServer | undefined,
    typha: TyphaProcess | undefined,
  ) {
    this.info = info;
    this.weps = weps;
    this.client = client;
    this.#etcd = etcdServer;
    this.#typha = typha;
  }

  static async start(o: RunOptions, log: (msg: string) => void, extraTyphaEnv: Record<string, string> = {}): Promise<SystemUnderTest> {
    let etcdServer: EtcdServer | undefined;
    let client: etcd.EtcdClient | undefined;
    let typha: TyphaProcess | undefined;
    try {
      const managed = o.url === undefined;
      if (managed) {
        etcdServer = await startEtcd();
        client = new etcd.EtcdClient(etcdServer.clientOptions());
      } else if (o.etcd !== undefined) {
        client = new etcd.EtcdClient({ endpoints: o.etcd.split(',') });
      }
      let weps: Resource[];
      let seedMs: number | undefined;
      let seedRevision: number | undefined;
      if (client !== undefined && (managed || o.seedExternal)) {
        log(`seeding ${o.resources} resources`);
        const r = await seedCluster(client, { resources: o.resources, seed: o.seed });
        weps = r.cluster.workloadEndpoints;
        seedMs = Math.round(r.write.ms);
        seedRevision = r.write.revision;
      } else {
        weps = generateCluster({ resources: o.resources, seed: o.seed }).workloadEndpoints;
      }
      const typhaEnv = { ...extraTyphaEnv, ...o.typhaEnv };
      let typhaReadyMs: number | undefined;
      if (managed && etcdServer !== undefined) {
        log('starting typha');
        typha = await TyphaProcess.start({
          etcdEndpoints: etcdServer.endpoints,
          maxConnections: o.vus * o.sockets + o.slow + 100,
          maxConnectionsPerSource: 0,
          env: typhaEnv,
        });
        typhaReadyMs = Math.round(await typha.waitReady(120_000));
      }
      const info: SystemInfo = {
        managed,
        typhaUrl: typha?.url ?? (o.url as string),
        etcdEndpoints: etcdServer?.endpoints ?? o.etcd?.split(',') ?? [],
        resources: o.resources,
        seeded: seedMs !== undefined,
        seedMs,
        seedRevision,
        typhaReadyMs,
        typhaEnv,
      };
      return new SystemUnderTest(info, weps, client, etcdServer, typha);
    } catch (err) {
      client?.close();
      await typha?.stop(5000);
      await etcdServer?.stop();
      throw err;
    }
  }

  get typhaPid(): number | undefined {
    return this.#typha?.pid;
  }

  typhaProc(): ProcStats | undefined {
    return this.#typha?.proc();
  }

  async typhaStatus(): Promise<TyphaStatus | undefined> {
    if (this.#typha === undefined) return undefined;
    try {
      return await this.#typha.status();
    } catch {
      return undefined;
    }
  }

  async typhaMetrics(): Promise<Record<string, number> | undefined> {
    if (this.#typha === undefined) return undefined;
    try {
      return Object.fromEntries(await this.#typha.metrics());
    } catch {
      return undefined;
    }
  }

  get typhaTail(): string | undefined {
    return this.#typha?.tail;
  }

  async close(): Promise<void> {
    this.client?.close();
    await this.#typha?.stop(10_000);
    await this.#etcd?.stop();
  }
}
