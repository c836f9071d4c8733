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
 * Plugin variants, in the same run (--plugin):
 *   base     `node cni/bin/cattail-cni.js` of another commit (--baseline-rev REV: git archive of
 *            REV into a temp dir, built there with tsc; the baseline of the ratios when given)
 *   node     `node cni/bin/cattail-cni.js`, the compiled modules (CATTAIL_CNI_BUNDLE=0)
 *   bundle   the same executable running the one-file bundle through V8's code cache (built
 *            here with `image cni-bundle`; its cache is removed first, so the first ADD writes it)
 *   sea      the standalone binary image/src/cni-binary.ts builds (--sea-binary PATH, or built
 *            into a temp dir here; when it cannot be had the JSON says why)
 *   shim     the product: the Go shim (tools/cni-shim, .tools/bin/cattail-cni-shim) as the CNI
 *            binary, handing each call to `cattail cni-daemon` (started once in the node
 *            namespace, datastore kept open); no cattail-cni-direct beside it, so a fallback
 *            fails the call instead of being measured as the daemon
 *   daemon   the same daemon behind a thin client in Node (cni-daemon-client.ts): what the
 *            shim's Go saves over a Node client (the measured alternative before the shim)
 * Ratios are each variant over `base` (else `node`). Each variant stops early after
 * --max-seconds. Names are `ccnb-<random>-…`; namespaces, relays, servers and the daemon are
 * removed at the end, processes ended by their own pid. Timings include `ip netns exec` (the
 * runtime's setns); `floorMs` gives that spawn alone, `node -e 0` and each plugin's CNI
 * VERSION. The plugin runs with CATTAIL_CNI_TIMING=1, and `phasesMs` gives the medians of the
 * phase marks its timing line reports for sequential ADD and DEL (variants that print one).
 *
 *   npm run bench:cni -- [--datastore etcd,kdd] [--plugin node,bundle,sea,daemon,shim] [--baseline-rev REV]
 *                        [--mode sequential,concurrent] [--pods 15] [--concurrency 20] [--rounds 1]
 *                        [--max-seconds 60] [--sea-binary PATH] [--etcd-at node|host]
 *
 * etcd runs in the node's namespace by default (`--etcd-at node`: reached as a node reaches its
 * datastore, over a network path with no userspace hop); `--etcd-at host` is the earlier setup,
 * etcd on this machine's loopback reached through the loopback relay (a userspace proxy: about
 * 6 ms more per new connection here, firstRequestMs). The apiserver is always reached through
 * the relay.
 *   node bench/dist/src/cni-table.js RUN.json     the Markdown tables of docs/BENCHMARKS.md
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { Resource } from '@cattail/api';
import { EtcdDatastore, kdd } from '@cattail/datastore';
import { applyCalicoCrds, exposeLoopbackPorts, startEtcd, startKubeApiServer } from '@cattail/datastore/testing';
import { findShimBinary } from '@cattail/cni/daemon';
import { intArg, UsageError } from './args.js';
import { listSummary } from './histogram.js';
import { machineInfo } from './machine.js';

const execFileP = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const NODE_PLUGIN = join(REPO, 'cni/bin/cattail-cni.js');
const CATTAIL_CLI = join(REPO, 'cli/bin/cattail.js');
const BUNDLE_CACHE = join(REPO, 'cni/dist/bundle/cattail-cni.cjs.cache');
const IMAGE_MAIN = join(REPO, 'image/dist/src/main.js');
const DAEMON_CLIENT = fileURLToPath(new URL('./cni-daemon-client.js', import.meta.url));
const NODENAME = 'node-1';
const POD_NS = 'bench';

export type Datastore = 'etcd' | 'kdd';
export type Plugin = 'base' | 'node' | 'bundle' | 'sea' | 'daemon' | 'shim';
export type Mode = 'sequential' | 'concurrent';
const PLUGINS: readonly Plugin[] = ['base', 'node', 'bundle', 'sea', 'daemon', 'shim'];

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

/** Medians of the plugin's own phase marks (CATTAIL_CNI_TIMING=1), ms; `calls`: datastore requests. */
export type Phases = Record<string, number>;

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

