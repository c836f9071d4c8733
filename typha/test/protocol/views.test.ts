import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '@cattail/api';
import {
  NOT_SYNCED,
  PROJECTIONS,
  projectionTable,
  syncerKinds,
  VIEW_PROJECTIONS,
  type Projections,
  type SyncerUpdate,
} from '../../src/protocol/views/index.js';
import type { SpecView } from '../../src/protocol/views/projection.js';
import { createProjectionStage, projectUpdate } from '../../src/pipeline/projection-stage.js';
import { jsonEqual } from '../../src/common/json-equal.js';
import type { Update } from '../../src/protocol/messages.js';
import { SYNCER_TYPES } from '../../src/protocol/messages.js';
import { del, put, recordingSink, res } from '../pipeline/helpers.js';

const wep = (status: unknown, containerID = 'c1') =>
  res(
    'WorkloadEndpoint',
    'node1-k8s-pod1-eth0',
    {
      orchestrator: 'k8s',
      workload: 'pod1',
      pod: 'pod1',
      endpoint: 'eth0',
      containerID,
      node: 'node1',
      interfaceName: 'cali1234',
      mac: '0e:ee:ee:ee:ee:ee',
      ipNetworks: ['10.0.0.5/32'],
      profiles: ['kns.ns1'],
      serviceAccountName: 'default',
    },
    { namespace: 'ns1', labels: { app: 'web' }, status },
  );

const block = (allocations: (number | null)[]) =>
  res('IPAMBlock', '10-0-0-0-26', {
    cidr: '10.0.0.0/26',
    affinity: 'host:node1',
    strictAffinity: false,
    allocations,
    unallocated: [2, 3],
    attributes: [{ handle_id: 'h1', secondary: { node: 'node1' } }],
    sequenceNumber: allocations.length,
  });

const node = (extra: Record<string, unknown> = {}) =>
  res(
    'Node',
    'node1',
    {
      bgp: { ipv4Address: '192.168.0.1/24', asNumber: 64512, routeReflectorClusterID: '1.0.0.1', ipv4IPIPTunnelAddr: '10.0.0.1' },
      ipv4VXLANTunnelAddr: '10.0.0.2',
      vxlanTunnelMACAddr: '66:00:00:00:00:01',
      wireguard: { interfaceIPv4Address: '10.0.0.3' },
      addresses: [{ address: '192.168.0.1' }],
      ...extra,
    },
    { labels: { zone: 'a' }, status: { podCIDRs: ['10.0.0.0/24'] } },
  );

function project(syncer: (typeof SYNCER_TYPES)[number], r: ReturnType<typeof res>): Update | undefined {
  return projectUpdate(syncer, put(r, 10));
}

test('felix: a workload endpoint keeps labels and dataplane fields only', () => {
  const u = project('felix', wep({ phase: 'Running' }));
  assert.ok(u);
  assert.deepEqual(u, {
    kind: 'WorkloadEndpoint',
    name: 'node1-k8s-pod1-eth0',
    namespace: 'ns1',
    revision: 10,
    value: {
      labels: { app: 'web' },
      spec: {
        node: 'node1',
        interfaceName: 'cali1234',
        mac: '0e:ee:ee:ee:ee:ee',
        ipNetworks: ['10.0.0.5/32'],
        profiles: ['kns.ns1'],
        serviceAccountName: 'default',
      },
    },
  });
});

test('felix: a workload status or container id change projects to an equal value', () => {
  const a = project('felix', wep({ phase: 'Pending' }, 'c1'));
  const b = project('felix', wep({ phase: 'Running' }, 'c2'));
  assert.ok(jsonEqual(a?.value, b?.value));
  const moved = wep(undefined);
  (moved.spec as Record<string, unknown>).ipNetworks = ['10.0.0.6/32'];
  assert.ok(!jsonEqual(a?.value, project('felix', moved)?.value));
});

