/**
 * `npm run bench:cni`: CNI ADD/DEL latency as a container runtime sees it (issue 17, "Pod network
 * setup in milliseconds"). The real plugin runs as one process per call, inside a node network
 * namespace, with CNI_COMMAND/CNI_NETNS/CNI_ARGS in its environment and the config on stdin,
 * against (a) a real etcd and (b) a real kube-apiserver with Calico's CRDs (pods exist as Pod
 * objects). Each pod gets its own kernel network namespace, made before its ADD is timed.
 *
 *   sequential   --pods pods one after another, each ADD then DEL
 *   concurrent   --concurrency ADDs at once, then their DELs at once, for --rounds rounds
 *
 * Plugin variants, in the same run: `node` (node cni/bin/cattail-cni.js, the baseline) and `sea`
 * (the standalone binary image/src/cni-binary.ts builds; --sea-binary PATH, or built into a temp
 * dir here; when it cannot be had the JSON says why). Each variant stops early after
 * --max-seconds. Names are `ccnb-<random>-…`; namespaces, relays and servers are removed at the
 * end, processes ended by their own pid. Timings include `ip netns exec` (the runtime's setns);
 * `floorMs` gives that spawn alone and each plugin's CNI VERSION call (start-up, no datastore).
 *
 *   npm run bench:cni -- [--datastore etcd,kdd] [--plugin node,sea] [--mode sequential,concurrent]
 *                        [--pods 15] [--concurrency 20] [--rounds 1] [--max-seconds 60]
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Resource } from '@cattail/api';
import { EtcdDatastore, kdd } from '@cattail/datastore';
import { applyCalicoCrds, exposeLoopbackPorts, startEtcd, startKubeApiServer } from '@cattail/datastore/testing';
import { intArg, UsageError } from './args.js';
import { listSummary } from './histogram.js';
import { machineInfo } from './machine.js';

const execFileP = promisify(execFile);
const NODE_PLUGIN = fileURLToPath(new URL('../../../cni/bin/cattail-cni.js', import.meta.url));
const IMAGE_MAIN = fileURLToPath(new URL('../../../image/dist/src/main.js', import.meta.url));
const NODENAME = 'node-1';
const POD_NS = 'bench';

export type Datastore = 'etcd' | 'kdd';
export type Plugin = 'node' | 'sea';
export type Mode = 'sequential' | 'concurrent';

export interface Percentiles {
  p50: number;
  p99: number;
  count: number;
}

export interface ModeResult {
  addMs: Percentiles;
  delMs: Percentiles;
  failures: number;
  firstFailure?: string;
  /** True when --max-seconds cut the mode short. */
  truncated: boolean;
}

/** Parses a comma list of allowed words (`--plugin node,sea`). */
export function listArg<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined) return [...allowed];
  const words = raw.split(',').map((w) => w.trim());
  for (const w of words)
    if (!(allowed as readonly string[]).includes(w)) throw new UsageError(`--${name} must be a comma list of ${allowed.join(', ')}, got "${raw}"`);
  return [...new Set(words)] as T[];
}

/** p50/p99 (exact, ms to 0.1) of the samples; NaN when there are none. */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { p50: NaN, p99: NaN, count: 0 };
  const s = listSummary(samples);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { p50: r(s.p50), p99: r(s.p99), count: s.count };
}

/** Candidate over baseline, to 0.01 (p50 and p99 of ADD and DEL). */
export function ratios(candidate: ModeResult, baseline: ModeResult): Record<string, number> {
  const q = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return {
    addP50: q(candidate.addMs.p50, baseline.addMs.p50),
    addP99: q(candidate.addMs.p99, baseline.addMs.p99),
    delP50: q(candidate.delMs.p50, baseline.delMs.p50),
    delP99: q(candidate.delMs.p99, baseline.delMs.p99),
  };
}

async function ip(args: string[]): Promise<void> {
  await execFileP('ip', args, { timeout: 30_000 });
}

interface CallResult {
  ms: number;
  ok: boolean;
  detail: string;
}

/** One plugin call, timed from spawn to exit, run in `nodeNs` with only PATH and the CNI variables. */
function callPlugin(argv: string[], nodeNs: string, env: Record<string, string>, stdin: string, timeoutMs: number): Promise<CallResult> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn('ip', ['netns', 'exec', nodeNs, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (ok: boolean, detail: string) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, ok, detail });
    };
    child.on('error', (err) => done(false, err.message));
    child.on('close', (code, signal) => done(code === 0, `exit ${code ?? signal}: ${out.slice(0, 400)}`));
    child.stdin.end(stdin);
  });
}

interface Target {
  datastore: Datastore;
  conf: string;
  /** Makes the Pod objects the plugin reads (kdd only). */
  makePods(names: string[]): Promise<void>;
}