interface TimingLine {
  marks: Record<string, number>;
  datastore: { calls: number };
}

/** The `timing` line of a plugin's stderr (CATTAIL_CNI_TIMING=1), if it printed one. */
export function timingOf(stderr: string): TimingLine | undefined {
  for (const line of stderr.split('\n')) {
    if (!line.includes('"timing"')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; marks?: Record<string, number>; datastore?: { calls: number } };
      if (j.msg === 'timing' && j.marks && j.datastore) return { marks: j.marks, datastore: j.datastore };
    } catch {
      // not a log line of ours
    }
  }
  return undefined;
}

/**
 * Medians of each phase over the samples: a phase is the time from the previous mark present
 * to its own (`main` from the process start), in the order the plugin passes them.
 */
export function phaseMedians(samples: readonly TimingLine[]): Phases {
  const order = ['main', 'config', 'datastore', 'pod', 'ipam', 'wiring', 'endpoint', 'closed'];
  const per: Record<string, number[]> = {};
  for (const t of samples) {
    // DEL passes endpoint before wiring and ipam: follow the marks' own time order.
    const present = order.filter((m) => t.marks[m] !== undefined).sort((a, b) => t.marks[a] - t.marks[b]);
    let prev = 0;
    for (const m of present) {
      (per[m] ??= []).push(t.marks[m] - prev);
      prev = t.marks[m];
    }
    (per.total ??= []).push(prev);
    (per.calls ??= []).push(t.datastore.calls);
  }
  const out: Phases = {};
  for (const [k, v] of Object.entries(per)) out[k] = Math.round(listSummary(v).p50 * 10) / 10;
  return out;
}

async function ip(args: string[]): Promise<void> {
  await execFileP('ip', args, { timeout: 30_000 });
}

interface CallResult {
  ms: number;
  ok: boolean;
  detail: string;
  stderr: string;
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
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (ok: boolean, detail: string) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, ok, detail, stderr: err });
    };
    child.on('error', (e) => done(false, e.message));
    child.on('close', (code, signal) => done(code === 0, `exit ${code ?? signal}: ${(out + err).slice(0, 400)}`));
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

/**
 * The plugin of commit `rev`, for the `base` variant: `git archive` into `dir`, node_modules
 * linked to this checkout's (but @cattail/* to the archive's own packages), `tsc -b cni` there.
 */
async function buildBaseline(rev: string, dir: string): Promise<void> {
  await execFileP('sh', ['-c', `git -C "$1" archive "$2" | tar -x -C "$3"`, 'sh', REPO, rev, dir], { timeout: 120_000 });
  const modules = join(REPO, 'node_modules');
  await mkdir(join(dir, 'node_modules/@cattail'), { recursive: true });
  for (const name of await readdir(modules)) {
    if (name.startsWith('.')) continue;
    if (name === '@cattail') {
      for (const pkg of await readdir(join(modules, name))) await symlink(await readlink(join(modules, name, pkg)), join(dir, 'node_modules/@cattail', pkg));
    } else await symlink(join(modules, name), join(dir, 'node_modules', name));
  }
  await execFileP(process.execPath, [join(modules, 'typescript/bin/tsc'), '-b', 'cni'], { cwd: dir, timeout: 900_000 });
}

/** Starts `cattail cni-daemon` in `nodeNs` on `socket`; resolves once it logs "serving". */
async function startDaemon(nodeNs: string, socket: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', nodeNs, process.execPath, CATTAIL_CLI, 'cni-daemon', `--socket=${socket}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errText = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the CNI daemon did not start in 60 s: ${errText}`)), 60_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errText = (errText + d).slice(-4000);
      if (errText.includes('"msg":"serving"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the CNI daemon exited (${code}): ${errText}`));
    });
  });
  // Keep draining its log (each failed call logs an error line), or the pipe would fill.
  child.stderr.resume();
  return child;
}

