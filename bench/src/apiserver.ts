#!/usr/bin/env node
/**
 * The seed's headline claim, measured on a real kube-apiserver: N Felix-like agents watching the
 * API server directly, against the same N agents behind 2 Typha replicas.
 *
 *   npm run bench:apiserver -- --agents 100,500,1000 --pods 500 --rate 20 --duration 30 --json
 *
 * For each N and each mode, on a fresh kube-apiserver (its own etcd, Calico's CRDs, --pods pods
 * with IPs on 20 nodes, a few Calico and Kubernetes policies):
 *
 *   direct  agent workers: per agent one HTTP/2 connection with a list + watch of every
 *           collection Typha's felix syncer carries (apiserver-agents.ts)
 *   typha   2 Typha processes (TYPHA_DATASTORETYPE=kubernetes, one list+watch per collection
 *           each) and per agent one SyncClient of the felix syncer
 *
 *   none    no agents: the baseline, what the writes themselves cost the API server
 *
 * Phases: sync (agents start until all are synced), then churn (--rate pod label patches per
 * second for --duration s, then 2 s to drain). Figures per run: the API server's CPU seconds in
 * each phase and its RSS (from /proc/<pid>), its open watches
 * (`apiserver_longrunning_requests{verb="WATCH"}` from its /metrics, the server's own included),
 * the events the agents received during the churn, and in typha mode the replicas' CPU. The
 * headline is the API server's churn CPU spent on the watchers, i.e. above the baseline's,
 * direct ÷ typha. Every process started here is ended by its pid.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'node:https';
import { kdd } from '@cattail/datastore';
import { applyCalicoCrds, startKubeApiServer, type KubeApiServer } from '@cattail/datastore/testing';
import { intArg, UsageError } from './args.js';
import { machineInfo } from './machine.js';
import { installSignalHandlers } from './signals.js';
import { procStats, TyphaProcess } from './typha-process.js';
import type { AgentsConfig } from './apiserver-agents.js';

const WORKER = fileURLToPath(new URL('./apiserver-agents.js', import.meta.url));
const NODES = 20;
/** Every process this run started (the API server, its etcd, Typhas, agent workers), for a hard stop. */
const PIDS = new Set<number>();

interface Params {
  agents: number[];
  pods: number;
  rate: number;
  duration: number;
  workers: number;
  json: boolean;
}

type Mode = 'direct' | 'typha' | 'none';

interface RunResult {
  agents: number;
  mode: Mode;
  syncSeconds: number;
  apiserverCpuSecondsSync: number;
  apiserverCpuSecondsChurn: number;
  apiserverRssMB: number;
  apiserverWatches: number;
  eventsReceived: number;
  typhaCpuSecondsChurn?: number;
}

function parseArgs(argv: string[]): Params {
  const get = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return argv[i].includes('=') ? argv[i].slice(argv[i].indexOf('=') + 1) : argv[i + 1];
  };
  const agents = (get('agents') ?? '100').split(',').map((a) => intArg('agents', a, 100, 1, 5000));
  if (agents.length === 0) throw new UsageError('--agents needs at least one count');
  return {
    agents,
    pods: intArg('pods', get('pods'), 500, 1, 20000),
    rate: intArg('rate', get('rate'), 20, 1, 1000),
    duration: intArg('duration', get('duration'), 30, 1, 3600),
    workers: intArg('workers', get('workers'), 4, 1, 64),
    json: argv.includes('--json'),
  };
}

function cpuSeconds(pid: number): number {
  return procStats(pid)?.cpuSeconds ?? NaN;
}

