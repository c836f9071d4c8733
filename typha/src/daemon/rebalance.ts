/**
 * Graceful rebalancing, a pure decision: given every replica's load, how many clients should
 * this one shed now, and toward whom. Calico's Typha drops a random connection per second when
 * over its share; we shed a bounded number per interval, only above target × (1 + tolerance),
 * and each shed client gets a Goodbye naming the least-loaded replica and a staggered delay.
 *
 * Only fresh reports count (`ReplicaView.fresh`: written after our previous report, so at most
 * about one interval old). A peer whose report is stale is left out of the split and is never
 * a target: deciding on an old count is how a client ends up shed back toward the replica that
 * was shedding it. The daemon also skips the interval after a shed, so that the shed clients
 * (told to come back within one interval) show in the next counts before it sheds again.
 */
import type { ReplicaView } from './replica-registry.js';

export interface RebalancePlan {
  shed: number;
  target: number;
  /** URL of the replica to suggest; undefined when no peer has room. */
  toward?: string;
}

/** Peers a client may be sent to: in sync, freshly reported, with room, not us. */
function candidates(selfId: string, replicas: readonly ReplicaView[]): ReplicaView[] {
  return replicas.filter((r) => r.serverId !== selfId && r.inSync && r.fresh && r.connections < r.maxConnections);
}

function leastLoaded(rs: ReplicaView[]): ReplicaView | undefined {
  return rs.sort((a, b) => a.connections - b.connections || a.serverId.localeCompare(b.serverId))[0];
}

export function planRebalance(selfId: string, replicas: readonly ReplicaView[], opts: { tolerance: number; maxShed: number }): RebalancePlan {
  const live = replicas.filter((r) => r.serverId === selfId || (r.inSync && r.fresh));
  const self = live.find((r) => r.serverId === selfId);
  if (!self || live.length < 2) return { shed: 0, target: self?.connections ?? 0 };
  const total = live.reduce((n, r) => n + r.connections, 0);
  const target = Math.ceil(total / live.length);
  const limit = Math.floor(target * (1 + opts.tolerance));
  const excess = self.connections - Math.max(limit, target + 1);
  const peers = candidates(selfId, live).filter((r) => r.connections < target);
  const toward = leastLoaded(peers);
  if (excess <= 0 || toward === undefined) return { shed: 0, target };
  const room = peers.reduce((n, r) => n + (target - r.connections), 0);
  return { shed: Math.min(excess, opts.maxShed, room), target, toward: toward.url };
}

/**
 * Where to send clients this replica lets go: the least-loaded fresh in-sync peer with room
 * (on shutdown, and when refusing a client over the connection limit), and, for a client
 * this replica is behind, one that had reached `minRevision` when it reported.
 */
export function handoffTarget(selfId: string, replicas: readonly ReplicaView[], minRevision = 0): string | undefined {
  return leastLoaded(candidates(selfId, replicas).filter((r) => r.revision >= minRevision))?.url;
}
