/**
 * calico/node's status reporter: a CalicoNodeStatus names a node, the classes it wants (Agent,
 * BGP, Routes) and how often (`updatePeriodSeconds`; 0 never refreshes). On its node, every
 * period, the reporter answers in `status` from BIRD's control socket:
 *
 *   Agent   `show status`: Ready when the daemon is up, its version, router id, last boot and
 *           last reconfiguration (Cattail runs one BIRD 2 for both families, so birdV4 and
 *           birdV6 describe the same daemon; birdV6 only where the node has IPv6 sessions)
 *   BGP     `show protocols`: the Calico sessions (confd's Mesh_/Node_/Global_ names) per family,
 *           NodeMesh / NodePeer / GlobalPeer, the BGP state and since when, and the counts of
 *           Established and other sessions
 *   Routes  `show route`: each route with its gateway and interface; FIB when BIRD selected it
 *           (the one exported to the kernel), RIB otherwise; learnedFrom the protocol type
 *           (Kernel, Static, Direct, NodeMesh, BGPPeer and the peer's address)
 *
 * with `lastUpdated`. A class it cannot collect (BIRD down) is left out of that write and logged;
 * the others are written. Writes are compare-and-swap on the resource as read; a conflict waits
 * for the next tick. Requests for other nodes are never touched.
 */
import type { CalicoNodeStatusStatus } from '@cattail/api';
import { ConflictError, NotFoundError, type Datastore } from '@cattail/datastore';
import type { Logger } from 'pino';
import { birdCommand, parseBirdPeers, type BgpPeer } from './bird-status.js';

type Status = NonNullable<CalicoNodeStatusStatus>;
type Daemon = NonNullable<NonNullable<Status['agent']>['birdV4']>;
type Peer = NonNullable<NonNullable<Status['bgp']>['peersV4']>[number];
type Route = NonNullable<NonNullable<Status['routes']>['routesV4']>[number];

export interface StatusReporterOptions {
  ds: Datastore;
  nodeName: string;
  birdSocket: string;
  logger: Logger;
  now?: () => Date;
}

const BGP_STATES = new Set(['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Close']);
const PEER_TYPE: Record<BgpPeer['source'], Peer['type']> = { Mesh: 'NodeMesh', Node: 'NodePeer', Global: 'GlobalPeer' };

/** `show status` lines → the daemon's description. */
export function parseBirdDaemon(lines: readonly string[]): Daemon {
  const text = lines.map((l) => l.replace(/^\d{4}[- ]/, '').replace(/^ /, ''));
  const find = (re: RegExp): string | undefined => text.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined);
  const d: Daemon = { state: text.some((l) => /^Daemon is up and running/.test(l)) ? 'Ready' : 'NotReady' };
  const version = find(/^BIRD (\S+)/);
  const routerID = find(/^Router ID is (\S+)/);
  const boot = find(/^Last reboot on (.+)$/);
  const reconf = find(/^Last reconfiguration on (.+)$/);
  if (version) d.version = version;
  if (routerID) d.routerID = routerID;
  if (boot) d.lastBootTime = boot;
  if (reconf) d.lastReconfigurationTime = reconf;
  return d;
}

function peerOf(p: BgpPeer): Peer {
  const first = p.info.split(/\s+/)[0];
  return { peerIP: p.ip, type: PEER_TYPE[p.source], state: BGP_STATES.has(first) ? (first as Peer['state']) : 'Idle', since: p.since };
}

/** `show route` lines → routes per family. */
export function parseBirdRoutes(lines: readonly string[]): { v4: Route[]; v6: Route[] } {
  const out = { v4: [] as Route[], v6: [] as Route[] };
  let family: 'v4' | 'v6' = 'v4';
  let last: Route | undefined;
  let prefix = '';
  for (const raw of lines) {
    const line = raw.replace(/^\d{4}[- ]/, '').replace(/^ (?=\S)/, '');
    const table = /^Table (\S+):/.exec(line);
    if (table) {
      family = table[1].endsWith('6') ? 'v6' : 'v4';
      continue;
    }
    const via = /^\s+(?:via (\S+) on (\S+)|dev (\S+))/.exec(line);
    if (via) {
      if (last && last.gateway === undefined && last.interface === undefined) {
        if (via[1]) {
          last.gateway = via[1];
          last.interface = via[2];
        } else last.interface = via[3];
      }
      continue;
    }
    // `<prefix>  <kind> [<protocol> <since> (from <ip>)?] <*>? (<pref>)` — the prefix is left
    // out for another route to the same destination.
    const m = /^(\S+)?\s+(unicast|blackhole|unreachable|prohibit)\s+\[(\S+)\s[^\]]*?(?:from (\S+))?\]\s*(\*)?/.exec(line);
    if (!m) continue;
    if (m[1]) prefix = m[1];
    const proto = m[3];
    const learned = learnedFrom(proto, m[4]);
    last = { type: m[5] ? 'FIB' : 'RIB', destination: prefix, learnedFrom: learned };
    out[family].push(last);
  }
  return out;
}