/** Open WATCH requests, from the API server's own metrics. */
function watchCount(kube: KubeApiServer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${kube.url}/metrics`, { ca: kube.ca, cert: kube.clientCert, key: kube.clientKey }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let n = 0;
        for (const line of text.split('\n')) {
          if (line.startsWith('apiserver_longrunning_requests{') && line.includes('verb="WATCH"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
        resolve(n);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function seed(kube: KubeApiServer, ds: kdd.KubeDatastore, pods: number): Promise<void> {
  await applyCalicoCrds(kube);
  await kube.ensureNamespace('bench');
  const items: object[] = [];
  for (let n = 0; n < NODES; n++) items.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}` } });
  for (let i = 0; i < pods; i++) {
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `p${i}`,
        namespace: 'bench',
        labels: { app: `a${i % 10}` },
        annotations: { 'cni.projectcalico.org/podIP': `10.70.${i >> 8}.${i & 255}/32` },
      },
      spec: { nodeName: `node-${i % NODES}`, containers: [{ name: 'c', image: 'none' }] },
    });
  }
  items.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'a0-only', namespace: 'bench' },
    spec: { podSelector: { matchLabels: { app: 'a0' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a1' } } }] }] },
  });
  for (let i = 0; i < items.length; i += 200)
    await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.slice(i, i + 200) }) });
  await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: '10.70.0.0/16', blockSize: 26 } });
  await ds.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'bench-deny' },
    spec: { selector: "app == 'a2'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'ICMP' }, { action: 'Allow' }] },
  });
}