function netConf(datastore: Datastore, endpoint: string): string {
  const base = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'cattail-cni',
    nodename: NODENAME,
    mtu: 1450,
    log_level: 'warning',
    ipam: { type: 'cattail-ipam', assign_ipv4: 'true', assign_ipv6: 'false' },
  };
  return JSON.stringify(
    datastore === 'etcd'
      ? {
          ...base,
          datastore_type: 'etcdv3',
          etcd_endpoints: endpoint,
          args: { cni: { labels: [{ key: 'app', value: 'bench' }], serviceAccountName: 'default' } },
        }
      : { ...base, datastore_type: 'kubernetes', kubernetes: { kubeconfig: endpoint }, policy: { type: 'k8s' } },
  );
}

function ipPool(cidr: string): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'bench-pool' }, spec: { cidr, blockSize: 26 } };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      datastore: { type: 'string' },
      plugin: { type: 'string' },
      mode: { type: 'string' },
      pods: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      'max-seconds': { type: 'string' },
      'sea-binary': { type: 'string' },
    },
  });
  const datastores = listArg<Datastore>('datastore', values.datastore, ['etcd', 'kdd']);
  const plugins = listArg<Plugin>('plugin', values.plugin, ['node', 'sea']);
  const modes = listArg<Mode>('mode', values.mode, ['sequential', 'concurrent']);
  const pods = intArg('pods', values.pods, 15, 1, 10_000);
  const concurrency = intArg('concurrency', values.concurrency, 20, 1, 1000);
  const rounds = intArg('rounds', values.rounds, 1, 1, 1000);
  const maxSeconds = intArg('max-seconds', values['max-seconds'], 60, 1, 86_400);
  if (process.getuid?.() !== 0) throw new UsageError('bench:cni needs root (network namespaces)');

  const cleanup: Array<() => Promise<unknown>> = [];
  const prefix = `ccnb-${randomBytes(3).toString('hex')}`;
  const log = (m: string) => process.stderr.write(`[bench:cni] ${m}\n`);
  const out: Record<string, unknown> = {
    command: ['npm run bench:cni', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    machine: machineInfo(),
    params: { pods, concurrency, rounds, maxSeconds },
  };
  let failures = 0;
  try {
    const pluginArgv: Partial<Record<Plugin, string[]>> = {};
    const pluginInfo: Record<string, unknown> = {};
    if (plugins.includes('node')) {
      pluginArgv.node = [process.execPath, NODE_PLUGIN];
      pluginInfo.node = { argv: ['node', 'cni/bin/cattail-cni.js'] };
    }
    if (plugins.includes('sea')) {
      let sea = values['sea-binary'];
      if (sea === undefined) {
        const dir = await mkdtemp(join(tmpdir(), `${prefix}-sea-`));
        cleanup.push(() => rm(dir, { recursive: true, force: true }));
        sea = join(dir, 'cattail-cni');
        const started = Date.now();
        log(`building the SEA binary (image/src/cni-binary.ts) into ${sea}`);
        try {
          await execFileP(process.execPath, [IMAGE_MAIN, 'cni-binary', sea], { timeout: 600_000 });
          pluginInfo.sea = { built: true, buildSeconds: Math.round((Date.now() - started) / 1000) };
        } catch (err) {
          pluginInfo.sea = { available: false, reason: `the SEA build failed: ${(err as Error).message.slice(0, 400)}` };
          sea = undefined;
        }
      } else if (
        await access(sea, fsConstants.X_OK).then(
          () => true,
          () => false,
        )
      )
        pluginInfo.sea = { binary: sea };
      else {
        pluginInfo.sea = { available: false, reason: `${sea} is not an executable file` };
        sea = undefined;
      }
      if (sea !== undefined) pluginArgv.sea = [sea];
    }
    out.plugins = pluginInfo;

    const nodeNs = `${prefix}-node`;
    await ip(['netns', 'add', nodeNs]);
    cleanup.push(() => ip(['netns', 'del', nodeNs]));
    await ip(['-n', nodeNs, 'link', 'set', 'lo', 'up']);

    // Floors: the spawn through `ip netns exec` alone, and each plugin's start-up (VERSION needs no datastore).
    const floorEnv = { CNI_COMMAND: 'VERSION' };
    const floor: Record<string, Percentiles> = {};
    const floorOf = async (argv: string[]) => {
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await callPlugin(argv, nodeNs, floorEnv, '{"cniVersion":"1.0.0"}', 60_000);
        if (r.ok) samples.push(r.ms);
      }
      return percentiles(samples);
    };
    floor.ipNetnsExecTrue = await floorOf(['true']);
    for (const plugin of plugins) {
      const argv = pluginArgv[plugin];
      if (argv !== undefined) floor[`${plugin}Version`] = await floorOf(argv);
    }
    out.floorMs = floor;

    const targets: Target[] = [];
    if (datastores.includes('etcd')) {
      const etcd = await startEtcd();
      cleanup.push(() => etcd.stop());
      const ds = new EtcdDatastore(etcd.clientOptions());
      cleanup.push(() => ds.close());
      await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODENAME }, spec: {} });
      await ds.create(ipPool('10.66.0.0/16'));
      const relay = await exposeLoopbackPorts(nodeNs, [Number(new URL(etcd.clientUrl).port)], { timeoutMs: 120_000 });
      cleanup.push(() => relay.close());
      targets.push({ datastore: 'etcd', conf: netConf('etcd', etcd.clientUrl), makePods: async () => undefined });
    }
    if (datastores.includes('kdd')) {
      const kube = await startKubeApiServer();
      cleanup.push(() => kube.stop());
      await applyCalicoCrds(kube);
      const ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
      cleanup.push(() => ds.close());
      await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODENAME } }) });
      await ds.create(ipPool('10.77.0.0/16'));
      await kube.ensureNamespace(POD_NS);
      const relay = await exposeLoopbackPorts(nodeNs, [Number(new URL(kube.url).port)], { timeoutMs: 120_000 });
      cleanup.push(() => relay.close());
      targets.push({
        datastore: 'kdd',
        conf: netConf('kdd', kube.kubeconfigPath),
        makePods: async (names) => {
          const items = names.map((name) => ({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: POD_NS, labels: { app: 'bench' } },
            spec: { nodeName: NODENAME, containers: [{ name: 'c', image: 'busybox' }] },
          }));
          await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
        },
      });
    }

    let seq = 0;
    for (const target of targets) {
      const byPlugin: Record<string, Record<string, ModeResult>> = {};
      for (const plugin of plugins) {
        const argv = pluginArgv[plugin];
        if (argv === undefined) continue;
        const byMode: Record<string, ModeResult> = {};
        for (const mode of modes) {
          const total = mode === 'sequential' ? pods : concurrency * rounds;
          const ids = Array.from({ length: total }, () => (seq++).toString(16).padStart(5, '0'));
          const names = ids.map((id) => `pod-${id}`);
          await target.makePods(names);
          const adds: number[] = [];
          const dels: number[] = [];
          let modeFailures = 0;
          let firstFailure: string | undefined;
          const deadline = Date.now() + maxSeconds * 1000;
          const one = async (i: number, command: 'ADD' | 'DEL'): Promise<void> => {
            const env = {
              CNI_COMMAND: command,
              CNI_CONTAINERID: `cid${ids[i]}`,
              CNI_NETNS: `/var/run/netns/${prefix}-p${ids[i]}`,
              CNI_IFNAME: 'eth0',
              CNI_PATH: '/opt/cni/bin',
              CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${POD_NS};K8S_POD_NAME=${names[i]};K8S_POD_INFRA_CONTAINER_ID=cid${ids[i]}`,
            };
            const r = await callPlugin(argv, nodeNs, env, target.conf, 120_000);
            if (r.ok) (command === 'ADD' ? adds : dels).push(r.ms);
            else {
              modeFailures++;
              firstFailure ??= `${command} ${names[i]}: ${r.detail}`;
            }
          };
          const podNetns = async (batch: number[]) => {
            for (const i of batch) {
              const ns = `${prefix}-p${ids[i]}`;
              await ip(['netns', 'add', ns]);
              cleanup.push(() => ip(['netns', 'del', ns]));
            }
          };
          let truncated = false;
          log(`${target.datastore} ${plugin} ${mode}: ${total} pods`);
          if (mode === 'sequential') {
            for (let i = 0; i < total; i++) {
              if (Date.now() > deadline) {
                truncated = true;
                break;
              }
              await podNetns([i]);
              await one(i, 'ADD');
              await one(i, 'DEL');
            }
          } else {
            for (let r = 0; r < rounds; r++) {
              if (Date.now() > deadline) {
                truncated = true;
                break;
              }
              const batch = Array.from({ length: concurrency }, (_, k) => r * concurrency + k);
              await podNetns(batch);
              await Promise.all(batch.map((i) => one(i, 'ADD')));
              await Promise.all(batch.map((i) => one(i, 'DEL')));
            }
          }
          failures += modeFailures;
          byMode[mode] = { addMs: percentiles(adds), delMs: percentiles(dels), failures: modeFailures, ...(firstFailure ? { firstFailure } : {}), truncated };
        }
        byPlugin[plugin] = byMode;
      }
      if (byPlugin.node && byPlugin.sea) {
        const r: Record<string, Record<string, number>> = {};
        for (const mode of modes) if (byPlugin.node[mode] && byPlugin.sea[mode]) r[mode] = ratios(byPlugin.sea[mode], byPlugin.node[mode]);
        byPlugin.seaOverNode = r as unknown as Record<string, ModeResult>;
      }
      out[target.datastore] = byPlugin;
    }
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
