/**
 * Which BGP sessions this node's BIRD runs, and how each is set up. Pure: the model and this
 * node's facts in, a list of sessions out, in a stable order (mesh, global peers, node peers;
 * then by address), so the same datastore always renders the same file.
 *
 * Sources, as Calico defines them:
 * - The node-to-node mesh (on by default): a session to every other node with a BGP address
 *   of the family, except route reflectors (a node with `routeReflectorClusterID` is not in the
 *   mesh, and runs none).
 * - BGPPeer resources that apply to this node (`node` names it, `nodeSelector` selects it, or
 *   neither: every node): to `peerIP`, or to every other node `peerSelector` selects. A
 *   `peerSelector` peering also applies in reverse (unless `reversePeering: Manual`): a node the
 *   peer selector matches peers with every node the peering applies to, so a route reflector
 *   learns its clients from the same resource that gave the clients their reflector.
 * - BGPPeers with `localWorkloadSelector`: on each node the peering applies to, a session to
 *   every address of every local WorkloadEndpoint the selector matches (`Local_Workload_<ip>`,
 *   AS `asNumber`), passive (the workload connects to its node) and with no local address (the
 *   workload may dial the node's address or a `localWorkloadPeeringIPV4/6` Felix puts on it).
 *
 * One session per remote address (and port): node-specific peers win over global ones, global
 * over the mesh; among equals the first BGPPeer by name. Displaced duplicates become comments.
 *
 * Between two Calico nodes exactly one side connects: the side with the lower address is
 * passive, as Calico's mesh does, so the two BIRDs never race two TCP connections for one session.
 * A route reflector treats Calico nodes outside its cluster as `rr client`s (iBGP only: BIRD
 * refuses reflection over eBGP), and on its iBGP sessions leaves next hops as they are, so
 * reflected routes point at the node that owns the block and clients route to each other
 * directly. Every other session advertises `next hop self`, unless the BGPPeer says
 * `keepOriginalNextHop` / `nextHopMode: Keep` (or `Self`, which wins everywhere).
 */
import { formatIP, parseCIDR, parseIP, parseSelector, type IPAddr } from '@cattail/api';
import type { BgpModel, PeerSpec } from '../model/bgp-model.js';
import { asNumberOf, compareIP, durationSeconds, parsePeerAddress, protocolName } from './bird-text.js';
import { addressFor, DEFAULT_BGP_PORT, nodeFacts, secretRefOf, type BgpSettings, type NodeFacts, type SecretRef } from './node-facts.js';

export type SessionKind = 'mesh' | 'global' | 'node';

export interface Session {
  readonly name: string;
  readonly kind: SessionKind;
  readonly version: 4 | 6;
  /** `node-to-node mesh` or `BGPPeer <name>`. */
  readonly origin: string;
  /** The Calico node at the other end, when there is one. */
  readonly peerNode: string | undefined;
  readonly peerIP: IPAddr;
  readonly peerPort: number | undefined;
  readonly peerAS: number;
  /** Undefined with `sourceAddress: None`. */
  readonly localIP: IPAddr | undefined;
  readonly localPort: number | undefined;
  readonly localAS: number;
  readonly passive: boolean;
  readonly rrClient: boolean;
  readonly rrClusterId: string | undefined;
  readonly nextHop: 'self' | 'keep' | 'auto';
  readonly password: SecretRef | undefined;
  readonly keepaliveSecs: number | undefined;
  readonly restartSecs: number | undefined;
  readonly ttlSecurityHops: number | undefined;
  readonly allowLocalAS: number | undefined;
  /** BGPFilter names, in the peer's order. */
  readonly filters: readonly string[];
  /** `reachableBy`: the gateway of a static /32 (/128) route to the peer. */
  readonly reachableBy: IPAddr | undefined;
}

export interface SessionPlan {
  readonly sessions: readonly Session[];
  /** Things left out on purpose, written as comments. */
  readonly notes: readonly string[];
}

const RANK: Readonly<Record<SessionKind, number>> = { mesh: 0, global: 1, node: 2 };

/** A remote end before the per-session settings are worked out. */
interface Target {
  ip: IPAddr;
  port: number | undefined;
  as: number;
  node: NodeFacts | undefined;
  /** A local workload selected by `localWorkloadSelector`. */
  workload?: boolean;
}

function matches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return parseSelector(selector).evaluate(labels);
}