function learnedFrom(proto: string, from: string | undefined): NonNullable<Route['learnedFrom']> {
  const bgp = /^(Mesh|Node|Global)_(.+?)(?:_port_\d+)?$/.exec(proto);
  if (bgp) {
    const peerIP = from ?? (bgp[2].includes('__') || bgp[2].split('_').length > 4 ? bgp[2].replace(/_/g, ':') : bgp[2].replace(/_/g, '.'));
    return { sourceType: bgp[1] === 'Mesh' ? 'NodeMesh' : 'BGPPeer', peerIP };
  }
  if (/^kernel/i.test(proto)) return { sourceType: 'Kernel' };
  if (/^direct/i.test(proto)) return { sourceType: 'Direct' };
  return { sourceType: 'Static' };
}

export class NodeStatusReporter {
  readonly #o: StatusReporterOptions;
  readonly #now: () => Date;
  #birdDown = false;

  constructor(opts: StatusReporterOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => new Date());
  }

  /** One pass: every due request for this node answered. Returns the names written. */
  async tick(): Promise<string[]> {
    const { ds, nodeName, logger } = this.#o;
    const written: string[] = [];
    for (const res of (await ds.list('CalicoNodeStatus')).items) {
      const spec = (res.spec ?? {}) as { node?: string; classes?: string[]; updatePeriodSeconds?: number };
      if (spec.node !== nodeName || !spec.updatePeriodSeconds) continue;
      const last = Date.parse(String((res.status as { lastUpdated?: string } | undefined)?.lastUpdated ?? ''));
      if (!Number.isNaN(last) && this.#now().getTime() - last < spec.updatePeriodSeconds * 1000) continue;
      const status = await this.collect(new Set(spec.classes ?? []));
      try {
        await ds.update({ ...res, status });
        written.push(res.metadata.name);
      } catch (err) {
        if (err instanceof ConflictError || err instanceof NotFoundError) continue; // changed or gone meanwhile: next tick
        throw err;
      }
    }
    if (written.length) logger.debug({ written }, 'CalicoNodeStatus written');
    return written;
  }

  async collect(classes: ReadonlySet<string>): Promise<Status> {
    const { birdSocket, logger } = this.#o;
    const status: Status = {
      lastUpdated: this.#now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
    };
    const ask = async (command: string): Promise<string[] | undefined> => {
      try {
        const lines = await birdCommand(birdSocket, command);
        if (this.#birdDown) logger.info({}, 'BIRD answers again');
        this.#birdDown = false;
        return lines;
      } catch (err) {
        // Once per outage at warn (BIRD restarting would otherwise log every pass), then debug.
        if (this.#birdDown) logger.debug({ err, command }, 'BIRD did not answer; that part of the status is left out');
        else logger.warn({ err, command }, 'BIRD did not answer; that part of the status is left out');
        this.#birdDown = true;
        return undefined;
      }
    };
    const protocols = classes.has('Agent') || classes.has('BGP') ? await ask('show protocols') : undefined;
    const peers = protocols ? parseBirdPeers(protocols) : [];
    if (classes.has('Agent')) {
      const lines = await ask('show status');
      if (lines) {
        const daemon = parseBirdDaemon(lines);
        status.agent = { birdV4: daemon, ...(peers.some((p) => p.family === 6) ? { birdV6: daemon } : {}) };
      }
    }
    if (classes.has('BGP') && protocols) {
      const v4 = peers.filter((p) => p.family === 4).map(peerOf);
      const v6 = peers.filter((p) => p.family === 6).map(peerOf);
      const up = (ps: Peer[]) => ps.filter((p) => p.state === 'Established').length;
      status.bgp = {
        numberEstablishedV4: up(v4),
        numberNotEstablishedV4: v4.length - up(v4),
        numberEstablishedV6: up(v6),
        numberNotEstablishedV6: v6.length - up(v6),
        peersV4: v4,
        peersV6: v6,
      };
    }
    if (classes.has('Routes')) {
      const lines = await ask('show route');
      if (lines) {
        const r = parseBirdRoutes(lines);
        status.routes = { routesV4: r.v4, routesV6: r.v6 };
      }
    }
    return status;
  }
}
