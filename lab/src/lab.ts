/**
 * The lab: a cluster in a box. `up` builds it (or converges an existing one: every step checks
 * before it acts), `down` removes all of it, `status` and `probe` look at it. The CLI
 * (`cattail lab`) and the end-to-end tests both drive this class.
 *
 *  root namespace, 127.0.0.1                      fabric ctlab-<id>-fab (br0 172.31.<o>.254/24)
 *  ┌──────────────────────────────────────┐         │                 │                 │
 *  │ etcd ◀── typha-1, typha-2            │      eth0 .1           eth0 .2           eth0 .3
 *  │ cattail felix ×N (FELIX_NETNS) ──────┼──▶ ┌─ node-1 ──────┐ ┌─ node-2 ─────┐ ┌─ node-3 ─────┐
 *  │ cattail confd ×N ─ bird.cfg, birdc ──┼──▶ │ BIRD ◀─BGP────┼─┼▶ BIRD ◀──────┼─┼▶ BIRD        │
 *  │ loopback relay ×N (etcd for the CNI) ┼──▶ │ cali… ─ pods  │ │ cali… ─ pods │ │ cali… ─ pods │
 *  └──────────────────────────────────────┘    └───────────────┘ └──────────────┘ └──────────────┘
 *                                               and on the fabric, outside every pool: ctlab-<id>-ext (.253)
 *
 * Nothing is created in the root namespace but processes and files under the state dir.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Datastore } from '@cattail/datastore';
import { ensureKubeApiServer, ensureKubeNode, kubeconfigPath, labKubectl } from './kube.js';
import { ensureEtcd, ensureTypha, ensureTyphas, killTypha } from './control-plane.js';
import { DEFAULT_CATTAIL_BIN, DEFAULT_CNI_BIN, logsDir, save, silentLogger, type LabContext, type LabLogger } from './context.js';
import { LabCommandError, LabStateError, LabUsageError } from './errors.js';
import { KubeStartError } from '@cattail/datastore/testing';
import { requireTools, until } from './exec.js';
import { ensureExternalHost, probeExternal, type ExternalProbe } from './external.js';
import { deleteNamespace, ensureFabric, ensureNodeNamespace, listNamespaces, namespacePids } from './fabric.js';
import { LabNames, type LabMode } from './names.js';
import { bgpSessions, ensureBird, ensureConfd, ensureFelix, ensureRelay, nodeDir, waitFelixReady } from './node-agents.js';
import { reconcileTunnelAddresses } from '@cattail/startup';
import { DEFAULT_POOL_CIDR, ensureClusterResources, ensureNodeResource, openDatastore } from './node-setup.js';
import { ensurePod } from './pods.js';
import { probe, type ProbeOptions, type ProbeResult } from './probe.js';
import { findLabProcesses, procStat, stopProcess } from './processes.js';
import { collectStatus, kernelRoutes, type LabStatus } from './status.js';
import { addUnique, datastoreOf, engineOf, readState, STATE_VERSION, type LabDatastore, type LabEngine, type LabState, type NodeRecord } from './state.js';
import { removeCgroupTree } from './cgroups.js';
import { checkStateDir, importImage, kubeStatus, upKubernetes, type KubeLabStatus } from './kube-cluster.js';
import type { LabCni } from './kube-node.js';
import { installCattail, type InstallOptions, type InstallReport } from './kube-chart.js';
import { kubePods } from './kube-pods.js';

export interface LabOptions {
  /** The lab's name: its prefix is `ctlab-<id>`. */
  id: string;
  /** State dir: state.json, logs, etcd data, BIRD files. */
  dir: string;
  cattailBin?: string;
  cniBin?: string;
  log?: LabLogger;
}

export interface UpOptions {
  nodes: number;
  podsPerNode: number;
  mode: LabMode;
  /** Where Calico's data lives (default etcdv3). */
  datastore?: LabDatastore;
  /** Wait until every BGP session is Established (BGP mode) and every node routes every other node's blocks. Default true. */
  waitForMesh?: boolean;
  /** netns (default): the agents as processes and pods as namespaces; kubernetes: kubelets and containerd (kube-cluster.ts). */
  engine?: LabEngine;
  /** `--engine kubernetes`: the CNI the lab installs on each node (default bridge). */
  cni?: LabCni;
}

export interface DownReport {
  processes: number;
  namespaces: string[];
}

export const REQUIRED_TOOLS = ['ip', 'nft', 'bird', 'birdc', 'etcd', 'ping'] as const;

