/**
 * The per-node agents, as calico/node runs them:
 *
 *   root namespace                                       node namespace ctlab-<id>-n<i>
 *   cattail felix  (FELIX_NETNS=ctlab-<id>-n<i>) ──────▶ routes, sysctls, nftables, vxlan.calico
 *   cattail confd  ─▶ <dir>/nodes/<node>/bird.cfg ─────▶ bird -c bird.cfg -s bird.ctl (inside)
 *                  ─▶ birdc -s bird.ctl configure ─────▶ (the control socket is a file)
 *   loopback relay: root 127.0.0.1:<etcd> ─▶ unix socket ─▶ 127.0.0.1:<etcd> inside (for the CNI plugin)
 *
 * Felix and confd reach both Typha replicas on the root namespace's loopback. In VXLAN mode
 * there is no confd and no BIRD (calico/node's `CALICO_NETWORKING_BACKEND=vxlan`): Felix
 * programs the remote blocks through the VXLAN device, and BGP routes for the same blocks would
 * fight its routes.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK_RELAY_MAIN } from '@cattail/datastore/testing';
import { logSeverity, logsDir, save, type LabContext } from './context.js';
import { LabError } from './errors.js';
import { findOnPath, run, until } from './exec.js';
import { freePort, httpGet } from './ports.js';
import { isAlive, isOurs, logTail, spawnDetached } from './processes.js';
import { datastoreOf, etcdEndpoint, typhaAddrs, type LabState, type NodeRecord, type ProcessRecord } from './state.js';

/** What the CNI plugin inside a node namespace reaches on 127.0.0.1: etcd, or the API server. */
function relayPorts(s: LabState): number[] {
  return datastoreOf(s) === 'kubernetes' && s.kube ? [s.kube.port] : [s.etcd.clientPort];
}

export function nodeDir(ctx: LabContext, node: string): string {
  return join(ctx.dir, 'nodes', node);
}

/** Where the node's Felix writes the pod MTU and its CNI plugin reads it (Calico: /var/lib/calico/mtu). */
export function mtuFile(ctx: LabContext, node: Pick<NodeRecord, 'name'>): string {
  return join(nodeDir(ctx, node.name), 'mtu');
}

function running(ctx: LabContext, role: string): ProcessRecord | undefined {
  const rec = ctx.state.processes[role];
  return rec && isOurs(ctx.names.prefix, rec) ? rec : undefined;
}

function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function startFailed(what: string, log: string): LabError {
  return new LabError('LAB_START_FAILED', `${what} exited at start; log ${log}:\n${logTail(log, 1500)}`);
}

/** The loopback relay that makes etcd reachable inside the node namespace (for the CNI plugin). */
export async function ensureRelay(ctx: LabContext, node: NodeRecord): Promise<void> {
  const role = `relay/${node.name}`;
  if (running(ctx, role)) return;
  const dir = join(nodeDir(ctx, node.name), 'relay');
  mkdirSync(dir, { recursive: true });
  const log = join(logsDir(ctx), `relay-${node.name}.log`);
  const from = logSize(log);
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: [process.execPath, LOOPBACK_RELAY_MAIN, '--netns', node.netns, '--ports', relayPorts(ctx.state).join(','), '--dir', dir],
    env: process.env,
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  await until(
    () =>
      !isAlive(proc)
        ? 'exited'
        : readFileSync(log, 'utf8')
              .slice(from)
              .match(/^ready\b/m)
          ? 'ready'
          : undefined,
    `the loopback relay into ${node.netns}`,
    15_000,
    () => logTail(log, 600),
  ).then((v) => {
    if (v === 'exited') throw startFailed(`the loopback relay into ${node.netns}`, log);
  });
}

export async function ensureFelix(ctx: LabContext, node: NodeRecord): Promise<void> {
  const role = `felix/${node.name}`;
  if (running(ctx, role)) return;
  node.felixHealthPort = await freePort();
  const log = join(logsDir(ctx), `felix-${node.name}.log`);
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: [process.execPath, ctx.cattailBin, 'felix'],
    env: {
      ...process.env,
      NODENAME: node.name,
      FELIX_TYPHAADDR: typhaAddrs(ctx.state),
      FELIX_NETNS: node.netns,
      FELIX_HEALTHENABLED: 'true',
      FELIX_HEALTHHOST: '127.0.0.1',
      FELIX_HEALTHPORT: String(node.felixHealthPort),
      FELIX_DATAPLANEDEBOUNCEMS: '20',
      FELIX_MTUFILE: mtuFile(ctx, node),
      FELIX_REPORTINGINTERVALSECS: '5',
      FELIX_LOGSEVERITYSCREEN: logSeverity(),
      // Felix's status report goes to etcd; on the Kubernetes datastore Calico keeps none.
      ...(datastoreOf(ctx.state) === 'etcdv3' ? { ETCD_ENDPOINTS: etcdEndpoint(ctx.state) } : {}),
    },
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  ctx.log.info(`felix for ${node.name} started (pid ${proc.pid}, programs ${node.netns})`);
}

