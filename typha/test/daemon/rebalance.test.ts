import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handoffTarget, planRebalance } from '../../src/daemon/rebalance.js';
import type { ReplicaView } from '../../src/daemon/replica-registry.js';

const r = (serverId: string, connections: number, extra: Partial<ReplicaView> = {}): ReplicaView => ({
  serverId,
  url: `ws://${serverId}:5473`,
  node: serverId,
  connections,
  maxConnections: 10_000,
  inSync: true,
  revision: 100,
  updatedAt: '',
  fresh: true,
  ...extra,
});
const opts = { tolerance: 0.1, maxShed: 10 };

test('an overloaded replica sheds gradually toward the least-loaded peer', () => {
  const plan = planRebalance('a', [r('a', 900), r('b', 100), r('c', 200)], opts);
  assert.equal(plan.target, 400);
  assert.equal(plan.shed, 10, 'bounded by maxShed per interval');
  assert.equal(plan.toward, 'ws://b:5473');
  assert.equal(planRebalance('a', [r('a', 900), r('b', 100)], { tolerance: 0.1, maxShed: 1000 }).shed, 350, 'down to target × (1 + tolerance)');
});

test('no shedding within tolerance, alone, or when no peer has room', () => {
  assert.equal(planRebalance('a', [r('a', 430), r('b', 370)], opts).shed, 0); // target 400, limit 440
  assert.equal(planRebalance('a', [r('a', 5000)], opts).shed, 0);
  assert.equal(planRebalance('a', [r('a', 900), r('b', 100, { maxConnections: 100 })], opts).shed, 0);
  assert.equal(planRebalance('a', [r('a', 900), r('b', 0, { inSync: false })], opts).shed, 0, 'a peer not in sync is not a target');
  assert.equal(planRebalance('a', [r('a', 2), r('b', 0)], opts).shed, 0, 'one client over is not worth a reconnect');
});

test('shutdown hands off to the least-loaded in-sync peer with room', () => {
  assert.equal(handoffTarget('a', [r('a', 10), r('b', 50), r('c', 20), r('d', 1, { inSync: false })]), 'ws://c:5473');
  assert.equal(handoffTarget('a', [r('a', 10)]), undefined);
});

test('stale reports are left out: no shedding on an old count, and never toward a silent peer', () => {
  // B's last report is from before it took clients: on it, A would shed; stale, it counts for nothing.
  assert.equal(planRebalance('a', [r('a', 900), r('b', 100, { fresh: false })], opts).shed, 0);
  // With a fresh C beside it, A balances between A and C only, toward C.
  const plan = planRebalance('a', [r('a', 900), r('b', 0, { fresh: false }), r('c', 100)], opts);
  assert.equal(plan.toward, 'ws://c:5473');
  assert.equal(plan.target, 500);
  assert.equal(handoffTarget('a', [r('a', 10), r('b', 1, { fresh: false }), r('c', 20)]), 'ws://c:5473');
});

test('a client this replica is behind is pointed at a peer that had reached its revision', () => {
  const peers = [r('a', 10, { revision: 50 }), r('b', 1, { revision: 60 }), r('c', 20, { revision: 90 })];
  assert.equal(handoffTarget('a', peers, 70), 'ws://c:5473');
  assert.equal(handoffTarget('a', peers, 55), 'ws://b:5473', 'the least loaded among those far enough');
  assert.equal(handoffTarget('a', peers, 95), undefined, 'nobody is there yet: no hint');
});
