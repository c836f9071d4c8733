import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SyncerUpdate } from '@cattail/typha/protocol';
import { BgpModelStore } from '../../src/index.js';
import { affinity, bgpConfig, bgpFilter, bgpUpdates, block, deletion, endpointSlice, node, peer, pool, service, workload } from '../helpers/resources.js';

test('the store keeps the latest value per resource and drops deleted ones', () => {
  const store = new BgpModelStore();
  assert.equal(
    store.apply(
      bgpUpdates([
        node('a', { ipv4: '10.0.0.1/24', labels: { x: 'y' } }),
        pool('p', '10.65.0.0/16'),
        block('10.65.1.0/26', 'a'),
        affinity('a', '10.65.2.0/26', 'pending'),
      ]),
    ),
    true,
  );
  const m = store.model();
  assert.deepEqual(m.nodes.get('a'), { name: 'a', labels: { x: 'y' }, bgp: { ipv4Address: '10.0.0.1/24' } });
  assert.equal(m.pools.get('p')?.cidr, '10.65.0.0/16');
  assert.deepEqual(m.blocks.get('10-65-1-0-26'), { cidr: '10.65.1.0/26', affinity: 'host:a' });
  assert.deepEqual(m.affinities.get('a-10-65-2-0-26'), { node: 'a', cidr: '10.65.2.0/26', state: 'pending', deleted: false });

  store.apply(bgpUpdates([node('a', { ipv4: '10.0.0.9/24' })], 2));
  assert.equal(m.nodes.get('a')?.bgp?.ipv4Address, '10.0.0.9/24');
  assert.deepEqual(m.nodes.get('a')?.labels, {});
  assert.equal(store.apply([deletion('Node', 'a'), deletion('IPPool', 'p')]), true);
  assert.equal(m.nodes.size, 0);
  assert.equal(m.pools.size, 0);
});

test('apply says whether anything confd reads changed', () => {
  const store = new BgpModelStore();
  assert.equal(store.apply([deletion('BGPPeer', 'never-seen')]), false);
  // A kind this build's bgp views do not have (as a newer Typha could send) changes nothing.
  assert.equal(store.apply([{ kind: 'HostEndpoint', name: 'h', revision: 1, value: { spec: {} } } as unknown as SyncerUpdate<'bgp'>]), false);
  assert.equal(store.apply(bgpUpdates([peer('p', { peerIP: '192.0.2.1', asNumber: 65001 })])), true);
});

test('a BlockAffinity written by libcalico-go with deleted as a string is read as a boolean', () => {
  const store = new BgpModelStore();
  store.apply([{ kind: 'BlockAffinity', name: 'a-x', revision: 1, value: { spec: { node: 'a', cidr: '10.65.1.0/26', state: 'confirmed', deleted: 'true' } } }]);
  assert.equal(store.model().affinities.get('a-x')?.deleted, true);
});

test("a store made for a node keeps that node's workload endpoints only: another node's pod costs no render", () => {
  const store = new BgpModelStore({ node: 'a' });
  assert.equal(store.apply(bgpUpdates([workload('b', 'p1', ['10.65.2.5/32'], { app: 'x' })])), false);
  assert.equal(store.apply(bgpUpdates([workload('a', 'p2', ['10.65.1.5/32'], { app: 'x' })])), true);
  const [w] = store.model().workloads.values();
  assert.equal(w.key, 'default/a-k8s-p2-eth0');
  assert.deepEqual([w.node, w.labels.app, w.ipNetworks], ['a', 'x', ['10.65.1.5/32']]);
  // Moved to another node (same name): dropped, and that is a change.
  const moved = bgpUpdates([workload('b', 'p2', ['10.65.1.5/32'], { app: 'x' })])[0];
  assert.equal(store.apply([{ ...moved, name: 'a-k8s-p2-eth0' }]), true);
  assert.equal(store.model().workloads.size, 0);
});

test('BGPFilters are kept by name and dropped on delete', () => {
  const store = new BgpModelStore();
  assert.equal(store.apply(bgpUpdates([bgpFilter('f', { importV4: [{ action: 'Reject' }] })])), true);
  assert.deepEqual(store.model().filters.get('f'), { importV4: [{ action: 'Reject' }] });
  assert.equal(store.apply([deletion('BGPFilter', 'f')]), true);
  assert.equal(store.model().filters.size, 0);
});

test("Services and EndpointSlices: a node's store renders again only when its own ready endpoints change, and the /32 follows them", async () => {
  const { renderBirdConfig } = await import('../../src/index.js');
  const store = new BgpModelStore({ node: 'a' });
  store.apply(
    bgpUpdates([
      node('a', { ipv4: '172.31.0.1/24' }),
      bgpConfig('default', { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }),
      service('shop', 'web', { clusterIPs: ['10.96.0.10'], externalTrafficPolicy: 'Local' }),
      endpointSlice('shop', 'web-1', 'web', [['10.65.2.4', 'b', true]]),
    ]),
  );
  const advertised = () => renderBirdConfig(store.model(), 'a').text.includes('route 10.96.0.10/32 blackhole;');
  assert.equal(advertised(), false, 'no endpoint on a');
  // Another node's endpoints changing: no render.
  assert.equal(store.apply(bgpUpdates([endpointSlice('shop', 'web-1', 'web', [['10.65.2.5', 'b', true]])], 2)), false);
  // A ready endpoint on this node: render, and the /32 appears.
  assert.equal(
    store.apply(
      bgpUpdates(
        [
          endpointSlice('shop', 'web-1', 'web', [
            ['10.65.2.5', 'b', true],
            ['10.65.1.4', 'a', true],
          ]),
        ],
        3,
      ),
    ),
    true,
  );
  assert.equal(advertised(), true);
  // Not ready any more: withdrawn.
  assert.equal(
    store.apply(
      bgpUpdates(
        [
          endpointSlice('shop', 'web-1', 'web', [
            ['10.65.2.5', 'b', true],
            ['10.65.1.4', 'a', false],
          ]),
        ],
        4,
      ),
    ),
    true,
  );
  assert.equal(advertised(), false);
  // Ready again, then the Service turns to Cluster: withdrawn (the range covers it).
  store.apply(bgpUpdates([endpointSlice('shop', 'web-1', 'web', [['10.65.1.4', 'a', true]])], 5));
  assert.equal(advertised(), true);
  assert.equal(store.apply(bgpUpdates([service('shop', 'web', { clusterIPs: ['10.96.0.10'], externalTrafficPolicy: 'Cluster' })], 6)), true);
  assert.equal(advertised(), false);
  // The slice goes: a change for this node.
  assert.equal(store.apply([deletion('KubernetesEndpointSlice', 'web-1', 7)].map((u) => ({ ...u, namespace: 'shop' }))), true);
  assert.equal(store.model().slices.size, 0);
});