/** Does BGPPeer `p` apply on node `n` (its `node` / `nodeSelector`)? */
function appliesTo(p: Readonly<PeerSpec>, n: NodeFacts): boolean {
  if (p.node) return p.node === n.name;
  if (p.nodeSelector) return matches(p.nodeSelector, n.labels);
  return true;
}

function nodeByAddress(nodes: readonly NodeFacts[], ip: IPAddr): NodeFacts | undefined {
  return nodes.find((n) => {
    const a = addressFor(n, ip.version);
    return a !== undefined && compareIP(a, ip) === 0;
  });
}

function nodeTargets(nodes: readonly NodeFacts[], me: NodeFacts, version: 4 | 6, pick: (n: NodeFacts) => boolean): Target[] {
  const out: Target[] = [];
  for (const n of nodes) {
    const ip = addressFor(n, version);
    if (n.name === me.name || ip === undefined || !pick(n)) continue;
    out.push({ ip, port: n.listenPort === DEFAULT_BGP_PORT ? undefined : n.listenPort, as: n.asNumber, node: n });
  }
  return out;
}

interface Builder {
  readonly me: NodeFacts;
  readonly nodes: readonly NodeFacts[];
  readonly workloads: BgpModel['workloads'];
  readonly byKey: Map<string, Session>;
  readonly notes: string[];
}

export function planSessions(model: BgpModel, me: NodeFacts, settings: BgpSettings): SessionPlan {
  const nodes = [...model.nodes.values()].filter((n) => n.bgp).map((n) => nodeFacts(model, n));
  const b: Builder = { me, nodes, workloads: model.workloads, byKey: new Map(), notes: [] };
  for (const version of [4, 6] as const) {
    if (addressFor(me, version) === undefined) continue;
    if (settings.meshEnabled && me.rrClusterId === undefined) {
      for (const t of nodeTargets(nodes, me, version, (n) => n.rrClusterId === undefined)) {
        add(b, 'mesh', 'node-to-node mesh', t, undefined, settings);
      }
    }
  }
  for (const name of [...model.peers.keys()].sort()) {
    peerSessions(b, name, model.peers.get(name)!, settings);
  }
  const sessions = [...b.byKey.values()].sort((x, y) => RANK[x.kind] - RANK[y.kind] || compareIP(x.peerIP, y.peerIP) || (x.peerPort ?? 0) - (y.peerPort ?? 0));
  return { sessions, notes: b.notes };
}

function peerSessions(b: Builder, name: string, p: Readonly<PeerSpec>, settings: BgpSettings): void {
  const origin = `BGPPeer ${name}`;
  const kind: SessionKind = p.node || p.nodeSelector ? 'node' : 'global';
  try {
    if (p.localWorkloadSelector) {
      if (appliesTo(p, b.me)) workloadSessions(b, kind, origin, p, p.localWorkloadSelector, settings);
      return;
    }
    if (appliesTo(p, b.me)) {
      if (p.peerIP) {
        const peer = parsePeerAddress(p.peerIP);
        const as = asNumberOf(p.asNumber);
        if (peer === undefined || as === undefined) {
          b.notes.push(`${origin}: peerIP ${p.peerIP} or asNumber is not usable; skipped`);
        } else if (addressFor(b.me, peer.ip.version) !== undefined) {
          add(b, kind, origin, { ...peer, as, node: nodeByAddress(b.nodes, peer.ip) }, p, settings);
        }
      }
      if (p.peerSelector) {
        const sel = p.peerSelector;
        for (const version of [4, 6] as const) {
          if (addressFor(b.me, version) === undefined) continue;
          for (const t of nodeTargets(b.nodes, b.me, version, (n) => matches(sel, n.labels))) add(b, kind, origin, t, p, settings);
        }
      }
    }
    if (p.peerSelector && p.reversePeering !== 'Manual' && matches(p.peerSelector, b.me.labels)) {
      for (const version of [4, 6] as const) {
        if (addressFor(b.me, version) === undefined) continue;
        for (const t of nodeTargets(b.nodes, b.me, version, (n) => appliesTo(p, n))) add(b, 'node', origin, t, p, settings);
      }
    }
  } catch (err) {
    // Typha validated the selectors; this is a selector the API accepted and our parser did not.
    b.notes.push(`${origin}: ${err instanceof Error ? err.message : String(err)}; skipped`);
  }
}

