/**
 * `cattail lab up --engine kubernetes`: a real Kubernetes cluster in a box. The control plane in
 * its namespace on the fabric (kube-control-plane.ts); per node a network namespace on the same
 * fabric with its own mount namespace, containerd and kubelet (kube-node.ts), the lab's images
 * imported into each containerd (kube-images.ts), the node's CNI directories filled; every
 * process of a node in the node's cgroup (cgroups.ts), so `down` finds all of it.
 *
 *   fabric ctlab-<id>-fab, br0 172.31.<o>.254/24
 *     │pcp                    │p1                         │p2
 *   ctlab-<id>-cp .250       ctlab-<id>-n1 .1            ctlab-<id>-n2 .2
 *   etcd, kube-apiserver,    holder (mount ns), containerd, kubelet → Node node-1, node-2 …
 *   scheduler, controller-   pods: sandboxes by containerd (pause), network by the CNI plugin
 *   manager                  hostNetwork pods: in the node's namespace
 *
 * Like the netns engine, `up` converges: each step checks before it acts, so running it again
 * restarts what died and adds nodes; it never removes any.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabUsageError } from './errors.js';
import { save, type LabContext } from './context.js';
import { requireTools, until } from './exec.js';
import { ensureFabric, ensureFabricHost, ensureNodeNamespace } from './fabric.js';
import { kubeconfigPath, labKubectl } from './kube.js';
import { ensureControlPlane, inClusterApiserver } from './kube-control-plane.js';
import { ensureImageArchives } from './kube-images.js';
import { containerdSocket, ctr, ensureContainerd, ensureKubelet, ensureNodeCni, ensureNodeHolder, nodeCgroup, type LabCni } from './kube-node.js';
import type { ClusterPki } from './kube-pki.js';
import { isOurs, logTail } from './processes.js';
import { addUnique, type NodeRecord } from './state.js';

export const KUBE_ENGINE_TOOLS = ['ip', 'nsenter', 'unshare', 'mount', 'containerd', 'ctr', 'runc', 'etcd', 'openssl', 'tar'] as const;

export interface KubeUpOptions {
  nodes: number;
  /** The CNI the lab installs on each node (default bridge). */
  cni?: LabCni;
  /** How long to wait for every Node to be Ready (default 180 s). */
  readyTimeoutMs?: number;
}

/**
 * Each node mounts its own /run and overlays on /etc, /opt and /var: a state dir below one of
 * them would be hidden from the node (or be an overlay's upper dir inside its lower one).
 */
export function checkStateDir(dir: string): void {
  const abs = resolve(dir);
  const under = NODE_PRIVATE_DIRS.find((d) => abs === d || abs.startsWith(`${d}/`));
  if (under)
    throw new LabUsageError(
      `--dir ${abs} is under ${under}, which every kubernetes-engine node mounts its own of: choose a state dir elsewhere (e.g. under /tmp)`,
    );
}

const NODE_PRIVATE_DIRS = ['/run', '/var', '/etc', '/opt'];

export async function upKubernetes(ctx: LabContext, o: KubeUpOptions): Promise<void> {
  checkStateDir(ctx.dir);
  requireTools(KUBE_ENGINE_TOOLS);
  const s = ctx.state;
  const names = ctx.names;
  s.cluster ??= { cni: o.cni ?? 'bridge' };
  await ensureFabric(names);
  addUnique(s.namespaces, names.fabricNs);
  addUnique(s.links, `${names.fabricNs}:br0`);
  await ensureFabricHost(names, {
    ns: names.controlPlaneNs,
    address: names.controlPlaneAddress,
    port: names.controlPlanePort,
    tempLink: names.controlPlaneTempLink,
  });
  addUnique(s.namespaces, names.controlPlaneNs);
  addUnique(s.links, `${names.controlPlaneNs}:eth0`);
  addUnique(s.links, `${names.fabricNs}:${names.controlPlanePort}`);
  save(ctx);
  const pki = await ensureControlPlane(ctx);
  const images = await ensureImageArchives(join(ctx.dir, 'images'));
  for (const [ref, archive] of Object.entries(s.cluster.images ?? {})) images.set(ref, archive);
  const count = Math.max(o.nodes, s.nodes.length);
  for (let i = 1; i <= count; i++) await ensureKubeNode(ctx, i, pki, images, s.cluster.cni);
  // With no CNI of the lab's, a Node is NotReady until a chart installs one: then only registered.
  await waitNodesReady(ctx, o.readyTimeoutMs ?? 180_000, { registeredOnly: s.cluster.cni === 'none' });
}