/** Starts the agent workers; resolves once every agent is synced. */
function startAgents(cfg: Omit<AgentsConfig, 'count'>, total: number, workers: number, children: ChildProcess[], events: number[]): Promise<void> {
  let synced = 0;
  const n = Math.min(workers, total);
  return new Promise((resolve, reject) => {
    for (let w = 0; w < n; w++) {
      const count = Math.floor(total / n) + (w < total % n ? 1 : 0);
      const child = fork(WORKER, [JSON.stringify({ ...cfg, count })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      if (child.pid !== undefined) PIDS.add(child.pid);
      events.push(0);
      child.on('message', (m: { type: string; agents?: number; events?: number; message?: string }) => {
        if (m.type === 'synced') {
          synced += m.agents ?? 0;
          if (synced === total) resolve();
        } else if (m.type === 'events') events[w] = m.events ?? 0;
        else if (m.type === 'error') reject(new Error(`agent worker: ${m.message}`));
      });
      child.on('exit', (code) => {
        if (synced < total) reject(new Error(`an agent worker exited (${code}) before every agent was synced`));
      });
    }
  });
}

async function churn(ds: kdd.KubeDatastore, pods: number, rate: number, durationS: number): Promise<void> {
  const total = rate * durationS;
  const start = Date.now();
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await ds.request('PATCH', `/api/v1/namespaces/bench/pods/p${k % pods}`, { metadata: { labels: { rev: String(k) } } });
  }
}

async function run(p: Params, agents: number, mode: Mode, cleanup: Array<() => Promise<void> | void>): Promise<RunResult> {
  const kube = await startKubeApiServer();
  PIDS.add(kube.pid);
  PIDS.add(kube.etcd.pid);
  cleanup.push(() => kube.stop());
  const ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  cleanup.push(() => ds.close());
  await seed(kube, ds, p.pods);
  const typhas: TyphaProcess[] = [];
  if (mode === 'typha') {
    for (let i = 0; i < 2; i++) {
      const t = await TyphaProcess.start({
        etcdEndpoints: [],
        maxConnections: 100_000,
        maxConnectionsPerSource: 0,
        logSeverity: 'Warning',
        env: { TYPHA_DATASTORETYPE: 'kubernetes', TYPHA_KUBECONFIG: kube.kubeconfigPath, TYPHA_LOGSEVERITYSCREEN: 'Info' },
      });
      typhas.push(t);
      PIDS.add(t.pid);
      cleanup.push(() => t.stop(5000));
      await t.waitReady(60_000);
    }
  }
  const children: ChildProcess[] = [];
  cleanup.push(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });
  const events: number[] = [];
  const cpu0 = cpuSeconds(kube.pid);
  const t0 = Date.now();
  if (mode !== 'none') {
    const cfg: Omit<AgentsConfig, 'count'> =
      mode === 'direct'
        ? { mode, server: kube.url, caFile: kube.caFile, certFile: kube.clientCertFile, keyFile: kube.clientKeyFile }
        : { mode, typhaAddrs: typhas.map((t) => `127.0.0.1:${t.syncPort}`).join(',') };
    await startAgents(cfg, agents, p.workers, children, events);
  }
  const syncSeconds = (Date.now() - t0) / 1000;
  const cpu1 = cpuSeconds(kube.pid);
  const typhaCpu1 = typhas.reduce((s, t) => s + (t.proc()?.cpuSeconds ?? 0), 0);
  await churn(ds, p.pods, p.rate, p.duration);
  await new Promise((r) => setTimeout(r, 2000));
  const cpu2 = cpuSeconds(kube.pid);
  const typhaCpu2 = typhas.reduce((s, t) => s + (t.proc()?.cpuSeconds ?? 0), 0);
  await new Promise((r) => setTimeout(r, 1100)); // the workers' last event counts
  const result: RunResult = {
    agents,
    mode,
    syncSeconds,
    apiserverCpuSecondsSync: round(cpu1 - cpu0),
    apiserverCpuSecondsChurn: round(cpu2 - cpu1),
    apiserverRssMB: round(procStats(kube.pid)?.rssMB ?? NaN),
    apiserverWatches: await watchCount(kube),
    eventsReceived: events.reduce((a, b) => a + b, 0),
    ...(mode === 'typha' ? { typhaCpuSecondsChurn: round(typhaCpu2 - typhaCpu1) } : {}),
  };
  for (const fn of cleanup.splice(0).reverse()) await fn();
  return result;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function main(): Promise<void> {
  const p = parseArgs(process.argv.slice(2));
  const cleanup: Array<() => Promise<void> | void> = [];
  installSignalHandlers({
    async cleanup() {
      for (const fn of cleanup.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    },
    killNow() {
      for (const pid of PIDS) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
    log: (msg) => process.stderr.write(`bench:apiserver: ${msg}\n`),
  });
  const results: RunResult[] = [];
  const baseline = await run(p, 0, 'none', cleanup);
  if (!p.json) process.stderr.write(`${JSON.stringify(baseline)}\n`);
  const aboveBaseline = (r: RunResult) => r.apiserverCpuSecondsChurn - baseline.apiserverCpuSecondsChurn;
  for (const n of p.agents) {
    for (const mode of ['typha', 'direct'] as const) {
      const r = await run(p, n, mode, cleanup);
      results.push(r);
      if (!p.json) process.stderr.write(`${JSON.stringify(r)}\n`);
    }
  }
  const ratios = p.agents.map((n) => {
    const d = results.find((r) => r.agents === n && r.mode === 'direct');
    const t = results.find((r) => r.agents === n && r.mode === 'typha');
    return {
      agents: n,
      apiserverChurnCpuDirectOverTypha: d && t && t.apiserverCpuSecondsChurn > 0 ? round(d.apiserverCpuSecondsChurn / t.apiserverCpuSecondsChurn) : null,
      // The watchers' share: churn CPU above the no-agent baseline (floored at 0.01 s, this machine's tick).
      apiserverWatcherCpuDirectOverTypha: d && t ? round(Math.max(aboveBaseline(d), 0.01) / Math.max(aboveBaseline(t), 0.01)) : null,
      apiserverSyncCpuDirectOverTypha: d && t && t.apiserverCpuSecondsSync > 0 ? round(d.apiserverCpuSecondsSync / t.apiserverCpuSecondsSync) : null,
      watchesDirect: d?.apiserverWatches,
      watchesTypha: t?.apiserverWatches,
    };
  });
  process.stdout.write(`${JSON.stringify({ machine: machineInfo(), params: p, baseline, results, ratios }, null, p.json ? 0 : 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:apiserver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
