/**
 * Graceful rebalancing, a pure decision: given every replica's load, how many clients should
 * this one shed now, and toward whom. Calico's Typha drops a random connection per second when
 * over its share; we shed a bounded number per interval, only above target × (1 + tolerance),
 * and each shed client gets a Goodbye naming the least-loaded replica and a staggered delay.
 */
import type { ReplicaInfo } from './replica-registry.js';

export interface RebalancePlan {
  shed: number;
  target: number;
  /** URL of the replica to suggest; undefined when no peer has room. */
  toward?: string;
}

export function planRebalance(
  selfId: string,
  replicas: readonly ReplicaInfo[],
  opts: { tolerance: number; maxShed: number },
): RebalancePlan {
  const live = replicas.filter((r) => r.inSync || r.serverId === selfId);
  const self = live.find((r) => r.serverId === selfId);
  if (!self || live.length < 2) return { shed: 0, target: self?.connections ?? 0 };
  const total = live.reduce((n, r) => n + r.connections, 0);
  const target = Math.ceil(total / live.length);
  const limit = Math.floor(target * (1 + opts.tolerance));
  const excess = self.connections - Math.max(limit, target + 1);
  const peers = live
    .filter((r) => r.serverId !== selfId && r.connections < Math.min(target, r.maxConnections))
    .sort((a, b) => a.connections - b.connections || a.serverId.localeCompare(b.serverId));
  if (excess <= 0 || peers.length === 0) return { shed: 0, target };
  const room = peers.reduce((n, r) => n + (target - r.connections), 0);
  return { shed: Math.min(excess, opts.maxShed, room), target, toward: peers[0].url };
}

/** The replica to point clients at when this one shuts down: the least loaded in-sync peer. */
export function handoffTarget(selfId: string, replicas: readonly ReplicaInfo[]): string | undefined {
  return replicas
    .filter((r) => r.serverId !== selfId && r.inSync && r.connections < r.maxConnections)
    .sort((a, b) => a.connections - b.connections || a.serverId.localeCompare(b.serverId))[0]?.url;
}
