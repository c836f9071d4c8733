#!/usr/bin/env node
/**
 * The Typha fan-out benchmark.
 *
 *   npm run bench:fanout -- --clients 10000 --resources 35000 --rate 50 --duration 30 --json
 *
 *   etcd (startEtcd, or --etcd URL) ◀─seed R resources (txns of 128, 8 in flight)
 *     │ one watch
 *   Typha child (node cli/bin/cattail.js typha; TYPHA_* env; ports 0 → "listening" log line)
 *     │ WebSocket, msgpack
 *   swarm: W worker processes × (N/W LiteClients + 1 SyncClient)         floor server (ws, here)
 *                                                                               │ raw ws
 *                                                       the same workers: N raw clients
 *
 * Phases, each bounded in time:
 *   1. storm      every client connects at once (≤ --max-pending upgrades in flight per worker);
 *                 inSyncAllMs = storm start → the last client's first InSync
 *   2. churn      --rate WEP label writes/s for --duration s, each stamped with its write time;
 *                 deltaLatencyMs = stamp → receipt, every update × every client;
 *                 per revision, the first and last receipt over all clients (fan-out spread)
 *   3. resume     --resume-sample clients disconnect, --resume-gap s more churn, reconnect with
 *                 their resume token; resumeBytesRatio = bytes of that session ÷ bytes of the
 *                 same client's first (full snapshot) session
 *   4. floor      a plain ws server here writes a delta-sized buffer to N raw sockets held by the
 *                 same workers; floorRatio = Typha fan-out spread ÷ floor spread (medians)
 *   5. converge   wait for every client to reach the last write's revision; compare the digest of
 *                 every client with the digest of etcd projected by Typha's projectUpdate and
 *                 with a fresh reference SyncClient's
 *
 * Typha's CPU seconds and memory come from /proc/<pid>; everything started here (etcd, Typha,
 * workers) is ended by its pid on success, error and SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { etcd } from '@cattail/datastore';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';
import { decodeValue, encodeValue, keyFor, parseKey, type Resource } from '@cattail/api';
import { PROJECTIONS, projectUpdate } from '@cattail/typha';
import { msgpackCodec, SYNCER_TYPES, type SyncerType, type Update } from '@cattail/typha/protocol';
import { intArg, numArg, UsageError } from './args.js';
import { churn, type ChurnResult } from './churn.js';
import { monoMs } from './clock.js';
import { FloorServer, type FloorMode, type FloorWrite } from './floor-server.js';
import { createHistogram, listSummary, merge, summarize, type Summary } from './histogram.js';
import type { BatchReceipt, DigestReport, FloorRound, ResumeResult, WorkerReport } from './ipc.js';
import { machineInfo, tcpCounters, type MachineInfo, type TcpCounters } from './machine.js';
import { datastoreDigest, referenceDigest } from './reference.js';
import { printTable, senderFloor } from './report.js';
import { seedCluster } from './seeder.js';
import { split, Swarm, withTimeout } from './swarm.js';
import { installSignalHandlers } from './signals.js';
import { sleep, TyphaProcess, type ProcStats } from './typha-process.js';

const USAGE = `usage: fanout.js [--clients 1000] [--resources 35000] [--rate 50] [--duration 30] [--syncer felix]
  [--workers W] [--seed 1] [--etcd URL] [--json] [--sync-clients 1] [--resume-sample K] [--resume-gap 10]
  [--floor-rounds 30] [--storm-timeout 300] [--max-pending 500] [--local-addresses 0] [--batch-window-ms MS]
  [--deflate-snapshot] [--typha-cpu-prof DIR] [--swarm-cpu-prof DIR] [--typha-env KEY=VALUE ...]`;

export interface FanoutParams {
  clients: number;
  resources: number;
  rate: number;
  durationS: number;
  syncer: SyncerType;
  workers: number;
  seed: number;
  etcd: string | undefined;
  syncClientsPerWorker: number;
  resumeSample: number;
  resumeGapS: number;
  floorRounds: number;
  stormTimeoutS: number;
  maxPending: number;
  localAddresses: number;
  batchWindowMs: number | undefined;
  /** LiteClients offer `deflate-snapshot` (snapshot pages compressed once per revision). */
  deflateSnapshot: boolean;
  typhaCpuProf: string | undefined;
  swarmCpuProf: string | undefined;
  typhaEnv: Record<string, string>;
}

