/**
 * `lab status`: what each node is doing, read from the real sources — BIRD's sessions through
 * birdc, the node namespace's kernel routes, the WorkloadEndpoints in etcd, Felix's /status
 * (its Typha connection and revision) and each Typha replica's /status (its clients per node,
 * with their state and lag).
 *
 *   {"mode", "datastore", "etcd", "kubeconfig"? (kubernetes), "typhas": [{index, address, up, ready, revision, connections}],
 *    "nodes": [{"name", "netns", "address", "processes": {felix, confd, bird, relay},
 *               "bgpSessions": [{"peer", "state"}], "routes": [{dst, gateway?, dev?, protocol?, type?}],
 *               "endpoints": [{pod, namespace, ip, iface}],
 *               "typha": {connected, server, revision, inSync, revisionLag},
 *               "typhaClients": [{replica, syncer, state, lagMs, revision}]}]}
 */
import type { Datastore } from '@cattail/datastore';
import type { LabContext } from './context.js';
import { run } from './exec.js';
import { bgpSessions } from './node-agents.js';
import { httpJson } from './ports.js';
import { isOurs } from './processes.js';
import { datastoreOf, type NodeRecord } from './state.js';
import { kubeconfigPath } from './kube.js';
import { formatTable } from './table.js';

export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
}

export interface NodeStatus {
  name: string;
  netns: string;
  address: string;
  processes: Record<string, boolean>;
  bgpSessions: Array<{ peer: string; state: string }>;
  routes: RouteInfo[];
  endpoints: Array<{ pod: string; namespace: string; ip: string; iface: string }>;
  typha: { connected: boolean; server?: string; revision: number; inSync: boolean; revisionLag?: number } | null;
  typhaClients: Array<{ replica: number; syncer: string; state: string; lagMs: number; revision: number }>;
  problems: string[];
}

export interface TyphaInfo {
  index: number;
  address: string;
  up: boolean;
  ready: boolean;
  revision?: number;
  connections?: Record<string, number>;
}

export interface LabStatus {
  name: string;
  mode: string;
  /** etcdv3, or kubernetes (then `kubeconfig` is the admin kubeconfig's path). */
  datastore: string;
  etcd: string;
  kubeconfig?: string;
  typhas: TyphaInfo[];
  nodes: NodeStatus[];
}

interface TyphaStatusDoc {
  ready: boolean;
  revision: number;
  connections: Record<string, number>;
  clients: Array<{ node: string; syncer: string | null; state: string; lagMs: number; revision: number }>;
}

interface FelixStatusDoc {
  typha: { connected: boolean; revision: number; server?: string };
  inSync: boolean;
}

export async function kernelRoutes(netns: string): Promise<RouteInfo[]> {
  const raw = JSON.parse(await run('ip', ['-n', netns, '-j', 'route', 'show'])) as Array<Record<string, unknown>>;
  return raw.map((r) => {
    const out: RouteInfo = { dst: String(r.dst) };
    if (typeof r.gateway === 'string') out.gateway = r.gateway;
    if (typeof r.dev === 'string') out.dev = r.dev;
    if (typeof r.protocol === 'string') out.protocol = r.protocol;
    if (typeof r.type === 'string') out.type = r.type;
    return out;
  });
}

async function endpointsByNode(ds: Datastore): Promise<Map<string, NodeStatus['endpoints']>> {
  const out = new Map<string, NodeStatus['endpoints']>();
  const { items } = await ds.list('WorkloadEndpoint');
  for (const w of items) {
    const s = w.spec as { node?: string; pod?: string; interfaceName?: string; ipNetworks?: string[] };
    const list = out.get(s.node ?? '') ?? [];
    list.push({
      pod: s.pod ?? w.metadata.name,
      namespace: w.metadata.namespace ?? '',
      ip: (s.ipNetworks?.[0] ?? '').split('/')[0],
      iface: s.interfaceName ?? '',
    });
    out.set(s.node ?? '', list);
  }
  return out;
}

async function nodeStatus(
  ctx: LabContext,
  node: NodeRecord,
  eps: Map<string, NodeStatus['endpoints']> | undefined,
  typhas: Array<{ index: number; doc: TyphaStatusDoc | undefined }>,
): Promise<NodeStatus> {
  const problems: string[] = [];
  const alive = (role: string) => {
    const rec = ctx.state.processes[`${role}/${node.name}`];
    return rec !== undefined && isOurs(ctx.names.prefix, rec);
  };
  const processes: Record<string, boolean> = { felix: alive('felix'), relay: alive('relay') };
  if (ctx.state.mode === 'bgp') Object.assign(processes, { confd: alive('confd'), bird: alive('bird') });
  let sessions: NodeStatus['bgpSessions'] = [];
  if (processes.bird) {
    try {
      sessions = (await bgpSessions(node)).map((s) => ({ peer: s.peer, state: s.state }));
    } catch (err) {
      problems.push(`birdc: ${(err as Error).message}`);
    }
  }
  let routes: RouteInfo[] = [];
  try {
    routes = await kernelRoutes(node.netns);
  } catch (err) {
    problems.push(`routes: ${(err as Error).message}`);
  }
  const felix = processes.felix ? await httpJson<FelixStatusDoc>(node.felixHealthPort, '/status') : undefined;
  const maxRevision = Math.max(0, ...typhas.map((t) => t.doc?.revision ?? 0));
  const typha: NodeStatus['typha'] = felix
    ? {
        connected: felix.typha.connected,
        ...(felix.typha.server ? { server: felix.typha.server } : {}),
        revision: felix.typha.revision,
        inSync: felix.inSync,
        ...(maxRevision ? { revisionLag: Math.max(0, maxRevision - felix.typha.revision) } : {}),
      }
    : null;
  const typhaClients: NodeStatus['typhaClients'] = [];
  for (const t of typhas) {
    for (const c of t.doc?.clients ?? []) {
      if (c.node === node.name) typhaClients.push({ replica: t.index, syncer: c.syncer ?? '', state: c.state, lagMs: c.lagMs, revision: c.revision });
    }
  }
  for (const [p, up] of Object.entries(processes)) if (!up) problems.push(`${p} is not running`);
  return {
    name: node.name,
    netns: node.netns,
    address: node.address,
    processes,
    bgpSessions: sessions,
    routes,
    endpoints: eps?.get(node.name) ?? [],
    typha,
    typhaClients,
    problems,
  };
}