test('an IPAM allocation change reaches ipam only, not felix or bgp', () => {
  const before = block([0, 1, null, null]);
  const after = block([0, 1, 7, null]);
  for (const syncer of ['felix', 'bgp'] as const) {
    const a = project(syncer, before);
    assert.deepEqual(a?.value, { spec: { cidr: '10.0.0.0/26', affinity: 'host:node1' } });
    assert.ok(jsonEqual(a?.value, project(syncer, after)?.value), syncer);
  }
  assert.ok(!jsonEqual(project('ipam', before)?.value, project('ipam', after)?.value));
  assert.deepEqual(project('ipam', after)?.value?.spec?.allocations, [0, 1, 7, null]);
  // An affinity change does reach felix: it moves the route.
  const moved = block([0, 1]);
  (moved.spec as Record<string, unknown>).affinity = 'host:node2';
  assert.ok(!jsonEqual(project('felix', before)?.value, project('felix', moved)?.value));
});

test('node: each syncer gets its own slice', () => {
  assert.deepEqual(project('felix', node())?.value, {
    labels: { zone: 'a' },
    spec: {
      ipv4VXLANTunnelAddr: '10.0.0.2',
      vxlanTunnelMACAddr: '66:00:00:00:00:01',
      bgp: { ipv4Address: '192.168.0.1/24', ipv4IPIPTunnelAddr: '10.0.0.1' },
    },
  });
  assert.deepEqual(project('bgp', node())?.value, {
    labels: { zone: 'a' },
    spec: { bgp: { ipv4Address: '192.168.0.1/24', asNumber: 64512, routeReflectorClusterID: '1.0.0.1', ipv4IPIPTunnelAddr: '10.0.0.1' } },
  });
  assert.deepEqual(project('ipam', node())?.value, {
    labels: { zone: 'a' },
    spec: { ipv4VXLANTunnelAddr: '10.0.0.2', bgp: { ipv4IPIPTunnelAddr: '10.0.0.1' }, wireguard: { interfaceIPv4Address: '10.0.0.3' } },
  });
  assert.deepEqual(project('status', node())?.value, { labels: { zone: 'a' }, spec: { status: { podCIDRs: ['10.0.0.0/24'] } } });
  // An AS number change wakes confd but not Felix.
  const as = node({ bgp: { ipv4Address: '192.168.0.1/24', asNumber: 65000, ipv4IPIPTunnelAddr: '10.0.0.1', routeReflectorClusterID: '1.0.0.1' } });
  assert.ok(jsonEqual(project('felix', node())?.value, project('felix', as)?.value));
  assert.ok(!jsonEqual(project('bgp', node())?.value, project('bgp', as)?.value));
});

test('bgp: block affinities keep node, cidr, state; felix does not get them', () => {
  const aff = res('BlockAffinity', 'node1-10-0-0-0-26', { node: 'node1', cidr: '10.0.0.0/26', state: 'confirmed', deleted: false });
  assert.deepEqual(project('bgp', aff)?.value, { spec: { node: 'node1', cidr: '10.0.0.0/26', state: 'confirmed', deleted: false } });
  assert.equal(project('felix', aff), undefined);
});

test('bgp: workload endpoints only when Typha is told to send them; then labels, node and networks', () => {
  assert.equal(project('bgp', wep({ phase: 'Running' })), undefined, 'not by default');
  const withWeps = projectionTable({ bgpWorkloadEndpoints: true });
  const bgp = (r: ReturnType<typeof res>) => projectUpdate('bgp', put(r, 10), withWeps)?.value;
  assert.deepEqual(bgp(wep({ phase: 'Running' })), { labels: { app: 'web' }, spec: { node: 'node1', ipNetworks: ['10.0.0.5/32'] } });
  // A container restart (new containerID, same addresses) changes nothing confd reads.
  assert.ok(jsonEqual(bgp(wep(undefined, 'c1')), bgp(wep(undefined, 'c2'))));
  assert.deepEqual(projectionTable({ bgpWorkloadEndpoints: true }).felix, projectionTable().felix);
});

test('felix reads only the service ranges of BGPConfiguration', () => {
  const cfg = res('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: true, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] });
  assert.deepEqual(project('felix', cfg)?.value, { spec: { serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] } });
  assert.deepEqual(project('bgp', cfg)?.value, { spec: cfg.spec });
});