export class Lab {
  readonly names: LabNames;
  readonly dir: string;
  readonly #cattailBin: string;
  readonly #cniBin: string;
  readonly #log: LabLogger;
  #state: LabState | undefined;
  #ds: Datastore | undefined;

  constructor(opts: LabOptions) {
    this.names = new LabNames(opts.id);
    this.dir = opts.dir;
    this.#cattailBin = opts.cattailBin ?? DEFAULT_CATTAIL_BIN;
    this.#cniBin = opts.cniBin ?? DEFAULT_CNI_BIN;
    this.#log = opts.log ?? silentLogger;
    this.#state = readState(opts.dir);
    if (this.#state && this.#state.prefix !== this.names.prefix) {
      throw new LabStateError(`${opts.dir} holds lab ${this.#state.id}, not ${opts.id}`);
    }
  }

  /** The state, or undefined before the first `up`. */
  get state(): LabState | undefined {
    return this.#state;
  }

  #ctx(): LabContext {
    if (!this.#state) throw new LabStateError(`no lab "${this.names.id}" in ${this.dir}: run \`cattail lab up\` first`);
    return { names: this.names, dir: this.dir, state: this.#state, cattailBin: this.#cattailBin, cniBin: this.#cniBin, log: this.#log };
  }

  /** The lab's datastore, etcd or the API server (opened once, closed by close()). */
  datastore(): Datastore {
    this.#ds ??= openDatastore(this.#ctx().state, this.dir);
    return this.#ds;
  }

  /** kubectl against the lab's API server (a `kubernetes` lab only). */
  async kubectl(args: readonly string[], input?: string): Promise<string> {
    if (datastoreOf(this.#ctx().state) !== 'kubernetes')
      throw new LabUsageError(`lab ${this.names.id} runs on etcd: there is no API server (\`lab up --datastore kubernetes\`)`);
    try {
      return await labKubectl(this.dir, args, input);
    } catch (err) {
      // kubectl's own failure (a bad argument, a refused request) is the user's to read, not a bug of the lab.
      if (err instanceof KubeStartError) throw new LabCommandError(err.message, '', { cause: err });
      throw err;
    }
  }

  /** The admin kubeconfig of a `kubernetes` lab. */
  kubeconfig(): string | undefined {
    return datastoreOf(this.#ctx().state) === 'kubernetes' ? kubeconfigPath(this.dir) : undefined;
  }

  async close(): Promise<void> {
    const ds = this.#ds;
    this.#ds = undefined;
    await ds?.close();
  }

  #newState(o: UpOptions): LabState {
    return {
      version: STATE_VERSION,
      id: this.names.id,
      prefix: this.names.prefix,
      mode: o.mode,
      ...(o.engine === 'kubernetes' ? { engine: 'kubernetes' as const } : {}),
      datastore: o.engine === 'kubernetes' ? 'kubernetes' : (o.datastore ?? 'etcdv3'),
      createdAt: new Date().toISOString(),
      podsPerNode: o.podsPerNode,
      poolCidr: DEFAULT_POOL_CIDR,
      etcd: { clientPort: 0, peerPort: 0, dataDir: join(this.dir, 'etcd') },
      typhas: [],
      nodes: [],
      pods: [],
      processes: {},
      namespaces: [],
      links: [],
    };
  }

  /** Builds the lab, or brings an existing one to what `o` asks (it only ever adds). */
  async up(o: UpOptions): Promise<LabState> {
    if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 200) throw new LabUsageError(`--nodes must be 1..200, got ${o.nodes}`);
    if (!Number.isInteger(o.podsPerNode) || o.podsPerNode < 0 || o.podsPerNode > 50)
      throw new LabUsageError(`--pods-per-node must be 0..50, got ${o.podsPerNode}`);
    if (this.#state && o.engine !== undefined && engineOf(this.#state) !== o.engine) {
      throw new LabUsageError(`lab ${this.names.id} runs on the ${engineOf(this.#state)} engine; \`cattail lab down\` first to change to ${o.engine}`);
    }
    if ((o.engine ?? (this.#state ? engineOf(this.#state) : 'netns')) === 'kubernetes') return this.#upKubernetes(o);
    requireTools(REQUIRED_TOOLS);
    if (this.#state && this.#state.mode !== o.mode) {
      throw new LabUsageError(`lab ${this.names.id} runs in ${this.#state.mode} mode; \`cattail lab down\` first to change to ${o.mode}`);
    }
    if (this.#state && o.datastore !== undefined && datastoreOf(this.#state) !== o.datastore) {
      throw new LabUsageError(`lab ${this.names.id} runs on ${datastoreOf(this.#state)}; \`cattail lab down\` first to change to ${o.datastore}`);
    }
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    this.#state ??= this.#newState(o);
    const ctx = this.#ctx();
    const s = ctx.state;
    s.podsPerNode = Math.max(s.podsPerNode, o.podsPerNode);
    save(ctx);

    await ensureFabric(this.names);
    addUnique(s.namespaces, this.names.fabricNs);
    addUnique(s.links, `${this.names.fabricNs}:br0`);
    await ensureExternalHost(this.names);
    addUnique(s.namespaces, this.names.externalNs);
    addUnique(s.links, `${this.names.externalNs}:eth0`);
    addUnique(s.links, `${this.names.fabricNs}:${this.names.externalPort}`);
    save(ctx);
    await ensureEtcd(ctx);
    if (datastoreOf(s) === 'kubernetes') await ensureKubeApiServer(ctx);
    await ensureTyphas(ctx);
    const ds = this.datastore();
    await ensureClusterResources(ds, s);

    const count = Math.max(o.nodes, s.nodes.length);
    for (let i = 1; i <= count; i++) await this.#ensureNode(ctx, ds, i);
    await Promise.all(s.nodes.map((n) => waitFelixReady(ctx, n)));

    await Promise.all(
      s.nodes.map(async (n) => {
        for (let j = 1; j <= s.podsPerNode; j++) {
          await ensurePod(ctx, n, this.names.pod(n.index, j));
          save(ctx);
        }
      }),
    );
    s.pods.sort((a, b) => a.netns.localeCompare(b.netns, 'en', { numeric: true }));
    save(ctx);
    if (o.waitForMesh !== false) {
      if (s.mode === 'bgp') await this.waitForMesh();
      await this.waitForRoutes();
    }
    return s;
  }

  /** `--engine kubernetes`: the control plane, and per node containerd and a kubelet (kube-cluster.ts); no pods of its own. */
  async #upKubernetes(o: UpOptions): Promise<LabState> {
    checkStateDir(this.dir);
    if (o.podsPerNode > 0 && !this.#state) this.#log.info('--engine kubernetes makes no pods of its own: the chart and the tests schedule them');
    if (this.#state && o.mode !== this.#state.mode) {
      throw new LabUsageError(`lab ${this.names.id} runs in ${this.#state.mode} mode; \`cattail lab down\` first to change to ${o.mode}`);
    }
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    this.#state ??= this.#newState({ ...o, podsPerNode: 0 });
    const ctx = this.#ctx();
    save(ctx);
    await upKubernetes(ctx, { nodes: o.nodes, ...(o.cni ? { cni: o.cni } : {}) });
    save(ctx);
    return ctx.state;
  }

  /** `--engine kubernetes`: imports an image archive into every node (and into nodes added later). */
  async importImage(archive: string): Promise<string[]> {
    const ctx = this.#ctx();
    if (engineOf(ctx.state) !== 'kubernetes') throw new LabUsageError(`lab ${this.names.id} has no container runtime: images are for \`--engine kubernetes\``);
    return importImage(ctx, archive);
  }

  /** The engine of an existing lab. */
  get engine(): LabEngine {
    return engineOf(this.#ctx().state);
  }

  async #ensureNode(ctx: LabContext, ds: Datastore, i: number): Promise<NodeRecord> {
    const s = ctx.state;
    let node = s.nodes.find((n) => n.index === i);
    if (!node) {
      const name = this.names.nodeName(i);
      const dir = nodeDir(ctx, name);
      node = {
        index: i,
        name,
        netns: this.names.nodeNs(i),
        address: this.names.nodeAddress(i),
        felixHealthPort: 0,
        confdHealthPort: 0,
        birdConfig: join(dir, 'bird.cfg'),
        birdSocket: join(dir, 'bird.ctl'),
      };
      s.nodes.push(node);
      s.nodes.sort((a, b) => a.index - b.index);
    }
    mkdirSync(nodeDir(ctx, node.name), { recursive: true });
    await ensureNodeNamespace(this.names, i);
    addUnique(s.namespaces, node.netns);
    addUnique(s.links, `${node.netns}:eth0`);
    addUnique(s.links, `${this.names.fabricNs}:${this.names.fabricPort(i)}`);
    save(ctx);
    // The Node first, as calico/node writes it at start: IPAM allocates only for a known node.
    // Then the tunnel address, recorded on the Node (the node start-up's allocation: held
    // while a VXLAN pool serves the node, released otherwise).
    if (datastoreOf(s) === 'kubernetes') await ensureKubeNode(ctx.dir, node.name);
    await ensureNodeResource(ds, node);
    const tunnels = await reconcileTunnelAddresses(ds, node.name);
    if (node.vxlanTunnelAddr !== tunnels.v4) {
      node.vxlanTunnelAddr = tunnels.v4;
      save(ctx);
    }
    await ensureRelay(ctx, node);
    await ensureFelix(ctx, node);
    if (s.mode === 'bgp') {
      await ensureConfd(ctx, node);
      await ensureBird(ctx, node);
    }
    save(ctx);
    return node;
  }

  /** Adds node N+1 with the lab's pods per node; returns it. */
  async addNode(): Promise<NodeRecord> {
    const s = this.#ctx().state;
    await this.up({ nodes: s.nodes.length + 1, podsPerNode: s.podsPerNode, mode: s.mode, datastore: datastoreOf(s) });
    return s.nodes[s.nodes.length - 1];
  }

  /** Every node has a BGP session to every other node, all Established. */
  async meshEstablished(): Promise<string | undefined> {
    const s = this.#ctx().state;
    for (const n of s.nodes) {
      const sessions = await bgpSessions(n).catch(() => []);
      const peers = new Map(sessions.map((x) => [x.peer, x.state]));
      for (const o of s.nodes) {
        if (o === n) continue;
        const st = peers.get(o.address);
        if (st !== 'Established') return `${n.name} → ${o.name} (${o.address}): ${st ?? 'no session'}`;
      }
    }
    return undefined;
  }

  async waitForMesh(ms = 60_000): Promise<void> {
    let last: string | undefined;
    await until(
      async () => (last = await this.meshEstablished()) === undefined,
      'every BGP session to be Established',
      ms,
      () => last ?? '',
    );
  }

  /**
   * Every node routes every block affine to another node toward that node: via its fabric
   * address (BIRD, BGP mode) or its VTEP on vxlan.calico (Felix, VXLAN mode). Undefined when
   * so; else the first route missing.
   */
  async routesConverged(): Promise<string | undefined> {
    const s = this.#ctx().state;
    const { items } = await this.datastore().list('BlockAffinity');
    const blocks = items
      .map((a) => a.spec as { node?: string; cidr?: string; state?: string; deleted?: boolean | string })
      .filter((a) => a.state === 'confirmed' && a.deleted !== true && a.deleted !== 'true');
    for (const n of s.nodes) {
      const table = await kernelRoutes(n.netns);
      for (const b of blocks) {
        const owner = s.nodes.find((o) => o.name === b.node);
        if (!owner || owner === n) continue;
        const via = s.mode === 'vxlan' ? owner.vxlanTunnelAddr : owner.address;
        const r = table.find((x) => x.dst === b.cidr);
        if (r?.gateway !== via) return `${n.name}: ${b.cidr} should go via ${owner.name} (${via}), got ${r ? JSON.stringify(r) : 'no route'}`;
      }
    }
    return undefined;
  }

  async waitForRoutes(ms = 60_000): Promise<void> {
    let last: string | undefined;
    await until(
      async () => (last = await this.routesConverged()) === undefined,
      "every node to route every other node's blocks",
      ms,
      () => last ?? '',
    );
  }

  async status(): Promise<LabStatus> {
    const ctx = this.#ctx();
    if (engineOf(ctx.state) === 'kubernetes') throw new LabUsageError('a kubernetes-engine lab: use kubeStatus()');
    return collectStatus(ctx, this.datastore());
  }

  /** `lab status` of a `--engine kubernetes` lab: control plane, per node its processes and Ready. */
  async kubeStatus(): Promise<KubeLabStatus> {
    return kubeStatus(this.#ctx());
  }

  /** The reachability matrix: the lab's pods, or with `--engine kubernetes` every Running pod-network pod the API server lists. */
  async probe(opts: ProbeOptions = {}): Promise<ProbeResult[]> {
    const ctx = this.#ctx();
    return probe(engineOf(ctx.state) === 'kubernetes' ? await kubePods(ctx) : ctx.state.pods, opts);
  }

  /** `lab install`: the image into every node, then `helm upgrade --install` of the chart with the lab's values (kube-chart.ts). */
  async install(opts: InstallOptions): Promise<InstallReport> {
    return installCattail(this.#ctx(), opts);
  }

  /** Pings the external host (outside every pool) from every pod; reports the source it saw. */
  async probeExternal(opts: { concurrency?: number; timeoutSecs?: number } = {}): Promise<ExternalProbe> {
    if (this.engine === 'kubernetes') throw new LabUsageError('--external is built for the netns engine only: a kubernetes-engine lab has no external host');
    return probeExternal(this.names, this.#ctx().state.pods, opts);
  }

  /** Kills Typha replica `i` (1-based); SIGKILL unless told otherwise. */
  async killTypha(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<boolean> {
    return killTypha(this.#ctx(), i, signal);
  }

  /** Starts Typha replica `i` again on its port (or both, without `i`). */
  async startTypha(i?: number): Promise<void> {
    const ctx = this.#ctx();
    if (i === undefined) await ensureTyphas(ctx);
    else await ensureTypha(ctx, i);
  }

  /** Starts etcd again if it is not running. */
  async ensureEtcd(): Promise<void> {
    await ensureEtcd(this.#ctx());
  }

  logsDir(): string {
    return logsDir(this.#ctx());
  }

  /** Removes everything of this lab; works without (or with a broken) state file. */
  async down(opts: { keepDir?: boolean } = {}): Promise<DownReport> {
    await this.close();
    const report = await downLab(this.names, this.#tryState());
    this.#state = undefined;
    // keepDir leaves logs and state.json for a look; a later down on it finds nothing to stop.
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
    return report;
  }

  #tryState(): LabState | undefined {
    try {
      return this.#state ?? readState(this.dir);
    } catch {
      return undefined;
    }
  }
}

/**
 * Ends the lab's processes and deletes its namespaces: first the recorded processes (each
 * verified by start time and environment marker), then any other process carrying the lab's
 * marker (a crash between spawn and save), then whatever still runs inside the lab's
 * namespaces (they are ours by name), then the namespaces themselves (pods first, the fabric
 * last). Deleting a namespace removes the veths and bridge in it.
 */
export async function downLab(names: LabNames, state: LabState | undefined): Promise<DownReport> {
  let stopped = 0;
  // The kubelets first (or they would restart containers), then containerd; the control plane last.
  const order = (role: string) =>
    role.startsWith('bird/') || role.startsWith('kubelet/')
      ? 0
      : role.startsWith('confd/') || role.startsWith('felix/') || role.startsWith('containerd/')
        ? 1
        : role.startsWith('relay/') || role.startsWith('node/') || role === 'api-relay'
          ? 2
          : role.startsWith('typha') || role === 'kube-scheduler' || role === 'kube-controller-manager'
            ? 3
            : role === 'kube-apiserver'
              ? 4
              : 5;
  const recorded = Object.values(state?.processes ?? {}).sort((a, b) => order(a.role) - order(b.role));
  await Promise.all(recorded.filter((r) => order(r.role) < 1).map(async (r) => void ((await stopProcess(names.prefix, r, { graceMs: 3_000 })) && stopped++)));
  await Promise.all(recorded.filter((r) => order(r.role) === 1).map(async (r) => void ((await stopProcess(names.prefix, r, { graceMs: 3_000 })) && stopped++)));
  // A kubernetes-engine lab's nodes: every process in their cgroups (the kubelets, containerd,
  // its shims, containers in pod namespaces that nothing else finds), frozen and killed at once,
  // so no kubelet restarts a container meanwhile; then the cgroups themselves. Found by name, so
  // after a crash (no state file) too.
  stopped += await removeCgroupTree(`/${names.prefix}`);
  for (const r of recorded.filter((x) => order(x.role) >= 2)) if (await stopProcess(names.prefix, r, { graceMs: 3_000 })) stopped++;
  for (const r of findLabProcesses(names.prefix)) if (await stopProcess(names.prefix, r, { graceMs: 2_000 })) stopped++;
  // Again, for a node process that outlived the first sweep outside its cgroup (a lab made by
  // an older version) and made cgroups since.
  stopped += await removeCgroupTree(`/${names.prefix}`);
  const namespaces = (await listNamespaces()).filter((ns) => names.owns(ns));
  for (const ns of namespaces) {
    for (const pid of await namespacePids(ns)) {
      const st = procStat(pid);
      if (!st) continue;
      try {
        process.kill(pid, 'SIGKILL');
        stopped++;
      } catch {
        // gone
      }
    }
  }
  // Pods, then nodes, then the fabric.
  const rank = (ns: string) => (ns === names.fabricNs ? 2 : /-p\d+$/.test(ns) ? 0 : 1);
  namespaces.sort((a, b) => rank(a) - rank(b));
  const errors: string[] = [];
  for (const ns of namespaces) await deleteNamespace(ns).catch((err: Error) => errors.push(err.message));
  if (errors.length) throw new LabStateError(`could not delete every namespace: ${errors.join('; ')}`);
  return { processes: stopped, namespaces };
}
