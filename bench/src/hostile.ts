#!/usr/bin/env node
/**
 * The attack benchmark: what hostile clients cost Typha, and whether it gives the memory back.
 *
 *   node bench/dist/src/hostile.js [--resources 10000] [--silent 2000] [--no-hello 500]
 *     [--slowloris 200] [--non-readers 30] [--sources 1] [--hold 5] [--settle 10] [--tls] [--json]
 *     [--typha-env TYPHA_X=v ...] [--typha-node-options "..."]
 *
 *   etcd (startEtcd) ◀─ seed R resources
 *     │ one watch
 *   Typha child (node cli/bin/cattail.js typha, TYPHA_* env, ports 0)
 *     ▲ 127.0.0.1: one steady SyncClient (in sync before, during and after), one probe SyncClient
 *     │            that connects while the attack holds (time to in-sync)
 *     ▲ 127.0.0.2…: the attackers (@cattail/typha/testing AttackSwarm): silent TCP, upgraded
 *                   without hello, slowloris headers a byte a second, hello then never read
 *
 * Phases, each bounded in time:
 *   1. baseline  Typha ready, the steady client in sync; RSS sampled for --settle s (last value)
 *   2. attack    every attacker connects, the kinds interleaved (≤ 200 connects in flight); held for --hold s while
 *                the probe client syncs; peak RSS, Typha's own counts, refusals by status
 *   3. gone      every attacker socket destroyed; wait until Typha's own counts say so: its
 *                socket fds back to the baseline, /status total back to the steady client, and
 *                (where the server has them) no pending handshakes; then RSS sampled for
 *                --settle s: first, minimum and last value
 *
 * Memory comes from /proc/<pid>/status (VmRSS, VmHWM) and the heap split from Typha's own
 * Prometheus default metrics (nodejs_heap_size_*, nodejs_external_memory_bytes). Everything
 * started here (etcd, Typha) is ended by its pid on success, error and SIGINT/SIGTERM; every
 * attacker socket is destroyed.
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { etcd } from '@cattail/datastore';
import { makeTestCertificates, startEtcd, until, type EtcdServer, type TlsFiles } from '@cattail/datastore/testing';
import { SyncClient, staticDiscovery } from '@cattail/typha/client';
import { AttackSwarm, type AttackKind, type KindReport } from '@cattail/typha/testing';
import { intArg, numArg, UsageError } from './args.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { seedCluster } from './seeder.js';
import { withTimeout } from './swarm.js';
import { installSignalHandlers } from './signals.js';
import { sleep, TyphaProcess } from './typha-process.js';

const USAGE = `usage: hostile.js [--resources 10000] [--silent 2000] [--no-hello 500] [--slowloris 200] [--non-readers 30]
  [--sources 1] [--hold 5] [--settle 10] [--seed 1] [--tls] [--json] [--typha-env KEY=VALUE ...] [--typha-node-options OPTS]`;

export interface HostileParams {
  resources: number;
  attackers: Record<AttackKind, number>;
  /** Attackers come from 127.0.0.2 … 127.0.0.(1 + sources). */
  sources: number;
  holdS: number;
  settleS: number;
  seed: number;
  /** Typha with mutual TLS (test certificates); every client but the silent attackers speaks TLS. */
  tls: boolean;
  typhaEnv: Record<string, string>;
  typhaNodeOptions: string;
}

interface MemoryFigures {
  rssMB: number;
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
}

interface Settled {
  firstMB: number;
  minMB: number;
  lastMB: number;
  samples: number;
  /** Heap split at the end of the window (Typha's own metrics). */
  last: MemoryFigures;
}

export interface HostileResult {
  bench: 'typha-hostile';
  params: HostileParams;
  machine: MachineInfo;
  seeding: { resources: number; ms: number };
  baseline: Settled & { sockets: number };
  attack: {
    connectMs: number;
    peakRssMB: number;
    rssMB: number;
    heap: MemoryFigures;
    sockets: number;
    attackers: Record<AttackKind, KindReport>;
    stillOpenAtEnd: Record<AttackKind, number>;
    /** Typha's /status during the attack: every connection it counts. */
    serverTotal: number;
    probeInSyncMs: number | null;
    steadyInSync: boolean;
    metrics: Record<string, number>;
  };
  gone: Settled & { drainMs: number; sockets: number; serverTotal: number; metrics: Record<string, number> };
  /** gone.lastMB − baseline.lastMB */
  retainedMB: number;
  errors: string[];
}

