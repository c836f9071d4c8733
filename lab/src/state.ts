/**
 * The lab's state file (`<dir>/state.json`): everything `up` made, so `status`, `probe` and
 * `down` work from another process, and `up` again converges instead of starting over. It is
 * written after every step (temp file + rename), so a crash mid-`up` still leaves a file that
 * names what exists. `down` does not depend on it: namespaces are found by prefix and
 * processes by the marker in their environment (see processes.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabStateError } from './errors.js';
import type { LabMode } from './names.js';

export const STATE_VERSION = 1;

/** A process the lab started, and how to be sure a pid is still that process. */
export interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat when started (clock ticks since boot): a reused pid differs. */
  startTime: number;
  /** The value of CATTAIL_LAB_ROLE in its environment. */
  role: string;
  argv: string[];
  log: string;
}

export interface NodeRecord {
  index: number;
  name: string;
  netns: string;
  /** Fabric address without prefix length. */
  address: string;
  /** Ports of Felix's and confd's health servers (127.0.0.1), 0 until started. */
  felixHealthPort: number;
  confdHealthPort: number;
  /** VXLAN mode: the tunnel address allocated for the node. */
  vxlanTunnelAddr?: string;
  birdConfig: string;
  birdSocket: string;
}

export interface PodRecord {
  name: string;
  namespace: string;
  node: string;
  netns: string;
  containerId: string;
  labels: Record<string, string>;
  /** From the CNI result. */
  ip?: string;
  iface?: string;
}

export interface LabState {
  version: number;
  id: string;
  prefix: string;
  mode: LabMode;
  /** Where Calico's data lives: etcd (absent in states written before the choice existed) or the API server. */
  datastore?: LabDatastore;
  /** The API server of a `kubernetes` lab (with `--engine kubernetes`: the port of the relay to it). */
  kube?: { port: number };
  /** How the cluster is made: `netns` (absent in older states: the agents as processes, pods as namespaces) or `kubernetes` (kubelets and containerd). */
  engine?: LabEngine;
  /** `--engine kubernetes`: what the lab installs on each node. */
  cluster?: {
    cni: 'bridge' | 'none';
    /** Image archives imported with `importImage` (ref → archive path), imported again into every node that starts over or joins. */
    images?: Record<string, string>;
    /** Fully qualified names given to imported images (name → imported ref), tagged again on every node that starts over or joins. */
    tags?: Record<string, string>;
    /** The Helm release `lab install` made, and the image it runs. */
    release?: { name: string; namespace: string; image?: string };
  };
  createdAt: string;
  podsPerNode: number;
  poolCidr: string;
  etcd: { clientPort: number; peerPort: number; dataDir: string };
  typhas: Array<{ index: number; port: number; healthPort: number }>;
  nodes: NodeRecord[];
  pods: PodRecord[];
  /** By role: `etcd`, `typha-1`, `felix/node-1`, `confd/node-1`, `bird/node-1`, `relay/node-1`. */
  processes: Record<string, ProcessRecord>;
  namespaces: string[];
  /** Links, as `<netns>:<name>`. */
  links: string[];
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export type LabDatastore = 'etcdv3' | 'kubernetes';

export type LabEngine = 'netns' | 'kubernetes';

export function engineOf(state: Pick<LabState, 'engine'>): LabEngine {
  return state.engine ?? 'netns';
}

export function datastoreOf(state: Pick<LabState, 'datastore'>): LabDatastore {
  return state.datastore ?? 'etcdv3';
}

export function etcdEndpoint(state: Pick<LabState, 'etcd'>): string {
  return `http://127.0.0.1:${state.etcd.clientPort}`;
}

export function typhaAddrs(state: Pick<LabState, 'typhas'>): string {
  return state.typhas.map((t) => `127.0.0.1:${t.port}`).join(',');
}

/** Reads the state file; undefined when there is none. Throws LabStateError on a bad one. */
export function readState(dir: string): LabState | undefined {
  const path = statePath(dir);
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LabStateError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseState(text, path);
}

export function parseState(text: string, where = 'state file'): LabState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new LabStateError(`${where} is not JSON (${(err as Error).message}): run \`cattail lab down\` to clean up by prefix`, { cause: err });
  }
  const s = v as Partial<LabState>;
  const problems: string[] = [];
  if (typeof s !== 'object' || s === null) problems.push('not an object');
  else {
    if (s.version !== STATE_VERSION) problems.push(`version ${String(s.version)} (expected ${STATE_VERSION})`);
    if (typeof s.id !== 'string' || typeof s.prefix !== 'string') problems.push('id/prefix missing');
    if (s.mode !== 'bgp' && s.mode !== 'vxlan') problems.push(`mode ${String(s.mode)}`);
    for (const k of ['typhas', 'nodes', 'pods', 'namespaces', 'links'] as const) if (!Array.isArray(s[k])) problems.push(`${k} is not a list`);
    if (typeof s.processes !== 'object' || s.processes === null) problems.push('processes missing');
    if (typeof s.etcd?.clientPort !== 'number') problems.push('etcd.clientPort missing');
  }
  if (problems.length) throw new LabStateError(`${where}: ${problems.join(', ')}; run \`cattail lab down\` to clean up by prefix`);
  return s as LabState;
}

/** Writes the state atomically (temp file + rename in the same directory). */
export function writeState(dir: string, state: LabState): void {
  mkdirSync(dir, { recursive: true });
  const path = statePath(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

export function addUnique(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