/** Ten times: a new TCP connection to 127.0.0.1:`port` (in `netns`, else here) and one HTTP GET, timed in the process. */
async function firstRequest(port: number, netns: string | undefined): Promise<Percentiles> {
  const script = `const net = require('node:net'); const t0 = performance.now();
const s = net.connect(${port}, '127.0.0.1', () => s.write('GET /version HTTP/1.1\\r\\nHost: etcd\\r\\nConnection: close\\r\\n\\r\\n'));
s.once('data', () => { process.stdout.write(String(performance.now() - t0)); s.destroy(); });`;
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const argv = [process.execPath, '-e', script];
    const { stdout } = netns
      ? await execFileP('ip', ['netns', 'exec', netns, ...argv], { timeout: 30_000 })
      : await execFileP(argv[0], argv.slice(1), { timeout: 30_000 });
    const ms = Number(stdout);
    if (Number.isFinite(ms)) samples.push(ms);
  }
  return percentiles(samples);
}

const ETCD_IN_NODE_PORT = 23790;

/**
 * etcd run in `netns` (`ip netns exec` execs it, so the child's pid is etcd's), on the
 * namespace's own loopback (fresh, so the fixed ports are free); ready once `etcdctl endpoint
 * health` answers from inside. stop() ends it by its pid and removes its data.
 */
async function startEtcdInNetns(netns: string, prefix: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-etcd-`));
  const url = `http://127.0.0.1:${ETCD_IN_NODE_PORT}`;
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, 'etcd', '--name', 'bench', '--data-dir', join(dir, 'data'), '--listen-client-urls', url, '--advertise-client-urls', url],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const healthy = await execFileP('ip', ['netns', 'exec', netns, 'etcdctl', `--endpoints=${url}`, '--dial-timeout=1s', 'endpoint', 'health'], {
      timeout: 10_000,
    }).then(
      () => true,
      () => false,
    );
    if (healthy) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd in ${netns} did not become healthy within 30 s (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop };
}