function parse(argv: string[]): { params: HostileParams; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      resources: { type: 'string' },
      silent: { type: 'string' },
      'no-hello': { type: 'string' },
      slowloris: { type: 'string' },
      'non-readers': { type: 'string' },
      sources: { type: 'string' },
      hold: { type: 'string' },
      settle: { type: 'string' },
      seed: { type: 'string' },
      tls: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'typha-env': { type: 'string', multiple: true },
      'typha-node-options': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new UsageError(USAGE);
  const typhaEnv: Record<string, string> = {};
  for (const kv of values['typha-env'] ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0 || !kv.startsWith('TYPHA_')) throw new UsageError(`--typha-env wants TYPHA_NAME=value, got "${kv}"`);
    typhaEnv[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    json: values.json ?? false,
    params: {
      resources: intArg('resources', values.resources, 10_000, 100, 200_000),
      attackers: {
        silent: intArg('silent', values.silent, 2000, 0, 20_000),
        'no-hello': intArg('no-hello', values['no-hello'], 500, 0, 20_000),
        slowloris: intArg('slowloris', values.slowloris, 200, 0, 20_000),
        'non-reader': intArg('non-readers', values['non-readers'], 30, 0, 5000),
      },
      sources: intArg('sources', values.sources, 1, 1, 250),
      holdS: numArg('hold', values.hold, 5, 0, 600),
      settleS: numArg('settle', values.settle, 10, 0.5, 600),
      seed: intArg('seed', values.seed, 1, 0, 2 ** 31),
      tls: values.tls ?? false,
      typhaEnv,
      typhaNodeOptions: values['typha-node-options'] ?? '',
    },
  };
}

// ── cleanup: by pid, on every exit path ─────────────────────────────────────────────────────

const running: { etcd?: EtcdServer; typha?: TyphaProcess; client?: etcd.EtcdClient; swarm?: AttackSwarm; syncClients: SyncClient[]; certDir?: string } = {
  syncClients: [],
};

async function cleanup(): Promise<void> {
  const r = running;
  r.swarm?.end();
  for (const c of r.syncClients) await c.close().catch(() => undefined);
  await r.typha?.stop().catch(() => r.typha?.killNow());
  r.client?.close();
  await r.etcd?.stop().catch(() => undefined);
  if (r.certDir !== undefined) rmSync(r.certDir, { recursive: true, force: true });
  r.syncClients = [];
  delete r.certDir;
  delete r.swarm;
  delete r.typha;
  delete r.client;
  delete r.etcd;
}

function log(msg: string): void {
  process.stderr.write(`[hostile +${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);
}

// ── measuring Typha from outside ────────────────────────────────────────────────────────────

/** Socket file descriptors the process holds: the kernel's count of its connections (and listeners). */
function socketFds(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

const MB = 1024 * 1024;
const round = (v: number): number => Math.round(v * 10) / 10;

/** Typha's `typha_connections_*` series (with labels) and the heap split, from /metrics. */
async function serverMetrics(typha: TyphaProcess): Promise<{ series: Record<string, number>; heap: Omit<MemoryFigures, 'rssMB'> }> {
  const res = await fetch(`http://127.0.0.1:${typha.metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  const series: Record<string, number> = {};
  const all = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (!m) continue;
    all.set(m[1], Number(m[2]));
    if (m[1].startsWith('typha_connections_') && !m[1].startsWith('typha_connections_streaming') && !m[1].startsWith('typha_connections_lagging'))
      series[m[1]] = Number(m[2]);
  }
  const mb = (k: string): number => round((all.get(k) ?? NaN) / MB);
  return {
    series,
    heap: { heapUsedMB: mb('nodejs_heap_size_used_bytes'), heapTotalMB: mb('nodejs_heap_size_total_bytes'), externalMB: mb('nodejs_external_memory_bytes') },
  };
}

async function memory(typha: TyphaProcess): Promise<MemoryFigures> {
  const { heap } = await serverMetrics(typha);
  return { rssMB: round(typha.proc()?.rssMB ?? NaN), ...heap };
}

/** RSS sampled every 250 ms for `seconds`: a measurement window, not a wait for anything. */
async function settle(typha: TyphaProcess, seconds: number): Promise<Settled> {
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  for (;;) {
    samples.push(typha.proc()?.rssMB ?? NaN);
    if (performance.now() >= end) break;
    await sleep(250);
  }
  const last = await memory(typha);
  return { firstMB: round(samples[0]), minMB: round(Math.min(...samples)), lastMB: last.rssMB, samples: samples.length, last };
}