test('kinds per syncer', () => {
  assert.deepEqual(new Set(syncerKinds('status')), new Set(['Node', 'FelixConfiguration']));
  assert.ok(syncerKinds('ipam').includes('IPAMHandle'));
  assert.ok(!syncerKinds('felix').includes('IPAMHandle'));
  assert.ok(!syncerKinds('felix').includes('BGPPeer'));
  assert.ok(syncerKinds('bgp').includes('BGPFilter'));
  assert.ok(!syncerKinds('bgp').includes('WorkloadEndpoint'));
  assert.ok(syncerKinds('bgp', projectionTable({ bgpWorkloadEndpoints: true })).includes('WorkloadEndpoint'));
  for (const k of ['Profile', 'WorkloadEndpoint', 'HostEndpoint', 'NetworkPolicy', 'GlobalNetworkPolicy', 'Tier', 'NetworkSet', 'GlobalNetworkSet', 'IPPool']) {
    assert.ok(syncerKinds('felix').includes(k), k);
  }
  // Every kind in the table is a registered kind, and every registered kind goes somewhere.
  const known = new Set(allKinds().map((k) => k.kind));
  const used = new Set<string>();
  for (const s of SYNCER_TYPES)
    for (const k of PROJECTIONS[s].keys()) {
      assert.ok(known.has(k), `${s}: ${k}`);
      used.add(k);
    }
  assert.deepEqual(
    [...known].filter((k) => !used.has(k)).sort(),
    Object.keys(NOT_SYNCED).sort(),
    'every registered kind is carried by a syncer or listed, with a reason, in NOT_SYNCED',
  );
  for (const k of Object.keys(NOT_SYNCED)) assert.ok(known.has(k), k);
});

test('prototype names are not kinds', () => {
  assert.equal(projectUpdate('felix', put(res('constructor', 'x', {}), 1)), undefined);
  assert.equal(projectUpdate('felix', put(res('__proto__', 'x', {}), 1)), undefined);
});

test('a delete projects to an update without a value', () => {
  assert.deepEqual(projectUpdate('felix', del('NetworkPolicy', 'p', 11, 'ns1')), { kind: 'NetworkPolicy', name: 'p', namespace: 'ns1', revision: 11 });
});

test('the stage drops kinds the syncer does not carry but always passes the revision on', () => {
  const sink = recordingSink<Update>();
  const stage = createProjectionStage('felix', sink);
  stage.onUpdates([put(res('IPAMHandle', 'h1', { handleID: 'h1', block: {} }), 20)], 20);
  assert.deepEqual(sink.calls, [{ type: 'updates', updates: [], revision: 20 }]);
  stage.onUpdates([put(res('Tier', 'default', { order: 100 }), 21), del('BGPPeer', 'peer', 22)], 22);
  assert.deepEqual(sink.calls[1], {
    type: 'updates',
    updates: [{ kind: 'Tier', name: 'default', revision: 21, value: { spec: { order: 100 } } }],
    revision: 22,
  });
  stage.onStatus('in-sync', 22);
  assert.deepEqual(sink.calls[2], { type: 'status', status: 'in-sync', revision: 22 });
});

test('the views are checked by the compiler: projections against views, agents against updates', () => {
  type PoolOnly = { IPPool: SpecView<'IPPool'> };
  // @ts-expect-error: a view without its projection
  const missing: Projections<PoolOnly> = {};
  // @ts-expect-error: a projection for a kind the syncer has no view of
  const extra: Projections<PoolOnly> = { IPPool: (r) => ({ spec: r.spec }), Tier: (r: unknown) => ({ spec: r }) };
  // @ts-expect-error: a projection that does not make its view
  const wrong: Projections<PoolOnly> = { IPPool: (r) => ({ spec: { cidr: r.spec.blockSize } }) };
  assert.ok(missing && extra && wrong);

  // A switch on the kind narrows the value to that kind's view.
  const u: SyncerUpdate<'bgp'> = { kind: 'BlockAffinity', name: 'a', revision: 1, value: { spec: { node: 'n1', cidr: '10.0.0.0/26' } } };
  if (u.kind === 'BlockAffinity' && u.value) {
    const node: string = u.value.spec.node;
    assert.equal(node, 'n1');
  }
  // @ts-expect-error: the bgp syncer does not carry HostEndpoints
  const notCarried: SyncerUpdate<'bgp'> = { kind: 'HostEndpoint', name: 'w', revision: 1 };
  assert.ok(notCarried);
  // Every syncer's typed table and the pipeline's table name the same kinds.
  const everything = projectionTable({ bgpWorkloadEndpoints: true });
  for (const s of SYNCER_TYPES) assert.deepEqual(Object.keys(VIEW_PROJECTIONS[s]), syncerKinds(s, everything));
});
