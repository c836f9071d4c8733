/**
 * The rig every phase of the fan-out run uses: etcd seeded with the synthetic cluster, one Typha
 * child watching it, the client swarm aimed at Typha and the floor server beside it.
 *
 *   etcd (startEtcd, or --etcd URL) ◀─seed R resources
 *     │ one watch
 *   Typha child ◀── swarm: W workers × (N/W LiteClients + SyncClients)      floor server (ws, here)
 *
 * Each part is recorded in {@link RunningParts} the moment it exists, so the CLI can stop what
 * was started, by pid, however the run ends (a failure half-way through setup included).
 */
import { mkdirSync } from 'node:fs';
import { etcd } from '@cattail/datastore';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';
import { UsageError } from '../args.js';
import { FloorServer } from '../floor-server.js';
import type { MachineInfo } from '../machine.js';
import { seedCluster, type SeedResult } from '../seeder.js';
import { Swarm } from '../swarm.js';
import { TyphaProcess, type ProcStats } from '../typha-process.js';
import type { FanoutParams } from './params.js';

/** Typha's /proc figures at the phase boundaries; the run's CPU split by phase is their differences. */
export interface CpuMarks {
  ready?: ProcStats;
  storm?: ProcStats;
  churnStart?: ProcStats;
  churn?: ProcStats;
  resume?: ProcStats;
  end?: ProcStats;
}

export interface FanoutRig {
  readonly p: FanoutParams;
  readonly client: etcd.EtcdClient;
  readonly seeded: SeedResult;
  readonly typha: TyphaProcess;
  readonly readyMs: number;
  readonly swarm: Swarm;
  readonly floor: FloorServer;
  /** LiteClients plus SyncClients. */
  readonly total: number;
  readonly cpuAt: CpuMarks;
  /** What went wrong without stopping the run; the result lists it. */
  readonly errors: string[];
  readonly log: (msg: string) => void;
}

/** What has been started so far; filled by {@link startRig}, emptied by {@link stopParts}. */
export interface RunningParts {
  etcd?: EtcdServer;
  typha?: TyphaProcess;
  swarm?: Swarm;
  floor?: FloorServer;
  client?: etcd.EtcdClient;
}

/** Refuses a run the open-file limit cannot hold, before anything starts. */
export function checkFileLimit(p: FanoutParams, machine: MachineInfo): void {
  const perWorkerFds = Math.ceil((2 * p.clients) / p.workers) + p.syncClientsPerWorker + 64;
  if (machine.maxOpenFiles < perWorkerFds || machine.maxOpenFiles < p.clients + 256) {
    throw new UsageError(
      `open-file limit ${machine.maxOpenFiles} is too low for ${p.clients} clients over ${p.workers} workers ` +
        `(each worker needs ~${perWorkerFds}, this process ~${p.clients + 256}, Typha ~${p.clients + 64}): raise it with \`ulimit -n\` or add --workers`,
    );
  }
}

export async function startRig(p: FanoutParams, running: RunningParts, log: (msg: string) => void): Promise<FanoutRig> {
  const { client, endpoints, seeded } = await seededDatastore(p, running, log);
  const { typha, readyMs } = await startTypha(p, endpoints, running, log);
  const cpuAt: CpuMarks = { ready: typha.proc() };
  const { swarm, floor, total } = await startSwarm(p, typha, running, log);
  return { p, client, seeded, typha, readyMs, swarm, floor, total, cpuAt, errors: [], log };
}

async function seededDatastore(
  p: FanoutParams,
  running: RunningParts,
  log: (msg: string) => void,
): Promise<{ client: etcd.EtcdClient; endpoints: string[]; seeded: SeedResult }> {
  if (p.etcd === undefined) {
    log('starting etcd');
    running.etcd = await startEtcd();
  }
  const endpoints = p.etcd?.split(',') ?? running.etcd!.endpoints;
  const client = new etcd.EtcdClient({ endpoints });
  running.client = client;
  log(`seeding ${p.resources} resources`);
  const seeded = await seedCluster(client, { resources: p.resources, seed: p.seed, clear: p.etcd !== undefined });
  log(`seeded in ${seeded.write.ms.toFixed(0)} ms (${(seeded.write.bytes / 1e6).toFixed(1)} MB), revision ${seeded.write.revision}`);
  return { client, endpoints, seeded };
}

async function startTypha(
  p: FanoutParams,
  endpoints: string[],
  running: RunningParts,
  log: (msg: string) => void,
): Promise<{ typha: TyphaProcess; readyMs: number }> {
  if (p.typhaCpuProf) mkdirSync(p.typhaCpuProf, { recursive: true });
  if (p.swarmCpuProf) mkdirSync(p.swarmCpuProf, { recursive: true });
  const typha = await TyphaProcess.start({
    etcdEndpoints: endpoints,
    maxConnections: p.clients + p.workers * p.syncClientsPerWorker + 100,
    maxConnectionsPerSource: 0,
    batchWindowMs: p.batchWindowMs,
    cpuProfDir: p.typhaCpuProf,
    env: p.typhaEnv,
  });
  running.typha = typha;
  const readyMs = await typha.waitReady(120_000);
  log(`typha pid ${typha.pid} listening on ${typha.syncPort} (health ${typha.healthPort}, metrics ${typha.metricsPort}), ready after ${readyMs.toFixed(0)} ms`);
  return { typha, readyMs };
}

async function startSwarm(
  p: FanoutParams,
  typha: TyphaProcess,
  running: RunningParts,
  log: (msg: string) => void,
): Promise<{ swarm: Swarm; floor: FloorServer; total: number }> {
  const localAddresses = Array.from({ length: p.localAddresses }, (_, i) => `127.0.0.${i + 2}`);
  const swarm = await Swarm.start({
    workers: p.workers,
    url: typha.url,
    syncer: p.syncer,
    clients: p.clients,
    syncClientsPerWorker: p.syncClientsPerWorker,
    maxPendingConnects: p.maxPending,
    localAddresses,
    deflateSnapshot: p.deflateSnapshot,
    deltas: p.deltas,
    handshakeTimeoutMs: Math.max(30_000, p.stormTimeoutS * 1000),
    execArgv: p.swarmCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${p.swarmCpuProf}`] : [],
  });
  running.swarm = swarm;
  const floor = await FloorServer.start();
  running.floor = floor;
  const total = p.clients + p.workers * p.syncClientsPerWorker;
  log(`swarm: ${p.workers} workers (pids ${swarm.pids.join(', ')}), ${p.clients} lite + ${p.workers * p.syncClientsPerWorker} SyncClients`);
  return { swarm, floor, total };
}

/** SIGKILL, by pid, whatever still runs; synchronous (it runs on 'exit'). */
export function killParts(r: RunningParts): void {
  r.swarm?.killNow();
  r.typha?.killNow();
}

/** Stops everything started, in reverse order of dependence, and forgets it. */
export async function stopParts(r: RunningParts): Promise<void> {
  await r.swarm?.stop().catch(() => r.swarm?.killNow());
  await r.floor?.close().catch(() => undefined);
  await r.typha?.stop().catch(() => r.typha?.killNow());
  r.client?.close();
  await r.etcd?.stop().catch(() => undefined);
  delete r.swarm;
  delete r.floor;
  delete r.typha;
  delete r.client;
  delete r.etcd;
}