function parse(argv: string[]): { params: FanoutParams; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string' },
      resources: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      syncer: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      etcd: { type: 'string' },
      json: { type: 'boolean', default: false },
      'sync-clients': { type: 'string' },
      'resume-sample': { type: 'string' },
      'resume-gap': { type: 'string' },
      'floor-rounds': { type: 'string' },
      'storm-timeout': { type: 'string' },
      'max-pending': { type: 'string' },
      'local-addresses': { type: 'string' },
      'batch-window-ms': { type: 'string' },
      'deflate-snapshot': { type: 'boolean', default: false },
      'typha-cpu-prof': { type: 'string' },
      'swarm-cpu-prof': { type: 'string' },
      'typha-env': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const clients = intArg('clients', values.clients, 1000, 1, 100_000);
  const syncer = (values.syncer ?? 'felix') as SyncerType;
  if (!(SYNCER_TYPES as readonly string[]).includes(syncer)) throw new UsageError(`--syncer must be one of ${SYNCER_TYPES.join(', ')}`);
  const typhaEnv: Record<string, string> = {};
  for (const kv of values['typha-env'] ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || !kv.startsWith('TYPHA_')) throw new UsageError(`--typha-env takes TYPHA_NAME=value, got "${kv}"`);
    typhaEnv[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const params: FanoutParams = {
    clients,
    resources: intArg('resources', values.resources, 35_000, 16, 2_000_000),
    rate: numArg('rate', values.rate, 50, 0.1, 10_000),
    durationS: numArg('duration', values.duration, 30, 1, 3600),
    syncer,
    workers: intArg('workers', values.workers, clients <= 1500 ? 1 : clients <= 6000 ? 2 : 3, 1, 16),
    seed: intArg('seed', values.seed, 1, 0, 0xffff_ffff),
    etcd: values.etcd,
    syncClientsPerWorker: intArg('sync-clients', values['sync-clients'], 1, 0, 50),
    resumeSample: intArg('resume-sample', values['resume-sample'], Math.min(100, Math.max(1, Math.round(clients / 100))), 0, clients),
    resumeGapS: numArg('resume-gap', values['resume-gap'], 10, 0, 600),
    floorRounds: intArg('floor-rounds', values['floor-rounds'], 30, 0, 1000),
    stormTimeoutS: numArg('storm-timeout', values['storm-timeout'], 300, 1, 3600),
    maxPending: intArg('max-pending', values['max-pending'], 500, 1, 100_000),
    localAddresses: intArg('local-addresses', values['local-addresses'], clients > 25_000 ? Math.ceil(clients / 20_000) : 0, 0, 250),
    batchWindowMs: values['batch-window-ms'] === undefined ? undefined : intArg('batch-window-ms', values['batch-window-ms'], 10, 0, 1000),
    deflateSnapshot: values['deflate-snapshot'],
    typhaCpuProf: values['typha-cpu-prof'],
    swarmCpuProf: values['swarm-cpu-prof'],
    typhaEnv,
  };
  return { params, json: values.json };
}

// ── cleanup: by pid, on every exit path ─────────────────────────────────────────────────────

const running: { etcd?: EtcdServer; typha?: TyphaProcess; swarm?: Swarm; floor?: FloorServer; client?: etcd.EtcdClient } = {};

function killNow(): void {
  running.swarm?.killNow();
  running.typha?.killNow();
}

async function cleanup(): Promise<void> {
  const r = running;
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

let quiet = false;
function log(msg: string): void {
  if (!quiet || process.env.BENCH_VERBOSE) process.stderr.write(`[fanout +${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────

export interface FanoutResult {
  bench: 'typha-fanout';
  params: FanoutParams;
  machine: MachineInfo;
  seeding: { resources: number; mix: Record<string, number>; etcdBytes: number; ms: number; revision: number };
  typha: { pid: number; readyMs: number; felixKeys?: number };
  inSyncAllMs: number | null;
  inSync: {
    clients: number;
    inSync: number;
    ms: Summary;
    unexpectedCloses: number;
    closeReasons: Record<string, number>;
    /** System-wide TcpExt counters (/proc/net/netstat) over the storm: accept-queue overflows etc. */
    tcp: TcpCounters;
    /** In-sync times of the real SyncClients (ms after storm start). */
    syncClientMs: number[];
    slowest: WorkerReport['slowest'];
  };
  snapshotBytesPerClient: number;
  churn: ChurnResult;
  deltaLatencyMs: Summary;
  deltaDelivery: { churnWrites: number; perClientMin: number; perClientMean: number; lateClients: number };
  fanout: { batches: number; completeBatches: number; spreadMs: Summary; endToEndMs: Summary; payloadBytes: Summary };
  floor: {
    payloadBytes: number;
    rounds: number;
    modes: Record<FloorMode, { writeLoopMs: Summary; writeCpuMs?: Summary; spreadMs: Summary; totalMs: Summary }>;
    best: FloorMode | null;
  };
  floorRatio: number | null;
  floorRatioEndToEnd: number | null;
  /** Sender side: Typha CPU µs per client write in the churn phase vs the floor's write loop µs per socket. */
  floorSender: { typhaUs: number; floorUs: number; ratio: number } | null;
  resume: {
    sample: number;
    gapChurn: ChurnResult | null;
    modes: Record<string, number>;
    resumeBytes: Summary;
    snapshotBytes: Summary;
    ratio: Summary;
    /** Bytes of one Deltas frame holding the latest value of every key changed in the gap. */
    idealBytes: number;
    idealRatio: number | null;
    ms: Summary;
    latencyMs: Summary;
  };
  resumeBytesRatio: number | null;
  typhaCpuSeconds: number;
  typhaCpuByPhase: Record<string, number>;
  typhaRssMB: number;
  typhaPeakRssMB: number;
  bytesSent: number;
  bytesSentSource: string;
  updatesSkipped: number | null;
  typhaMetrics: Record<string, number>;
  converged: boolean;
  convergence: {
    method: string;
    expected: { digest: string; revision: number; keys: number; projected: number; invalid: number } | null;
    reference: { digest: string; revision: number; keys: number; inSyncMs: number } | null;
    clientDigests: Record<string, number>;
    clientsAtRevision: boolean;
    targetRevision: number;
  };
  swarm: { workers: number; pids: number[]; cpuSeconds: number; cpuUserSeconds: number; maxRssMB: number; frameDecodes: number; frameHits: number };
  targets: Record<string, { target: string; value: number | null; met: boolean | null }>;
  errors: string[];
}

async function run(p: FanoutParams): Promise<FanoutResult> {
  const errors: string[] = [];
  const machine = machineInfo();
  const perWorkerFds = Math.ceil((2 * p.clients) / p.workers) + p.syncClientsPerWorker + 64;
  if (machine.maxOpenFiles < perWorkerFds || machine.maxOpenFiles < p.clients + 256) {
    throw new UsageError(
      `open-file limit ${machine.maxOpenFiles} is too low for ${p.clients} clients over ${p.workers} workers ` +
        `(each worker needs ~${perWorkerFds}, this process ~${p.clients + 256}, Typha ~${p.clients + 64}): raise it with \`ulimit -n\` or add --workers`,
    );
  }

  // 1. etcd + seed
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

  // 2. Typha
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
  const cpuAt: Record<string, ProcStats | undefined> = { ready: typha.proc() };

  // 3. swarm + floor server
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
    handshakeTimeoutMs: Math.max(30_000, p.stormTimeoutS * 1000),
    execArgv: p.swarmCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${p.swarmCpuProf}`] : [],
  });
  running.swarm = swarm;
  const floor = await FloorServer.start();
  running.floor = floor;
  const total = p.clients + p.workers * p.syncClientsPerWorker;
  log(`swarm: ${p.workers} workers (pids ${swarm.pids.join(', ')}), ${p.clients} lite + ${p.workers * p.syncClientsPerWorker} SyncClients`);

  // ── phase 1: the cold connect storm
  const tcpBefore = tcpCounters();
  const t0 = monoMs();
  await swarm.all({ type: 'storm', t0 }, 10_000);
  const stormDeadline = t0 + p.stormTimeoutS * 1000;
  let lastLog = 0;
  for (;;) {
    await sleep(250);
    const pr = swarm.progress();
    const now = monoMs();
    if (now - lastLog > 5000) {
      lastLog = now;
      log(`storm: ${pr.opened} open, ${pr.inSync}/${total} in sync, ${pr.pendingConnects} connecting, ${pr.unexpectedCloses} unexpected closes`);
    }
    if (pr.inSync >= total || now > stormDeadline) break;
  }
  const stormReports = await swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  const inSyncTimes = stormReports.flatMap((r) => [...r.inSyncMs]);
  const synced = inSyncTimes.filter((v) => !Number.isNaN(v));
  const inSyncAllMs = synced.length === total ? Math.max(...synced) : null;
  if (inSyncAllMs === null) errors.push(`storm: only ${synced.length}/${total} clients in sync within ${p.stormTimeoutS} s`);
  log(`storm: ${synced.length}/${total} in sync; last at ${inSyncAllMs === null ? 'n/a' : `${inSyncAllMs.toFixed(0)} ms`}`);
  cpuAt.storm = typha.proc();
  const tcpStorm = diffCounters(tcpBefore, tcpCounters());
  await sleep(1000);

  // ── phase 2: churn at --rate for --duration
  await swarm.all({ type: 'phase', phase: 'churn' }, 10_000);
  cpuAt.churnStart = typha.proc();
  const weps = seeded.cluster.workloadEndpoints;
  log(`churn: ${p.rate}/s for ${p.durationS} s`);
  const churned = await churn({ client, weps, rate: p.rate, durationMs: p.durationS * 1000, seed: p.seed ^ 0x5eed });
  // Syncers without WorkloadEndpoints (bgp, ipam, status) never see the churn: nothing to wait for.
  const seesChurn = PROJECTIONS[p.syncer].has('WorkloadEndpoint');
  if (!seesChurn) errors.push(`churn: the ${p.syncer} syncer does not carry WorkloadEndpoints; no delta latency, fan-out or resume figures`);
  const drained = seesChurn
    ? await swarm.all<{ reached: boolean; minRevision: number }>({ type: 'wait-revision', revision: churned.lastRevision, timeoutMs: 30_000 }, 40_000)
    : [];
  if (!drained.every((d) => d.reached)) errors.push(`churn: not every client reached revision ${churned.lastRevision} within 30 s of the last write`);
  cpuAt.churn = typha.proc();
  await swarm.all({ type: 'phase', phase: 'idle' }, 10_000);
  log(`churn: ${churned.writes} writes (${churned.achievedRate.toFixed(1)}/s, ${churned.errors} errors, ${churned.lateWrites} late)`);

  // ── phase 3: resume after a gap
  let gapChurn: ChurnResult | null = null;
  const gapTouched = new Set<number>();
  let resumeResults: ResumeResult[] = [];
  if (p.resumeSample > 0 && seesChurn) {
    await swarm.all({ type: 'phase', phase: 'resume' }, 10_000);
    const parked = await swarm.each<number>((w) => ({ type: 'disconnect', count: split(p.resumeSample, p.workers)[w] }), 10_000);
    log(`resume: ${parked.reduce((a, b) => a + b, 0)} clients parked; ${p.resumeGapS} s of churn`);
    gapChurn = await churn({ client, weps, rate: p.rate, durationMs: p.resumeGapS * 1000, seed: p.seed ^ 0x7e57, touched: gapTouched });
    resumeResults = (await swarm.all<ResumeResult[]>({ type: 'reconnect', timeoutMs: 60_000 }, 70_000)).flat();
    const drainedGap = await swarm.all<{ reached: boolean }>({ type: 'wait-revision', revision: gapChurn.lastRevision, timeoutMs: 30_000 }, 40_000);
    if (!drainedGap.every((d) => d.reached)) errors.push(`resume: not every client reached revision ${gapChurn.lastRevision}`);
    await swarm.all({ type: 'phase', phase: 'idle' }, 10_000);
    cpuAt.resume = typha.proc();
  }

  // ── phase 4: the floor
  const midReports = await swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  const batches = mergeBatches(midReports.flatMap((r) => r.batches));
  const liteLive = p.clients;
  const complete = batches.filter((b) => b.clients >= liteLive);
  const payloadSizes = batches.map((b) => b.bytes);
  const floorPayload = Math.max(16, Math.round(listSummary(payloadSizes).p50 || 512));
  const floorWrites: FloorWrite[] = [];
  if (p.floorRounds > 0) {
    const opened = (await swarm.all<number>({ type: 'floor-connect', url: floor.url, timeoutMs: 120_000 }, 130_000)).reduce((a, b) => a + b, 0);
    await waitFor(() => floor.connections >= opened, 10_000);
    log(`floor: ${floor.connections} raw sockets; ${p.floorRounds} rounds × 2 modes of ${floorPayload} bytes`);
    const spacing = Math.max(50, Math.ceil(p.clients / 20));
    let round = 0;
    for (const mode of ['ws-send', 'raw-write'] as const) {
      for (let i = 0; i < p.floorRounds; i++) {
        floorWrites.push(floor.round(round++, floorPayload, mode));
        await sleep(spacing);
      }
    }
    await sleep(500);
  }
  const floorReports = await swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  await swarm.all({ type: 'floor-close' }, 10_000);
  const floorRounds = mergeFloor(floorReports.flatMap((r) => r.floor));

  // ── phase 5: convergence
  const targetRevision = seesChurn ? Math.max(churned.lastRevision, gapChurn?.lastRevision ?? 0, seeded.write.revision) : 0;
  const atRevision = await swarm.all<{ reached: boolean; minRevision: number }>({ type: 'wait-revision', revision: targetRevision, timeoutMs: 30_000 }, 40_000);
  const digests = await swarm.all<DigestReport>({ type: 'digest' }, 120_000);
  const clientDigests: Record<string, number> = {};
  for (const d of digests) for (const [k, v] of Object.entries(d.digests)) clientDigests[k] = (clientDigests[k] ?? 0) + v;
  let expected: FanoutResult['convergence']['expected'] = null;
  let reference: FanoutResult['convergence']['reference'] = null;
  try {
    expected = await datastoreDigest(client, p.syncer);
  } catch (err) {
    errors.push(`datastore digest: ${(err as Error).message}`);
  }
  try {
    reference = await referenceDigest(`127.0.0.1:${typha.syncPort}`, p.syncer, targetRevision, 120_000);
  } catch (err) {
    errors.push(`reference client: ${(err as Error).message}`);
  }
  const distinct = Object.keys(clientDigests);
  const converged =
    distinct.length === 1 &&
    Object.values(clientDigests)[0] === total &&
    expected !== null &&
    reference !== null &&
    distinct[0] === expected.digest &&
    reference.digest === expected.digest;
  log(`converged: ${converged} (${distinct.length} distinct client digest(s); expected ${expected?.digest}; reference ${reference?.digest})`);

  // ── costs and metrics
  const end = typha.proc();
  cpuAt.end = end;
  let metrics = new Map<string, number>();
  try {
    metrics = await typha.metrics();
  } catch (err) {
    errors.push(`metrics: ${(err as Error).message}`);
  }
  const finalReports = await swarm.all<WorkerReport>({ type: 'report' }, 60_000);

  // ── numbers
  const lat = createHistogram();
  const resumeLat = createHistogram();
  for (const r of finalReports) {
    merge(lat, r.latency.churn);
    merge(resumeLat, r.latency.resume);
  }
  const spreads = complete.map((b) => b.last - b.first);
  const e2e = complete.map((b) => b.last - b.minStamp);
  const floorModes = {} as FanoutResult['floor']['modes'];
  for (const mode of ['ws-send', 'raw-write'] as const) {
    const writes = floorWrites.filter((w) => w.mode === mode);
    const rounds = writes.map((w) => ({ w, r: floorRounds.get(w.round) })).filter((x) => x.r !== undefined && x.r.clients >= liteLive);
    floorModes[mode] = {
      writeLoopMs: listSummary(writes.map((w) => w.lastWrite - w.firstWrite)),
      writeCpuMs: listSummary(writes.map((w) => w.cpuMs)),
      spreadMs: listSummary(rounds.map((x) => x.r!.last - x.r!.first)),
      totalMs: listSummary(rounds.map((x) => x.r!.last - x.w.firstWrite)),
    };
  }
  const best = (['ws-send', 'raw-write'] as const)
    .filter((m) => floorModes[m].spreadMs.count > 0)
    .sort((a, b) => floorModes[a].spreadMs.p50 - floorModes[b].spreadMs.p50)[0];
  const spreadSummary = listSummary(spreads);
  const e2eSummary = listSummary(e2e);
  const floorRatio = best && spreadSummary.count ? spreadSummary.p50 / floorModes[best].spreadMs.p50 : null;
  const floorRatioEndToEnd = best && e2eSummary.count ? e2eSummary.p50 / floorModes[best].totalMs.p50 : null;

  const ratios = resumeResults.filter((r) => r.ok && r.snapshotBytes > 0).map((r) => r.resumeBytes / r.snapshotBytes);
  const modes: Record<string, number> = {};
  for (const r of resumeResults) modes[r.ok ? (r.mode ?? 'unknown') : 'not-in-sync'] = (modes[r.ok ? (r.mode ?? 'unknown') : 'not-in-sync'] ?? 0) + 1;
  const felixKeys = expected?.projected;
  // The least a resume can send: one Deltas frame with the latest value of every changed key.
  const idealBytes = gapChurn ? idealResumeBytes(p.syncer, [...gapTouched].map((i) => weps[i]), gapChurn.lastRevision) : 0;
  const snapshotMedian = listSummary(resumeResults.map((r) => r.snapshotBytes)).p50;
  const idealRatio = gapChurn && snapshotMedian > 0 ? idealBytes / snapshotMedian : null;

  const liteClients = finalReports.reduce((a, r) => a + r.clients, 0);
  const bytesSent = finalReports.reduce((a, r) => a + r.bytes.total, 0);
  const snapshotBytes = finalReports.reduce((a, r) => a + r.bytes.snapshotSum, 0) / Math.max(1, liteClients);
  const closeReasons: Record<string, number> = {};
  for (const r of finalReports) for (const [k, v] of Object.entries(r.closeReasons)) closeReasons[k] = (closeReasons[k] ?? 0) + v;

  const cpu = (a?: ProcStats, b?: ProcStats): number => (a && b ? round(b.cpuSeconds - a.cpuSeconds, 2) : NaN);
  const deltaLatencyMs = summarize(lat);
  const typhaCpuSeconds = end?.cpuSeconds ?? NaN;
  const peak = end?.peakRssMB ?? NaN;
  const resumeRatio = ratios.length ? listSummary(ratios).p50 : null;

  const result: FanoutResult = {
    bench: 'typha-fanout',
    params: p,
    machine,
    seeding: { resources: seeded.write.count, mix: { ...seeded.cluster.mix }, etcdBytes: seeded.write.bytes, ms: round(seeded.write.ms, 0), revision: seeded.write.revision },
    typha: { pid: typha.pid, readyMs: round(readyMs, 0), felixKeys },
    inSyncAllMs: inSyncAllMs === null ? null : round(inSyncAllMs, 0),
    inSync: {
      clients: total,
      inSync: synced.length,
      ms: roundSummary(listSummary(synced)),
      unexpectedCloses: finalReports.reduce((a, r) => a + r.unexpectedCloses, 0),
      closeReasons,
      tcp: tcpStorm,
      syncClientMs: stormReports.flatMap((r) => [...r.inSyncMs.subarray(r.clients)].map((v) => round(v, 0))),
      slowest: stormReports
        .flatMap((r) => r.slowest)
        .sort((a, b) => (Number.isNaN(b.ms) ? Infinity : b.ms) - (Number.isNaN(a.ms) ? Infinity : a.ms))
        .slice(0, 5)
        .map((x) => ({ ...x, ms: round(x.ms, 0) })),
    },
    snapshotBytesPerClient: Math.round(snapshotBytes),
    churn: churned,
    deltaLatencyMs: roundSummary(deltaLatencyMs),
    deltaDelivery: {
      churnWrites: churned.writes,
      perClientMin: Math.min(...finalReports.map((r) => r.churnReceipts.min)),
      perClientMean: round(finalReports.reduce((a, r) => a + r.churnReceipts.sum, 0) / Math.max(1, liteClients), 1),
      lateClients: drained.filter((d) => !d.reached).length,
    },
    fanout: {
      batches: batches.length,
      completeBatches: complete.length,
      spreadMs: roundSummary(spreadSummary),
      endToEndMs: roundSummary(e2eSummary),
      payloadBytes: roundSummary(listSummary(payloadSizes)),
    },
    floor: { payloadBytes: floorPayload, rounds: p.floorRounds, modes: roundModes(floorModes), best: best ?? null },
    floorRatio: floorRatio === null ? null : round(floorRatio, 2),
    floorRatioEndToEnd: floorRatioEndToEnd === null ? null : round(floorRatioEndToEnd, 2),
    floorSender: null,
    resume: {
      sample: resumeResults.length,
      gapChurn,
      modes,
      resumeBytes: roundSummary(listSummary(resumeResults.filter((r) => r.ok).map((r) => r.resumeBytes))),
      snapshotBytes: roundSummary(listSummary(resumeResults.map((r) => r.snapshotBytes))),
      ratio: roundSummary(listSummary(ratios), 4),
      idealBytes,
      idealRatio: idealRatio === null ? null : round(idealRatio, 4),
      ms: roundSummary(listSummary(resumeResults.filter((r) => r.ok).map((r) => r.ms))),
      latencyMs: roundSummary(summarize(resumeLat)),
    },
    resumeBytesRatio: resumeRatio === null ? null : round(resumeRatio, 4),
    typhaCpuSeconds: round(typhaCpuSeconds, 2),
    typhaCpuByPhase: {
      startup: cpuAt.ready?.cpuSeconds ?? NaN,
      storm: cpu(cpuAt.ready, cpuAt.storm),
      churn: cpu(cpuAt.churnStart, cpuAt.churn),
      resume: cpu(cpuAt.churn, cpuAt.resume),
      floorAndConvergence: cpu(cpuAt.resume ?? cpuAt.churn, cpuAt.end),
    },
    typhaRssMB: round(end?.rssMB ?? NaN, 0),
    typhaPeakRssMB: round(peak, 0),
    bytesSent,
    bytesSentSource: 'sum of WebSocket message bytes (payload + frame header) received by the LiteClients over the whole run (SyncClients and the floor not included)',
    updatesSkipped: metrics.get('typha_updates_skipped') ?? null,
    typhaMetrics: Object.fromEntries(
      [...metrics].filter(([k]) => /^typha_(connections_active|connections_accepted|connections_dropped|updates_total|updates_skipped|snapshots_generated|snapshots_reused|connections_synced|connections_rejected)$/.test(k)),
    ),
    converged,
    convergence: {
      method:
        "every client's digest (LiteClients: from their own state arrays; SyncClients: from snapshot()) must equal the digest of etcd listed at the end and projected with Typha's projectUpdate, and a fresh reference SyncClient's",
      expected,
      reference,
      clientDigests,
      clientsAtRevision: atRevision.every((d) => d.reached),
      targetRevision,
    },
    swarm: {
      workers: p.workers,
      pids: swarm.pids,
      cpuSeconds: round(finalReports.reduce((a, r) => a + r.cpuUserMs + r.cpuSystemMs, 0) / 1000, 1),
      cpuUserSeconds: round(finalReports.reduce((a, r) => a + r.cpuUserMs, 0) / 1000, 1),
      maxRssMB: round(Math.max(...finalReports.map((r) => r.rssMB)), 0),
      frameDecodes: finalReports.reduce((a, r) => a + r.frames.decoded, 0),
      frameHits: finalReports.reduce((a, r) => a + r.frames.hits + r.frames.streamHits, 0),
    },
    targets: {},
    errors,
  };
  result.floorSender = senderFloor(result);
  result.targets = {
    inSyncAll: { target: '≤ 30000 ms (10,000 clients, cold storm)', value: result.inSyncAllMs, met: result.inSyncAllMs === null ? false : result.inSyncAllMs <= 30_000 },
    deltaP99: { target: '≤ 250 ms at 50 updates/s', value: result.deltaLatencyMs.p99, met: Number.isFinite(result.deltaLatencyMs.p99) ? result.deltaLatencyMs.p99 <= 250 : null },
    typhaRss: { target: '≤ 1024 MB (peak, VmHWM)', value: result.typhaPeakRssMB, met: Number.isFinite(peak) ? peak <= 1024 : null },
    floorRatio: { target: '≤ 1.5', value: result.floorRatio, met: result.floorRatio === null ? null : result.floorRatio <= 1.5 },
    resumeBytesRatio: { target: '≤ 0.01 after a 10 s gap', value: result.resumeBytesRatio, met: result.resumeBytesRatio === null ? null : result.resumeBytesRatio <= 0.01 },
    converged: { target: 'true', value: converged ? 1 : 0, met: converged },
  };
  return result;
}

function idealResumeBytes(syncer: SyncerType, changed: Resource[], revision: number): number {
  const updates: Update[] = [];
  for (const r of changed) {
    const key = keyFor(r);
    const parsed = parseKey(key);
    if (!parsed) continue;
    const u = projectUpdate(syncer, { key, kind: parsed.kind.kind, name: parsed.name, namespace: parsed.namespace, revision, resource: decodeValue(key, encodeValue(r), revision) });
    if (u) updates.push(u);
  }
  const n = msgpackCodec.encode({ type: 'deltas', revision, updates }).length;
  return n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
}

function diffCounters(a: TcpCounters, b: TcpCounters): TcpCounters {
  const out: TcpCounters = {};
  for (const k of Object.keys(b)) out[k] = b[k] - (a[k] ?? 0);
  return out;
}

function mergeBatches(list: BatchReceipt[]): BatchReceipt[] {
  const by = new Map<number, BatchReceipt>();
  for (const b of list) {
    const cur = by.get(b.revision);
    if (cur === undefined) by.set(b.revision, { ...b });
    else {
      cur.first = Math.min(cur.first, b.first);
      cur.last = Math.max(cur.last, b.last);
      cur.clients += b.clients;
      cur.minStamp = Math.min(cur.minStamp, b.minStamp);
    }
  }
  return [...by.values()].sort((a, b) => a.revision - b.revision);
}

function mergeFloor(list: FloorRound[]): Map<number, FloorRound> {
  const by = new Map<number, FloorRound>();
  for (const r of list) {
    const cur = by.get(r.round);
    if (cur === undefined) by.set(r.round, { ...r });
    else {
      cur.first = Math.min(cur.first, r.first);
      cur.last = Math.max(cur.last, r.last);
      cur.clients += r.clients;
    }
  }
  return by;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = monoMs() + timeoutMs;
  while (!cond() && monoMs() < deadline) await sleep(20);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function roundSummary(s: Summary, digits = 1): Summary {
  return {
    count: s.count,
    mean: round(s.mean, digits),
    min: round(s.min, digits),
    p50: round(s.p50, digits),
    p90: round(s.p90, digits),
    p99: round(s.p99, digits),
    max: round(s.max, digits),
  };
}

function roundModes(m: FanoutResult['floor']['modes']): FanoutResult['floor']['modes'] {
  const out = {} as FanoutResult['floor']['modes'];
  for (const [k, v] of Object.entries(m) as Array<[FloorMode, FanoutResult['floor']['modes'][FloorMode]]>) {
    out[k] = { writeLoopMs: roundSummary(v.writeLoopMs, 2), spreadMs: roundSummary(v.spreadMs, 2), totalMs: roundSummary(v.totalMs, 2) };
    if (v.writeCpuMs) out[k].writeCpuMs = roundSummary(v.writeCpuMs, 2);
  }
  return out;
}

async function main(): Promise<number> {
  const { params, json } = parse(process.argv.slice(2));
  quiet = false;
  installSignalHandlers({ cleanup, killNow, log });
  let result: FanoutResult;
  try {
    result = await withTimeout(run(params), (params.stormTimeoutS + params.durationS + params.resumeGapS) * 1000 + 15 * 60_000, 'the whole benchmark did not finish');
  } finally {
    await cleanup();
  }
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  printTable(result, json ? process.stderr : process.stdout);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fanout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