async function ensureKubeNode(ctx: LabContext, i: number, pki: ClusterPki, images: Map<string, string>, cni: LabCni): Promise<NodeRecord> {
  const s = ctx.state;
  let node = s.nodes.find((n) => n.index === i);
  if (!node) {
    node = {
      index: i,
      name: ctx.names.nodeName(i),
      netns: ctx.names.nodeNs(i),
      address: ctx.names.nodeAddress(i),
      felixHealthPort: 0,
      confdHealthPort: 0,
      birdConfig: '',
      birdSocket: '',
    };
    s.nodes.push(node);
    s.nodes.sort((a, b) => a.index - b.index);
  }
  await ensureNodeNamespace(ctx.names, i);
  addUnique(s.namespaces, node.netns);
  addUnique(s.links, `${node.netns}:eth0`);
  addUnique(s.links, `${ctx.names.fabricNs}:${ctx.names.fabricPort(i)}`);
  save(ctx);
  const holder = await ensureNodeHolder(ctx, node);
  await ensureContainerd(ctx, node, holder);
  const have = new Set((await ctr(ctx, node, ['images', 'ls', '-q'])).split('\n').filter(Boolean));
  for (const [ref, archive] of images) if (!have.has(ref)) await ctr(ctx, node, ['images', 'import', archive], 120_000);
  for (const [full, ref] of Object.entries(ctx.state.cluster?.tags ?? {})) if (!have.has(full)) await ctr(ctx, node, ['images', 'tag', '--force', ref, full]);
  ensureNodeCni(node, holder, cni);
  await ensureKubelet(ctx, node, holder, pki, inClusterApiserver(ctx).url);
  save(ctx);
  return node;
}

/**
 * Imports an OCI (or Docker) image archive into every node's containerd (`ctr images import`)
 * and remembers it, so a node that starts over or joins later gets it too. Returns the image
 * names the archive held (containerd's `io.containerd.image.name`, or the ref name).
 */