export async function collectStatus(ctx: LabContext, ds: Datastore | undefined): Promise<LabStatus> {
  const typhaDocs = await Promise.all(ctx.state.typhas.map(async (t) => ({ index: t.index, t, doc: await httpJson<TyphaStatusDoc>(t.healthPort, '/status') })));
  let eps: Map<string, NodeStatus['endpoints']> | undefined;
  if (ds) eps = await endpointsByNode(ds).catch(() => undefined);
  const nodes = await Promise.all(ctx.state.nodes.map((n) => nodeStatus(ctx, n, eps, typhaDocs)));
  return {
    name: ctx.names.id,
    mode: ctx.state.mode,
    datastore: datastoreOf(ctx.state),
    etcd: `http://127.0.0.1:${ctx.state.etcd.clientPort}`,
    ...(datastoreOf(ctx.state) === 'kubernetes' ? { kubeconfig: kubeconfigPath(ctx.dir) } : {}),
    typhas: typhaDocs.map(({ index, t, doc }) => {
      const rec = ctx.state.processes[`typha-${index}`];
      return {
        index,
        address: `127.0.0.1:${t.port}`,
        up: rec !== undefined && isOurs(ctx.names.prefix, rec),
        ready: doc?.ready ?? false,
        ...(doc ? { revision: doc.revision, connections: doc.connections } : {}),
      };
    }),
    nodes,
  };
}

/** The human form of {@link LabStatus}. */
export function formatStatus(s: LabStatus): string {
  const parts: string[] = [];
  parts.push(`lab ${s.name} (${s.mode} mode, ${s.datastore}), etcd ${s.etcd}${s.kubeconfig ? `, kubeconfig ${s.kubeconfig}` : ''}\n`);
  parts.push(
    formatTable(
      ['TYPHA', 'ADDRESS', 'UP', 'READY', 'REVISION', 'FELIX', 'BGP'],
      s.typhas.map((t) => [
        String(t.index),
        t.address,
        t.up ? 'yes' : 'no',
        t.ready ? 'yes' : 'no',
        String(t.revision ?? '-'),
        String(t.connections?.felix ?? '-'),
        String(t.connections?.bgp ?? '-'),
      ]),
    ),
  );
  for (const n of s.nodes) {
    parts.push(
      `\n${n.name}  ${n.address}  netns ${n.netns}  ${Object.entries(n.processes)
        .map(([k, v]) => `${k}:${v ? 'up' : 'DOWN'}`)
        .join(' ')}\n`,
    );
    const t = n.typha;
    const clients = n.typhaClients.map((c) => `${c.syncer}→typha-${c.replica} ${c.state} lag ${c.lagMs}ms`).join(', ');
    parts.push(
      `  typha: ${t ? `felix ${t.connected ? 'connected' : 'DISCONNECTED'} at revision ${t.revision}${t.revisionLag !== undefined ? ` (${t.revisionLag} behind)` : ''}` : 'felix not answering'}${clients ? `; ${clients}` : ''}\n`,
    );
    if (s.mode === 'bgp') parts.push(`  bgp: ${n.bgpSessions.length ? n.bgpSessions.map((b) => `${b.peer} ${b.state}`).join(', ') : 'no sessions'}\n`);
    const interesting = n.routes.filter((r) => r.protocol === 'bird' || r.protocol === '80' || r.type === 'blackhole' || r.dev === 'vxlan.calico');
    parts.push(`  routes (bird/felix): ${interesting.length ? '' : 'none'}\n`);
    for (const r of interesting)
      parts.push(
        `    ${r.type && r.type !== 'unicast' ? `${r.type} ` : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.protocol ? ` proto ${r.protocol}` : ''}\n`,
      );
    parts.push(`  endpoints: ${n.endpoints.length ? n.endpoints.map((e) => `${e.namespace}/${e.pod} ${e.ip} (${e.iface})`).join(', ') : 'none'}\n`);
    if (n.problems.length) parts.push(`  problems: ${n.problems.join('; ')}\n`);
  }
  return parts.join('');
}