function syncClient(port: number, node: string, tls: TlsFiles | undefined): SyncClient {
  const c = new SyncClient({
    syncer: 'felix',
    node,
    discovery: staticDiscovery(`127.0.0.1:${port}`, { secure: tls !== undefined }),
    ...(tls ? { tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } } : {}),
    callbacks: { onStatus() {}, onUpdates() {} },
  });
  running.syncClients.push(c);
  c.start();
  return c;
}

// ── the run ─────────────────────────────────────────────────────────────────────────────────

export async function runHostile(p: HostileParams): Promise<HostileResult> {
  const errors: string[] = [];
  log('starting etcd');
  running.etcd = await startEtcd();
  running.client = new etcd.EtcdClient(running.etcd.clientOptions());
  const seedStart = performance.now();
  await seedCluster(running.client, { resources: p.resources, seed: p.seed });
  const seeding = { resources: p.resources, ms: Math.round(performance.now() - seedStart) };
  log(`seeded ${p.resources} resources in ${seeding.ms} ms; starting typha${p.tls ? ' with mutual TLS' : ''}`);
  let tls: TlsFiles | undefined;
  const tlsEnv: Record<string, string> = {};
  if (p.tls) {
    running.certDir = mkdtempSync(join(tmpdir(), 'hostile-tls-'));
    tls = await makeTestCertificates(running.certDir);
    // The test client certificate's CN is "root" (made for etcd); Typha accepts exactly that.
    Object.assign(tlsEnv, {
      TYPHA_CAFILE: tls.caFile,
      TYPHA_SERVERCERTFILE: tls.serverCertFile,
      TYPHA_SERVERKEYFILE: tls.serverKeyFile,
      TYPHA_CLIENTCN: 'root',
    });
  }
  const typha = await TyphaProcess.start({
    etcdEndpoints: running.etcd.endpoints,
    maxConnections: 10_000,
    env: { TYPHA_CONNECTIONREBALANCINGMODE: 'none', NODE_OPTIONS: p.typhaNodeOptions, ...tlsEnv, ...p.typhaEnv },
  });
  running.typha = typha;
  await typha.waitReady(60_000);
  const port = typha.syncPort;

  const steady = syncClient(port, 'steady', tls);
  await until(() => steady.state === 'in-sync', 'the steady client in sync', 60_000);
  log(`typha pid ${typha.pid} ready; steady client in sync; baseline for ${p.settleS} s`);
  const baseline = { ...(await settle(typha, p.settleS)), sockets: socketFds(typha.pid) };
  log(`baseline RSS ${baseline.lastMB} MB, ${baseline.sockets} sockets`);

  const sources = Array.from({ length: p.sources }, (_, i) => `127.0.0.${2 + i}`);
  const swarm = new AttackSwarm({
    host: '127.0.0.1',
    port,
    localAddresses: sources,
    ...(tls ? { tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } } : {}),
  });
  running.swarm = swarm;
  const attackStart = performance.now();
  swarm.addMix(p.attackers);
  await withTimeout(swarm.settled(), 120_000, 'the attackers did not all connect').catch((err: Error) => errors.push(err.message));
  const connectMs = Math.round(performance.now() - attackStart);
  log(`attackers connected in ${connectMs} ms: ${JSON.stringify(swarm.open())}; probe client connects`);

  const probe = syncClient(port, 'probe', tls);
  const probeStart = performance.now();
  let probeInSyncMs: number | null = null;
  try {
    await until(() => probe.state === 'in-sync', 'the probe client in sync during the attack', 60_000);
    probeInSyncMs = Math.round(performance.now() - probeStart);
  } catch (err) {
    errors.push((err as Error).message);
  }
  // The hold is the attack's duration (the buffers of the non-readers fill meanwhile), not a wait.
  const holdLeft = p.holdS * 1000 - (performance.now() - attackStart);
  if (holdLeft > 0) await sleep(holdLeft);
  const during = await serverMetrics(typha);
  const status = await typha.status();
  const proc = typha.proc();
  const attack = {
    connectMs,
    peakRssMB: round(proc?.peakRssMB ?? NaN),
    rssMB: round(proc?.rssMB ?? NaN),
    heap: { rssMB: round(proc?.rssMB ?? NaN), ...during.heap },
    sockets: socketFds(typha.pid),
    attackers: swarm.report(),
    stillOpenAtEnd: swarm.open(),
    serverTotal: Number(status.total ?? NaN),
    probeInSyncMs,
    steadyInSync: steady.state === 'in-sync',
    metrics: during.series,
  };
  log(`under attack: RSS ${attack.rssMB} MB (peak ${attack.peakRssMB}), ${attack.sockets} sockets, server counts ${attack.serverTotal} connections`);
  await probe.close();
  running.syncClients = running.syncClients.filter((c) => c !== probe);

  swarm.end();
  delete running.swarm;
  // Typha's own view: its socket fds, its /status total, its pending-handshake gauge (if any).
  const drainStart = performance.now();
  await until(
    async () => {
      if (socketFds(typha.pid) > baseline.sockets) return false;
      const s = await typha.status();
      if (s.total !== 1) return false;
      const m = await serverMetrics(typha);
      const pending = m.series.typha_connections_pending;
      return pending === undefined || pending === 0;
    },
    "typha's connections back to the steady client",
    120_000,
  );
  const drainMs = Math.round(performance.now() - drainStart);
  log(`attackers gone after ${drainMs} ms; RSS for ${p.settleS} s`);
  const goneSettled = await settle(typha, p.settleS);
  const goneMetrics = await serverMetrics(typha);
  const goneStatus = await typha.status();
  const gone = { ...goneSettled, drainMs, sockets: socketFds(typha.pid), serverTotal: Number(goneStatus.total ?? NaN), metrics: goneMetrics.series };
  if (steady.state !== 'in-sync') errors.push(`the steady client is ${steady.state} after the attack`);
  return {
    bench: 'typha-hostile',
    params: p,
    machine: machineInfo(),
    seeding,
    baseline,
    attack,
    gone,
    retainedMB: round(gone.lastMB - baseline.lastMB),
    errors,
  };
}