/** `cattail apply` of `resources` from inside `netns` against the etcd at `endpoint`. */
async function applyInNetns(netns: string, endpoint: string, resources: Resource[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ccnb-apply-'));
  try {
    const file = join(dir, 'resources.json');
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: resources }));
    await execFileP('ip', ['netns', 'exec', netns, process.execPath, CATTAIL_CLI, 'apply', '-f', file], {
      timeout: 60_000,
      env: { ...process.env, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: endpoint },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
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
      'baseline-rev': { type: 'string' },
      'etcd-at': { type: 'string' },
    },
  });
  const etcdAt = values['etcd-at'] ?? 'node';
  if (etcdAt !== 'node' && etcdAt !== 'host') throw new UsageError(`--etcd-at must be node or host, got "${etcdAt}"`);
  const datastores = listArg<Datastore>('datastore', values.datastore, ['etcd', 'kdd']);
  const baseRev = values['baseline-rev'];
  const plugins = listArg<Plugin>('plugin', values.plugin ?? (baseRev ? PLUGINS.join(',') : 'node,bundle,sea,daemon,shim'), PLUGINS);
  if (plugins.includes('base') && baseRev === undefined) throw new UsageError('--plugin base needs --baseline-rev REV (the commit to compare against)');
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
    params: { pods, concurrency, rounds, maxSeconds, etcdAt, ...(baseRev ? { baselineRev: baseRev } : {}) },
  };
  let failures = 0;
  try {
    const nodeNs = `${prefix}-node`;
    await ip(['netns', 'add', nodeNs]);
    cleanup.push(() => ip(['netns', 'del', nodeNs]));
    await ip(['-n', nodeNs, 'link', 'set', 'lo', 'up']);

    const pluginArgv: Partial<Record<Plugin, string[]>> = {};
    const pluginEnv: Partial<Record<Plugin, Record<string, string>>> = {};
    const pluginInfo: Record<string, unknown> = {};
    const variant = async (plugin: Plugin, make: () => Promise<{ argv: string[]; env?: Record<string, string>; info: unknown }>) => {
      if (!plugins.includes(plugin)) return;
      const started = Date.now();
      try {
        const v = await make();
        pluginArgv[plugin] = v.argv;
        if (v.env) pluginEnv[plugin] = v.env;
        pluginInfo[plugin] = { ...(v.info as object), setupSeconds: Math.round((Date.now() - started) / 1000) };
      } catch (err) {
        pluginInfo[plugin] = { available: false, reason: (err as Error).message.slice(0, 400) };
      }
    };
    await variant('base', async () => {
      const dir = await mkdtemp(join(tmpdir(), `${prefix}-base-`));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      log(`building the baseline ${baseRev} into ${dir}`);
      await buildBaseline(baseRev!, dir);
      return { argv: [process.execPath, join(dir, 'cni/bin/cattail-cni.js')], info: { rev: baseRev, argv: ['node', `<${baseRev}>/cni/bin/cattail-cni.js`] } };
    });
    await variant('node', async () => ({
      argv: [process.execPath, NODE_PLUGIN],
      env: { CATTAIL_CNI_BUNDLE: '0' },
      info: { argv: ['node', 'cni/bin/cattail-cni.js'], env: 'CATTAIL_CNI_BUNDLE=0' },
    }));
    await variant('bundle', async () => {
      log('bundling the plugin (image cni-bundle), its code cache removed');
      await execFileP(process.execPath, [IMAGE_MAIN, 'cni-bundle'], { timeout: 300_000 });
      await rm(BUNDLE_CACHE, { force: true });
      return { argv: [process.execPath, NODE_PLUGIN], info: { argv: ['node', 'cni/bin/cattail-cni.js'], bundle: 'cni/dist/bundle/cattail-cni.cjs' } };
    });
    await variant('sea', async () => {
      let sea = values['sea-binary'];
      if (sea === undefined) {
        const dir = await mkdtemp(join(tmpdir(), `${prefix}-sea-`));
        cleanup.push(() => rm(dir, { recursive: true, force: true }));
        sea = join(dir, 'cattail-cni');
        log(`building the SEA binary (image/src/cni-binary.ts) into ${sea}`);
        await execFileP(process.execPath, [IMAGE_MAIN, 'cni-binary', sea], { timeout: 600_000 }).catch((err: unknown) => {
          throw new Error(`the SEA build failed: ${(err as Error).message}`);
        });
        return { argv: [sea], info: { built: true } };
      }
      const ok = await access(sea, fsConstants.X_OK).then(
        () => true,
        () => false,
      );
      if (!ok) throw new Error(`${sea} is not an executable file`);
      return { argv: [sea], info: { binary: sea } };
    });
    // One daemon for both clients: the variants differ only in the binary the runtime runs.
    let daemonSocket: Promise<string> | undefined;
    const daemon = () =>
      (daemonSocket ??= (async () => {
        const socket = `/run/${prefix}-cni/cni.sock`;
        log(`starting cattail cni-daemon in ${nodeNs} (${socket})`);
        const child = await startDaemon(nodeNs, socket);
        cleanup.push(() => stopChild(child));
        cleanup.push(() => rm(`/run/${prefix}-cni`, { recursive: true, force: true }));
        return socket;
      })());
    await variant('daemon', async () => {
      const socket = await daemon();
      return {
        argv: [process.execPath, DAEMON_CLIENT, socket],
        info: { argv: ['node', 'bench/dist/src/cni-daemon-client.js', socket], daemon: 'cattail cni-daemon' },
      };
    });
    await variant('shim', async () => {
      const shim = findShimBinary();
      const socket = await daemon();
      return {
        argv: [shim],
        env: { CATTAIL_CNI_DAEMON_SOCKET: socket },
        info: { argv: ['.tools/bin/cattail-cni-shim'], env: `CATTAIL_CNI_DAEMON_SOCKET=${socket}`, daemon: 'cattail cni-daemon' },
      };
    });
    out.plugins = pluginInfo;

    // Floors: the spawn through `ip netns exec` alone, Node's own start, each plugin's VERSION.
    const floor: Record<string, Percentiles> = {};
    const floorOf = async (argv: string[], env: Record<string, string> = {}) => {
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await callPlugin(argv, nodeNs, { CNI_COMMAND: 'VERSION', ...env }, '{"cniVersion":"1.0.0"}', 60_000);
        if (r.ok) samples.push(r.ms);
      }
      return percentiles(samples);
    };
    floor.ipNetnsExecTrue = await floorOf(['true']);
    floor.nodeE0 = await floorOf([process.execPath, '-e', '0']);
    for (const plugin of plugins) {
      const argv = pluginArgv[plugin];
      if (argv !== undefined) floor[`${plugin}Version`] = await floorOf(argv, pluginEnv[plugin]);
    }
    out.floorMs = floor;

    const targets: Target[] = [];
    if (datastores.includes('etcd') && etcdAt === 'node') {
      // etcd in the node's own namespace, as on a control-plane node: the plugin reaches it with
      // no relay in between (the relay of `--etcd-at host` adds a userspace hop per request).
      const etcd = await startEtcdInNetns(nodeNs, prefix);
      cleanup.push(() => etcd.stop());
      await applyInNetns(nodeNs, etcd.url, [
        { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODENAME }, spec: {} },
        ipPool('10.66.0.0/16'),
      ]);
      targets.push({ datastore: 'etcd', conf: netConf('etcd', etcd.url), makePods: async () => undefined });
      out.firstRequestMs = { etcdInNode: await firstRequest(Number(new URL(etcd.url).port), nodeNs) };
    }
    if (datastores.includes('etcd') && etcdAt === 'host') {
      const etcd = await startEtcd();
      cleanup.push(() => etcd.stop());
      const ds = new EtcdDatastore(etcd.clientOptions());
      cleanup.push(() => ds.close());
      await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: NODENAME }, spec: {} });
      await ds.create(ipPool('10.66.0.0/16'));
      const relay = await exposeLoopbackPorts(nodeNs, [Number(new URL(etcd.clientUrl).port)], { timeoutMs: 120_000 });
      cleanup.push(() => relay.close());
      targets.push({ datastore: 'etcd', conf: netConf('etcd', etcd.clientUrl), makePods: async () => undefined });
      // What a new connection costs through the relay, against the same from the host's own
      // namespace: connect, one HTTP request (etcd's /version), first byte back; in-process.
      const port = Number(new URL(etcd.clientUrl).port);
      out.firstRequestMs = { etcdViaRelay: await firstRequest(port, nodeNs), etcdDirect: await firstRequest(port, undefined) };
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
    const baseline: Plugin = plugins.includes('base') && pluginArgv.base ? 'base' : 'node';
    for (const target of targets) {
      const byPlugin: Record<string, unknown> = {};
      const results: Partial<Record<Plugin, Record<string, ModeResult>>> = {};
      const phases: Record<string, { add: Phases; del: Phases }> = {};
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
          const timings: { ADD: TimingLine[]; DEL: TimingLine[] } = { ADD: [], DEL: [] };
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
              CATTAIL_CNI_TIMING: '1',
              ...pluginEnv[plugin],
            };
            const r = await callPlugin(argv, nodeNs, env, target.conf, 120_000);
            if (r.ok) {
              (command === 'ADD' ? adds : dels).push(r.ms);
              const t = timingOf(r.stderr);
              if (t) timings[command].push(t);
            } else {
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
            // The daemon's marks are the daemon's clock, not the call's: left out.
            if (plugin !== 'daemon' && plugin !== 'shim' && timings.ADD.length > 0)
              phases[plugin] = { add: phaseMedians(timings.ADD), del: phaseMedians(timings.DEL) };
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
        results[plugin] = byMode;
      }
      const base = results[baseline];
      if (base) {
        const r: Record<string, Record<string, Record<string, number>>> = {};
        for (const plugin of plugins) {
          const cand = results[plugin];
          if (plugin === baseline || !cand) continue;
          r[plugin] = {};
          for (const mode of modes) if (cand[mode] && base[mode]) r[plugin][mode] = ratios(cand[mode], base[mode]);
        }
        byPlugin.ratiosOver = baseline;
        byPlugin.ratios = r;
      }
      byPlugin.phasesMs = phases;
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
