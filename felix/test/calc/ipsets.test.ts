/**
 * IP set membership is maintained incrementally: each change sends exactly the members that
 * moved, reference counted across endpoints and network sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { del, gnetset, gnp, harness, namespace, setId, wep } from './harness.js';

const DB = setId("role == 'db'");

function setup() {
  const h = harness();
  h.start([
    namespace('ns', { env: 'a' }),
    wep('ns', 'client', { ips: ['10.0.0.1'], labels: { app: 'client' } }),
    wep('ns', 'db-1', { node: 'node-2', ips: ['10.0.1.1'], labels: { role: 'db' } }),
    gnp('p', { selector: "app == 'client'", ingress: [{ action: 'Allow', source: { selector: "role == 'db'" } }] }),
  ]);
  assert.deepEqual(h.dp.members(DB), ['10.0.1.1/32']);
  return h;
}

const delta = (added: string[], removed: string[], id = DB): DataplaneMessage => ({ kind: 'IPSetDeltaUpdate', id, added, removed });

test('endpoint added and removed: one delta each', () => {
  const h = setup();
  assert.deepEqual(h.apply([wep('ns', 'db-2', { node: 'node-3', ips: ['10.0.2.1', 'fd00::2:1'], labels: { role: 'db' } })]), [
    delta(['10.0.2.1/32', 'fd00::2:1/128'], []),
  ]);
  assert.deepEqual(h.apply([del('WorkloadEndpoint', 'db-2', 'ns')]), [delta([], ['10.0.2.1/32', 'fd00::2:1/128'])]);
  // An endpoint without addresses is not an endpoint yet (Calico filters it out).
  assert.deepEqual(h.apply([wep('ns', 'db-3', { node: 'node-3', ips: [], labels: { role: 'db' } })]), []);
});

test('labels moving an endpoint into and out of a selector; unrelated label changes send nothing', () => {
  const h = setup();
  const web = (labels: Record<string, string>) => wep('ns', 'web-1', { node: 'node-2', ips: ['10.0.1.5'], labels });
  assert.deepEqual(h.apply([web({ role: 'web' })]), []);
  assert.deepEqual(h.apply([web({ role: 'db' })]), [delta(['10.0.1.5/32'], [])]);
  assert.deepEqual(h.apply([web({ role: 'db', version: '2' })]), []);
  assert.deepEqual(h.apply([web({ role: 'web', version: '2' })]), [delta([], ['10.0.1.5/32'])]);
});

test('inherited labels: a namespace label change moves every endpoint of the namespace', () => {
  const h = harness();
  h.start([
    namespace('ns', { env: 'a' }),
    namespace('other', { env: 'b' }),
    wep('ns', 'client', { ips: ['10.0.0.1'], labels: { app: 'client' } }),
    wep('other', 'x', { node: 'node-2', ips: ['10.0.1.1'] }),
    wep('other', 'y', { node: 'node-2', ips: ['10.0.1.2'] }),
    gnp('p', { selector: "app == 'client'", ingress: [{ action: 'Allow', source: { namespaceSelector: "env == 'a'" } }] }),
  ]);
  const id = setId('pcns.env == "a"');
  assert.deepEqual(h.dp.members(id), ['10.0.0.1/32']);
  assert.deepEqual(h.apply([namespace('other', { env: 'a' })]), [delta(['10.0.1.1/32', '10.0.1.2/32'], [], id)]);
  assert.deepEqual(h.apply([namespace('other', { env: 'a', extra: '1' })]), []);
  assert.deepEqual(h.apply([del('Profile', 'kns.other')]), [delta([], ['10.0.1.1/32', '10.0.1.2/32'], id)]);
});

test('address change on an endpoint: one delta with both sides', () => {
  const h = setup();
  assert.deepEqual(h.apply([wep('ns', 'db-1', { node: 'node-2', ips: ['10.0.1.7'], labels: { role: 'db' } })]), [delta(['10.0.1.7/32'], ['10.0.1.1/32'])]);
});

test('two endpoints sharing an address: the member stays until both are gone', () => {
  const h = setup();
  const a = wep('ns', 'a', { node: 'node-2', ips: ['10.0.1.9'], labels: { role: 'db' } });
  const b = wep('ns', 'b', { node: 'node-3', ips: ['10.0.1.9'], labels: { role: 'db' } });
  assert.deepEqual(h.apply([a]), [delta(['10.0.1.9/32'], [])]);
  assert.deepEqual(h.apply([b]), []);
  assert.deepEqual(h.apply([del('WorkloadEndpoint', 'a', 'ns')]), []);
  assert.deepEqual(h.dp.members(DB), ['10.0.1.1/32', '10.0.1.9/32']);
  assert.deepEqual(h.apply([wep('ns', 'b', { node: 'node-3', ips: ['10.0.1.9'], labels: { role: 'web' } })]), [delta([], ['10.0.1.9/32'])]);
  // A network set covering the same CIDR as an endpoint's host route is counted the same way.
  assert.deepEqual(h.apply([gnetset('n', ['10.0.1.1/32'], { role: 'db' })]), []);
  assert.deepEqual(h.apply([del('WorkloadEndpoint', 'db-1', 'ns')]), []);
  assert.deepEqual(h.apply([del('GlobalNetworkSet', 'n')]), [delta([], ['10.0.1.1/32'])]);
});

test('network set nets change: only the moved CIDRs', () => {
  const h = setup();
  assert.deepEqual(h.apply([gnetset('n', ['10.10.0.0/16', '10.11.0.5'], { role: 'db' })]), [delta(['10.10.0.0/16', '10.11.0.5/32'], [])]);
  assert.deepEqual(h.apply([gnetset('n', ['10.10.0.0/16', '10.12.0.0/16'], { role: 'db' })]), [delta(['10.12.0.0/16'], ['10.11.0.5/32'])]);
  assert.deepEqual(h.apply([gnetset('n', ['10.10.0.0/16', '10.12.0.0/16'], { role: 'x' })]), [delta([], ['10.10.0.0/16', '10.12.0.0/16'])]);
});

test('within one batch, changes that cancel out send nothing', () => {
  const h = setup();
  const x = wep('ns', 'x', { node: 'node-2', ips: ['10.0.1.50'], labels: { role: 'db' } });
  assert.deepEqual(h.apply([x, del('WorkloadEndpoint', 'x', 'ns')]), []);
  assert.deepEqual(h.apply([del('WorkloadEndpoint', 'db-1', 'ns'), wep('ns', 'db-1', { node: 'node-2', ips: ['10.0.1.1'], labels: { role: 'db' } })]), []);
});

test('sets come and go with the rules that use them; a shared set stays while any user remains', () => {
  const h = setup();
  const q = gnp('q', {
    selector: "app == 'client'",
    ingress: [
      { action: 'Allow', source: { selector: "role == 'db'" } },
      { action: 'Deny', source: { selector: "role == 'cache'" } },
    ],
  });
  const added = h.apply([q, wep('ns', 'cache', { node: 'node-2', ips: ['10.0.1.20', '10.0.1.21'], labels: { role: 'cache' } })]);
  const cache = setId("role == 'cache'");
  assert.deepEqual(
    added.map((m) => m.kind),
    ['IPSetUpdate', 'ActivePolicyUpdate', 'WorkloadEndpointUpdate'],
  );
  assert.deepEqual(added[0], { kind: 'IPSetUpdate', id: cache, type: 'net', members: ['10.0.1.20/32', '10.0.1.21/32'] });
  // p goes: the role == 'db' set is still used by q.
  assert.deepEqual(
    h.apply([del('GlobalNetworkPolicy', 'p')]).map((m) => m.kind),
    ['WorkloadEndpointUpdate', 'ActivePolicyRemove'],
  );
  assert.ok(h.dp.ipSets.has(DB));
  // q goes: both sets go, after the policy.
  const removed = h.apply([del('GlobalNetworkPolicy', 'q')]);
  assert.deepEqual(removed, [
    removed[0],
    { kind: 'ActivePolicyRemove', id: { tier: 'default', name: 'q' } },
    ...[DB, cache].sort().map((id) => ({ kind: 'IPSetRemove' as const, id })),
  ]);
  assert.equal(removed[0].kind, 'WorkloadEndpointUpdate');
  assert.equal(h.dp.ipSets.size, 0);
});
