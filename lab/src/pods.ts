/**
 * Pods are network namespaces wired by the real CNI plugin, invoked as the kubelet's runtime
 * would: inside the node's namespace (the plugin's "host"), with the CNI_* environment and the
 * network configuration on stdin. The plugin allocates the address from the pool (IPAM blocks
 * affine to the node), creates the `cali…` veth and host route, and writes the
 * WorkloadEndpoint; the lab only keeps what the result says. It reaches etcd at 127.0.0.1
 * inside the node namespace through the loopback relay (node-agents.ts).
 *
 * On the Kubernetes datastore the lab plays the scheduler and the kubelet around the same call:
 * the Pod is created bound to its node first, the plugin (datastore_type kubernetes, the lab's
 * kubeconfig, the API server reached through the same relay) reads it and writes its IP
 * annotations, and the lab then sets `status.podIP(s)` as the kubelet would.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabContext } from './context.js';
import { LabCommandError, LabToolMissingError } from './errors.js';
import { run, succeeds } from './exec.js';
import { createNamespace, namespaceExists } from './fabric.js';
import type { PodName } from './names.js';
import { datastoreOf, type NodeRecord, type PodRecord } from './state.js';
import { ensureKubePod, kubeconfigPath, setKubePodStatus } from './kube.js';
import { mtuFile } from './node-agents.js';

export function containerId(prefix: string, pod: Pick<PodName, 'namespace' | 'name'>): string {
  return createHash('sha256').update(`${prefix}/${pod.namespace}/${pod.name}`).digest('hex');
}

/** The network configuration the plugin reads on stdin. */
export function cniConfig(ctx: LabContext, node: NodeRecord, pod: Pick<PodName, 'labels'>): Record<string, unknown> {
  const common = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'cattail-cni',
    nodename: node.name,
    // The pod MTU comes from the file this node's Felix writes (uplink MTU, less 50 with VXLAN).
    mtu_file: mtuFile(ctx, node),
    ipam: { type: 'cattail-ipam', assign_ipv4: 'true', ipv4_pools: [ctx.state.poolCidr] },
  };
  if (datastoreOf(ctx.state) === 'kubernetes') {
    // Labels and service account come from the Pod itself.
    return { ...common, datastore_type: 'kubernetes', kubernetes: { kubeconfig: kubeconfigPath(ctx.dir) }, policy: { type: 'k8s' } };
  }
  return {
    ...common,
    datastore_type: 'etcdv3',
    etcd_endpoints: `http://127.0.0.1:${ctx.state.etcd.clientPort}`,
    args: { cni: { labels: Object.entries(pod.labels).map(([key, value]) => ({ key, value })), serviceAccountName: 'default' } },
  };
}

interface CniResult {
  interfaces?: Array<{ name: string; sandbox?: string }>;
  ips?: Array<{ address: string; interface?: number }>;
}

/**
 * The plugin is run as an executable (as a runtime would), not imported: the lab only needs it
 * built. Its bin script loads ../dist/src/main.js.
 */
function requireCniPlugin(cniBin: string): void {
  if (!existsSync(cniBin) || !existsSync(join(dirname(cniBin), '..', 'dist', 'src', 'main.js'))) {
    throw new LabToolMissingError(`the CNI plugin is not built (${cniBin}): run npx tsc -b cni (or npm run build)`);
  }
}

async function invokeCni(ctx: LabContext, command: 'ADD' | 'DEL' | 'CHECK', node: NodeRecord, pod: PodName, id: string): Promise<string> {
  const cniPath = join(ctx.dir, 'cni-bin');
  mkdirSync(cniPath, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: `/var/run/netns/${pod.netns}`,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: `K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${id}`,
    CNI_PATH: cniPath,
  };
  try {
    return await run('ip', ['netns', 'exec', node.netns, process.execPath, ctx.cniBin], {
      env,
      input: JSON.stringify(cniConfig(ctx, node, pod)),
      timeoutMs: 60_000,
    });
  } catch (err) {
    const e = err as LabCommandError;
    throw new LabCommandError(`CNI ${command} for ${pod.namespace}/${pod.name} on ${node.name} failed: ${e.message}`, e.stderr ?? '', { cause: err });
  }
}

/** Parses the CNI result: the pod's IPv4 address and the host-side interface. */
export function parseCniResult(stdout: string): { ip?: string; iface?: string } {
  const r = JSON.parse(stdout) as CniResult;
  const v4 = r.ips?.find((x) => /^\d+\.\d+\.\d+\.\d+\//.test(x.address));
  const host = r.interfaces?.find((i) => !i.sandbox);
  return { ...(v4 ? { ip: v4.address.split('/')[0] } : {}), ...(host ? { iface: host.name } : {}) };
}

async function wired(pod: PodRecord): Promise<boolean> {
  return pod.ip !== undefined && (await namespaceExists(pod.netns)) && (await succeeds('ip', ['-n', pod.netns, 'addr', 'show', 'dev', 'eth0']));
}

/** Creates the pod's namespace and runs CNI ADD, unless it is already wired. */
export async function ensurePod(ctx: LabContext, node: NodeRecord, pod: PodName): Promise<PodRecord> {
  requireCniPlugin(ctx.cniBin);
  const id = containerId(ctx.names.prefix, pod);
  const existing = ctx.state.pods.find((p) => p.netns === pod.netns);
  if (existing && (await wired(existing))) return existing;
  if (existing) {
    // Half made (a crash between namespace and ADD): release what the plugin may hold, start again.
    await invokeCni(ctx, 'DEL', node, pod, existing.containerId).catch(() => undefined);
  }
  await createNamespace(pod.netns);
  const kube = datastoreOf(ctx.state) === 'kubernetes';
  if (kube) await ensureKubePod(ctx.dir, { namespace: pod.namespace, name: pod.name, node: node.name, labels: pod.labels });
  const started = Date.now();
  const out = await invokeCni(ctx, 'ADD', node, pod, id);
  const { ip, iface } = parseCniResult(out);
  if (kube && ip) await setKubePodStatus(ctx.dir, pod, ip);
  const rec: PodRecord = {
    name: pod.name,
    namespace: pod.namespace,
    node: node.name,
    netns: pod.netns,
    containerId: id,
    labels: { ...pod.labels },
    ...(ip ? { ip } : {}),
    ...(iface ? { iface } : {}),
  };
  ctx.state.pods = [...ctx.state.pods.filter((p) => p.netns !== pod.netns), rec];
  ctx.log.info(`pod ${pod.namespace}/${pod.name} on ${node.name}: ${ip ?? 'no address'} via ${iface ?? '?'} (CNI ADD ${Date.now() - started} ms)`);
  return rec;
}