/** Felix says ready (in sync with Typha, dataplane programmed). */
async function felixReady(node: NodeRecord): Promise<boolean> {
  return (await httpGet(node.felixHealthPort, '/readiness'))?.status === 200;
}

export async function waitFelixReady(ctx: LabContext, node: NodeRecord, ms = 30_000): Promise<void> {
  const role = `felix/${node.name}`;
  const rec = ctx.state.processes[role];
  await until(
    async () => (!isAlive(rec) ? 'exited' : (await felixReady(node)) ? 'ready' : undefined),
    `felix on ${node.name} to be in sync`,
    ms,
    () => logTail(rec.log, 800),
  ).then((v) => {
    if (v === 'exited') throw startFailed(`felix on ${node.name}`, rec.log);
  });
}

export async function ensureConfd(ctx: LabContext, node: NodeRecord): Promise<void> {
  const role = `confd/${node.name}`;
  if (running(ctx, role)) return;
  mkdirSync(join(nodeDir(ctx, node.name), 'secrets'), { recursive: true });
  node.confdHealthPort = await freePort();
  const log = join(logsDir(ctx), `confd-${node.name}.log`);
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: [process.execPath, ctx.cattailBin, 'confd'],
    env: {
      ...process.env,
      NODENAME: node.name,
      CONFD_TYPHAADDR: typhaAddrs(ctx.state),
      CONFD_BIRDCONFIGFILE: node.birdConfig,
      CONFD_BIRDSOCKET: node.birdSocket,
      CONFD_SECRETSDIR: join(nodeDir(ctx, node.name), 'secrets'),
      CONFD_HEALTHENABLED: 'true',
      CONFD_HEALTHHOST: '127.0.0.1',
      CONFD_HEALTHPORT: String(node.confdHealthPort),
      CONFD_DEBOUNCEMS: '50',
      CONFD_RECONCILEINTERVALSECS: '5',
      CONFD_LOGSEVERITYSCREEN: logSeverity(),
    },
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  ctx.log.info(`confd for ${node.name} started (pid ${proc.pid})`);
}

export async function birdc(socket: string, ...args: string[]): Promise<string> {
  return run('birdc', ['-s', socket, ...args], { timeoutMs: 5_000 });
}

/** BIRD inside the node namespace, started once confd has written its first configuration. */
export async function ensureBird(ctx: LabContext, node: NodeRecord): Promise<void> {
  const role = `bird/${node.name}`;
  if (running(ctx, role)) return;
  const confd = ctx.state.processes[`confd/${node.name}`];
  await until(
    () => (!isAlive(confd) ? 'exited' : existsSync(node.birdConfig) ? 'written' : undefined),
    `confd on ${node.name} to write ${node.birdConfig}`,
    30_000,
    () => logTail(confd.log, 800),
  ).then((v) => {
    if (v === 'exited') throw startFailed(`confd on ${node.name}`, confd.log);
  });
  const bird = findOnPath('bird');
  if (!bird) throw new LabError('LAB_TOOL_MISSING', 'bird not found: apt-get install bird2');
  const log = join(logsDir(ctx), `bird-${node.name}.log`);
  // `ip netns exec` execs BIRD in place, so the recorded pid is BIRD's own.
  const proc = spawnDetached(ctx.names.prefix, {
    role,
    argv: [findOnPath('ip') ?? 'ip', 'netns', 'exec', node.netns, bird, '-f', '-c', node.birdConfig, '-s', node.birdSocket],
    env: process.env,
    log,
  });
  ctx.state.processes[role] = proc;
  save(ctx);
  await until(
    async () =>
      !isAlive(proc)
        ? 'exited'
        : await birdc(node.birdSocket, 'show', 'status').then(
            () => 'up',
            () => undefined,
          ),
    `BIRD on ${node.name} to answer on ${node.birdSocket}`,
    15_000,
    () => logTail(log, 600),
  ).then((v) => {
    if (v === 'exited') throw startFailed(`BIRD on ${node.name}`, log);
  });
  ctx.log.info(`BIRD for ${node.name} running in ${node.netns} (pid ${proc.pid})`);
}

export interface BgpSession {
  /** The peer's address. */
  peer: string;
  /** BIRD's protocol name. */
  protocol: string;
  /** `Established`, `Active`, `Connect`, …, or the protocol state when BIRD gives no BGP state. */
  state: string;
}

const BGP_STATES = new Set(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close']);

/** Parses `birdc show protocols`: one entry per BGP protocol (Name Proto Table State Since… Info). */
export function parseBgpSessions(text: string): BgpSession[] {
  const out: BgpSession[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w.length < 4 || w[1] !== 'BGP') continue;
    const protocol = w[0];
    const peer = /^(?:Mesh|Node|Global)_(\d+)_(\d+)_(\d+)_(\d+)$/.exec(protocol);
    out.push({
      protocol,
      peer: peer ? peer.slice(1, 5).join('.') : protocol,
      state: w.slice(4).find((x) => BGP_STATES.has(x)) ?? w[3],
    });
  }
  return out;
}

export async function bgpSessions(node: NodeRecord): Promise<BgpSession[]> {
  return parseBgpSessions(await birdc(node.birdSocket, 'show', 'protocols'));
}