function printTable(r: HostileResult, out: NodeJS.WritableStream): void {
  const a = r.params.attackers;
  const refused = (k: AttackKind): string => {
    const x = r.attack.attackers[k];
    const codes = Object.entries(x.refused)
      .map(([s, n]) => `${n}×${s}`)
      .join(' ');
    return `${x.connected} connected${codes ? `, refused ${codes}` : ''}${x.closedEarly ? `, ${x.closedEarly} closed by server` : ''}`;
  };
  const rows: Array<[string, string]> = [
    [
      'attackers',
      `${a.silent} silent, ${a['no-hello']} no-hello, ${a.slowloris} slowloris, ${a['non-reader']} non-readers from ${r.params.sources} address(es)${r.params.tls ? ', TLS' : ''}`,
    ],
    ['silent', refused('silent')],
    ['no-hello', refused('no-hello')],
    ['slowloris', refused('slowloris')],
    ['non-reader', refused('non-reader')],
    [
      'RSS baseline',
      `${r.baseline.lastMB} MB (heap used ${r.baseline.last.heapUsedMB} / total ${r.baseline.last.heapTotalMB}, external ${r.baseline.last.externalMB})`,
    ],
    [
      'RSS under attack / peak',
      `${r.attack.rssMB} / ${r.attack.peakRssMB} MB (heap used ${r.attack.heap.heapUsedMB} / total ${r.attack.heap.heapTotalMB}, external ${r.attack.heap.externalMB})`,
    ],
    [
      'RSS after (first / min / last)',
      `${r.gone.firstMB} / ${r.gone.minMB} / ${r.gone.lastMB} MB (heap used ${r.gone.last.heapUsedMB} / total ${r.gone.last.heapTotalMB}, external ${r.gone.last.externalMB})`,
    ],
    ['retained', `${r.retainedMB} MB`],
    ['probe client in sync during attack', r.attack.probeInSyncMs === null ? 'no' : `${r.attack.probeInSyncMs} ms`],
    ['server sockets baseline / attack / after', `${r.baseline.sockets} / ${r.attack.sockets} / ${r.gone.sockets} (drained in ${r.gone.drainMs} ms)`],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  let text = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
  if (r.errors.length) text += `\n  errors:\n${r.errors.map((e) => `    - ${e}`).join('\n')}`;
  out.write(`${text}\n`);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  installSignalHandlers({ cleanup, killNow: () => running.typha?.killNow(), log });
  try {
    const r = await runHostile(parsed.params);
    printTable(r, process.stderr);
    if (parsed.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (r.errors.length > 0) process.exitCode = 1;
  } catch (err) {
    process.stderr.write(`hostile: ${(err as Error).stack ?? String(err)}\n`);
    if (running.typha) process.stderr.write(`typha log tail:\n${running.typha.tail}\n`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

void main();