export async function importImage(ctx: LabContext, archive: string): Promise<string[]> {
  const path = resolve(archive);
  if (!existsSync(path)) throw new LabUsageError(`image archive ${path} does not exist`);
  if (ctx.state.nodes.length === 0) throw new LabUsageError('the lab has no nodes to import into: `lab up --engine kubernetes` first');
  let refs: string[] = [];
  for (const node of ctx.state.nodes) {
    const out = await ctr(ctx, node, ['images', 'import', path], 300_000);
    // `unpacking <ref> (sha256:…)...done`, one line per image.
    refs = [...out.matchAll(/^unpacking (\S+) \(sha256:/gm)].map((m) => m[1]);
  }
  if (refs.length === 0) throw new LabUsageError(`${path} holds no named image: give its index an io.containerd.image.name annotation`);
  ctx.state.cluster ??= { cni: 'bridge' };
  ctx.state.cluster.images ??= {};
  for (const ref of refs) ctx.state.cluster.images[ref] = path;
  save(ctx);
  return refs;
}

interface KubeNodeObject {
  metadata: { name: string };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** Ready per lab node, from the API server's Node objects (false when there is no Node yet). */
export async function nodeReadiness(ctx: LabContext): Promise<Map<string, { ready: boolean; reason: string }>> {
  const list = JSON.parse(await labKubectl(ctx.dir, ['get', 'nodes', '-o', 'json'])) as { items: KubeNodeObject[] };
  const out = new Map<string, { ready: boolean; reason: string }>();
  for (const n of ctx.state.nodes) {
    const obj = list.items.find((x) => x.metadata.name === n.name);
    const cond = obj?.status?.conditions?.find((c) => c.type === 'Ready');
    out.set(n.name, { ready: cond?.status === 'True', reason: obj ? `${cond?.reason ?? 'no Ready condition'}: ${cond?.message ?? ''}` : 'not registered' });
  }
  return out;
}

export async function waitNodesReady(ctx: LabContext, ms: number, opts: { registeredOnly?: boolean } = {}): Promise<void> {
  let last = '';
  await until(
    async () => {
      for (const role of Object.keys(ctx.state.processes).filter((r) => r.startsWith('kubelet/'))) {
        const rec = ctx.state.processes[role];
        if (!isOurs(ctx.names.prefix, rec)) throw new Error(`${role} exited; its log ${rec.log} ends:\n${logTail(rec.log, 2500)}`);
      }
      const r = await nodeReadiness(ctx).catch((err: Error) => new Map([['(api)', { ready: false, reason: err.message }]]));
      const notReady = [...r].filter(([, v]) => (opts.registeredOnly ? v.reason === 'not registered' : !v.ready));
      last = notReady.map(([k, v]) => `${k}: ${v.reason}`).join('; ');
      return notReady.length === 0;
    },
    opts.registeredOnly ? 'every Node to be registered' : 'every Node to be Ready',
    ms,
    () => last,
    500,
  );
  ctx.log.info(`${ctx.state.nodes.length} nodes ${opts.registeredOnly ? 'registered (NotReady until a CNI is installed)' : 'Ready'}`);
}

export interface KubeNodeStatus {
  name: string;
  netns: string;
  address: string;
  cgroup: string;
  containerdSocket: string;
  processes: Record<string, boolean>;
  ready: boolean;
  problems: string[];
}

export interface KubeLabStatus {
  name: string;
  engine: 'kubernetes';
  mode: string;
  datastore: 'kubernetes';
  kubeconfig: string;
  /** The API server as this machine reaches it (through the relay) and as nodes and pods do. */
  apiserver: { url: string; inCluster: string };
  controlPlane: { netns: string; address: string; processes: Record<string, boolean> };
  nodes: KubeNodeStatus[];
}

export async function kubeStatus(ctx: LabContext): Promise<KubeLabStatus> {
  const s = ctx.state;
  const alive = (role: string) => {
    const r = s.processes[role];
    return r !== undefined && isOurs(ctx.names.prefix, r);
  };
  const readiness = await nodeReadiness(ctx).catch(() => new Map<string, { ready: boolean; reason: string }>());
  return {
    name: ctx.names.id,
    engine: 'kubernetes',
    mode: s.mode,
    datastore: 'kubernetes',
    kubeconfig: kubeconfigPath(ctx.dir),
    apiserver: { url: `https://127.0.0.1:${s.kube?.port ?? 0}`, inCluster: inClusterApiserver(ctx).url },
    controlPlane: {
      netns: ctx.names.controlPlaneNs,
      address: ctx.names.controlPlaneAddress,
      processes: Object.fromEntries(['etcd', 'kube-apiserver', 'api-relay', 'kube-scheduler', 'kube-controller-manager'].map((r) => [r, alive(r)])),
    },
    nodes: s.nodes.map((n) => {
      const processes = Object.fromEntries(['node', 'containerd', 'kubelet'].map((r) => [r, alive(`${r}/${n.name}`)]));
      const rd = readiness.get(n.name);
      const problems = [
        ...Object.entries(processes)
          .filter(([, up]) => !up)
          .map(([r]) => `${r} is not running`),
        ...(rd && !rd.ready ? [`not Ready (${rd.reason})`] : []),
        ...(existsSync(containerdSocket(ctx, n)) ? [] : ['no containerd socket']),
      ];
      return {
        name: n.name,
        netns: n.netns,
        address: n.address,
        cgroup: nodeCgroup(ctx, n),
        containerdSocket: containerdSocket(ctx, n),
        processes,
        ready: rd?.ready ?? false,
        problems,
      };
    }),
  };
}

export function formatKubeStatus(st: KubeLabStatus): string {
  const lines = [
    `lab ${st.name}: kubernetes engine, kubeconfig ${st.kubeconfig}`,
    `  control plane ${st.controlPlane.netns} ${st.controlPlane.address}: ${Object.entries(st.controlPlane.processes)
      .map(([r, up]) => `${r} ${up ? 'up' : 'DOWN'}`)
      .join(', ')}`,
    `  API server ${st.apiserver.url} (in the cluster: ${st.apiserver.inCluster})`,
  ];
  for (const n of st.nodes) {
    lines.push(`  ${n.name} ${n.address} ${n.ready ? 'Ready' : 'NotReady'}${n.problems.length ? `  problems: ${n.problems.join('; ')}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
