/**
 * Integration harness for the plugin: a real etcd, a node network namespace whose loopback
 * reaches it (datastore/testing's exposeLoopbackPorts), pod namespaces, and the real executable
 * run inside the node namespace exactly as the lab and a runtime run it:
 *
 *   ip netns exec <node> env CNI_COMMAND=… node cni/bin/cattail-cni.js < config.json
 *
 * Names are unique per run (`ccni-<random>-…`); everything is removed by the caller's t.after
 * hooks; processes are ended by their own pid. A missing tool fails with a clear message.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import type { Resource } from '@cattail/api';
import { EtcdDatastore } from '@cattail/datastore';
import { exposeLoopbackPorts, startEtcd, type EtcdServer } from '@cattail/datastore/testing';

const execFileP = promisify(execFile);

export const PLUGIN = fileURLToPath(new URL('../../../bin/cattail-cni.js', import.meta.url));

export async function run(file: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP(file, args, { encoding: 'utf8', timeout: 30_000 });
  return stdout;
}

export async function requireTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces); run it as root');
  for (const [tool, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['nsenter', ['--version'], 'util-linux'],
  ] as const) {
    try {
      await execFileP(tool, [...args]);
    } catch {
      throw new Error(`this test needs \`${tool}\` on PATH (apt-get install ${pkg})`);
    }
  }
}

export function uniquePrefix(): string {
  return `ccni-${randomBytes(3).toString('hex')}`;
}

export async function createNetns(t: TestContext, name: string): Promise<string> {
  await run('ip', ['netns', 'add', name]);
  t.after(() =>
    run('ip', ['netns', 'del', name]).then(
      () => undefined,
      () => undefined,
    ),
  );
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function netnsPath(name: string): string {
  return `/var/run/netns/${name}`;
}

export interface CniRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

export interface NetnsRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` inside `nodeNs` with only PATH and `env` in its environment, `stdin` (if any) on
 * its standard input; fails after `timeoutMs` naming `what`.
 */
export function runInNetns(
  nodeNs: string,
  env: Record<string, string>,
  argv: string[],
  stdin: string | undefined,
  timeoutMs: number,
  what: string,
): Promise<NetnsRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', nodeNs, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], {
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** Runs the plugin inside `nodeNs` with the CNI variables and the config on stdin. */
export async function runCni(nodeNs: string, env: Record<string, string>, config: unknown, timeoutMs = 300_000): Promise<CniRun> {
  const stdin = typeof config === 'string' ? config : JSON.stringify(config);
  return withJson(await runInNetns(nodeNs, env, [process.execPath, PLUGIN], stdin, timeoutMs, `cattail-cni ${env.CNI_COMMAND}`));
}

/** A run with its stdout parsed, when it is one JSON document (a CNI result or error). */
export function withJson(r: Omit<CniRun, 'json'>): CniRun {
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

export interface Cluster {
  etcd: EtcdServer;
  ds: EtcdDatastore;
  /** The etcd endpoint as seen from inside a node namespace (same address as in the root one). */
  endpoint: string;
  port: number;
  /** Make etcd reachable inside another node namespace. */
  expose(t: TestContext, nodeNs: string): Promise<void>;
}

export async function startCluster(t: TestContext): Promise<Cluster> {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const ds = new EtcdDatastore(etcd.clientOptions());
  t.after(() => ds.close());
  const port = Number(new URL(etcd.clientUrl).port);
  await createNodes(ds);
  return {
    etcd,
    ds,
    endpoint: etcd.clientUrl,
    port,
    async expose(tc, nodeNs) {
      const relay = await exposeLoopbackPorts(nodeNs, [port], { timeoutMs: 120_000 });
      tc.after(() => relay.close());
    },
  };
}

/** Nodes the tests run pods on: IPAM allocates only for a node with a Node resource, as Calico's does. */
export const TEST_NODES = ['node-0', 'node-1', 'node-2', 'node-3'];

export async function createNodes(ds: EtcdDatastore): Promise<void> {
  for (const name of TEST_NODES) await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
}

export function ipPool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, blockSize: 26, ...extra } };
}

export function netConf(endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'cattail-cni',
    nodename: 'node-1',
    datastore_type: 'etcdv3',
    etcd_endpoints: endpoint,
    etcd_ca_cert_file: '',
    etcd_cert_file: '',
    etcd_key_file: '',
    mtu: 1450,
    log_level: 'warning',
    ipam: { type: 'cattail-ipam', assign_ipv4: 'true', assign_ipv6: 'false', ipv4_pools: ['10.66.0.0/16'] },
    args: { cni: { labels: [{ key: 'app', value: 'web' }], serviceAccountName: 'default' } },
    ...extra,
  };
}

export function cniEnv(command: string, containerId: string, podNs: string, pod?: { namespace: string; name: string }): Record<string, string> {
  const env: Record<string, string> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: netnsPath(podNs),
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
  };
  if (pod) env.CNI_ARGS = `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${containerId}`;
  return env;
}

/** `ip -j` output of a command run in a namespace. */
export async function ipJson<T>(ns: string, args: string[]): Promise<T> {
  const out = await run('ip', ['-n', ns, '-j', ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}