function workloadSessions(b: Builder, kind: SessionKind, origin: string, p: Readonly<PeerSpec>, selector: string, settings: BgpSettings): void {
  const as = asNumberOf(p.asNumber);
  if (as === undefined) {
    b.notes.push(`${origin}: asNumber is not usable; skipped`);
    return;
  }
  let selected = 0;
  for (const key of [...b.workloads.keys()].sort()) {
    const w = b.workloads.get(key)!;
    if (w.node !== b.me.name || !matches(selector, w.labels)) continue;
    selected++;
    for (const net of w.ipNetworks) {
      const ip = parseCIDR(net)?.addr ?? parseIP(net);
      if (ip === undefined || addressFor(b.me, ip.version) === undefined) continue;
      add(b, kind, `${origin} (workload ${key})`, { ip, port: undefined, as, node: undefined, workload: true }, p, settings);
    }
  }
  if (selected === 0) {
    b.notes.push(
      `${origin}: localWorkloadSelector selects no workload on this node (Typha sends WorkloadEndpoints to confd only with TYPHA_BGPSYNCERWORKLOADENDPOINTS=true)`,
    );
  }
}

function add(b: Builder, kind: SessionKind, origin: string, t: Target, p: Readonly<PeerSpec> | undefined, settings: BgpSettings): void {
  const me = b.me;
  const myIP = addressFor(me, t.ip.version) as IPAddr;
  if (compareIP(myIP, t.ip) === 0) return; // ourselves, e.g. a global peerIP naming this node
  const localAS = asNumberOf(p?.localASNumber) ?? me.asNumber;
  const ibgp = localAS === t.as;
  const rrClient = me.rrClusterId !== undefined && t.node !== undefined && t.node.rrClusterId !== me.rrClusterId && ibgp;
  const keep = p?.keepOriginalNextHop === true || p?.nextHopMode === 'Keep';
  const ttl = typeof p?.ttlSecurity === 'number' && p.ttlSecurity > 0 ? p.ttlSecurity : undefined;
  const allow = typeof p?.numAllowedLocalASNumbers === 'number' && p.numAllowedLocalASNumbers > 0 ? p.numAllowedLocalASNumbers : undefined;
  const gateway = typeof p?.reachableBy === 'string' && p.reachableBy !== '' ? parseIP(p.reachableBy) : undefined;
  const prefix = t.workload ? 'Local_Workload' : kind === 'mesh' ? 'Mesh' : kind === 'global' ? 'Global' : 'Node';
  const session: Session = {
    name: protocolName(prefix, t.ip, t.port),
    kind,
    version: t.ip.version,
    origin,
    peerNode: t.node?.name,
    peerIP: t.ip,
    peerPort: t.port,
    peerAS: t.as,
    localIP: p?.sourceAddress === 'None' || t.workload ? undefined : myIP,
    localPort: me.listenPort === DEFAULT_BGP_PORT ? undefined : me.listenPort,
    localAS,
    passive: t.workload === true || (t.node !== undefined && compareIP(t.ip, myIP) > 0),
    rrClient,
    rrClusterId: rrClient ? me.rrClusterId : undefined,
    nextHop: keep ? 'keep' : p?.nextHopMode === 'Self' ? 'self' : me.rrClusterId !== undefined && ibgp ? 'auto' : 'self',
    password: p ? secretRefOf(p.password) : settings.meshPassword,
    keepaliveSecs: durationSeconds(p?.keepaliveTime),
    restartSecs: p ? durationSeconds(p.maxRestartTime) : settings.meshRestartSecs,
    ttlSecurityHops: ttl,
    allowLocalAS: allow,
    filters: (p?.filters ?? []).filter((f): f is string => typeof f === 'string' && f !== ''),
    reachableBy: gateway?.version === t.ip.version ? gateway : undefined,
  };
  const remote = t.port === undefined ? formatIP(t.ip) : `${formatIP(t.ip)} port ${t.port}`;
  const existing = b.byKey.get(remote);
  if (existing === undefined) {
    b.byKey.set(remote, session);
  } else if (existing.origin === origin) {
    // The same BGPPeer reaches this node both ways (e.g. two reflectors selecting each other): one session.
  } else if (RANK[kind] > RANK[existing.kind]) {
    b.byKey.set(remote, session);
    b.notes.push(`${existing.origin} also peers with ${remote}; ${origin} takes precedence`);
  } else {
    b.notes.push(`${origin} also peers with ${remote}; ${existing.origin} takes precedence`);
  }
}
