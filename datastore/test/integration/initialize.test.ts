// ensureInitialized against a real etcd: the first call creates ClusterInformation and the
// built-in tiers as Calico's first write does; later calls fill in only what is missing and never
// overwrite, and the datastore migration lock (datastoreReady: false) is left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource, type Resource } from '@cattail/api';
import { sharedEtcd } from '../../src/testing/index.js';
import { ensureInitialized } from '../../src/initialize.js';

const fx = sharedEtcd({ wipe: '/calico/' });

const CI = { kind: 'ClusterInformation', name: 'default' };

test('an empty datastore gets ClusterInformation and the three built-in tiers; a second call changes nothing', async () => {
  const first = await ensureInitialized(fx.ds);
  assert.deepEqual(first, { clusterInformation: 'created', tiersCreated: ['kube-admin', 'default', 'kube-baseline'] });
  const ci = await fx.ds.get(CI);
  assert.deepEqual(validateResource(ci), []);
  const spec = ci.spec as { clusterGUID: string; datastoreReady: boolean };
  assert.match(spec.clusterGUID, /^[0-9a-f]{32}$/);
  assert.deepEqual(Object.keys(spec).sort(), ['clusterGUID', 'datastoreReady'], 'no version or type unless given, as calicoctl writes it');
  assert.equal(spec.datastoreReady, true);
  const tiers = (await fx.ds.list('Tier')).items.map((t) => [t.metadata.name, t.spec]);
  assert.deepEqual(tiers, [
    ['default', { order: 1_000_000, defaultAction: 'Deny' }],
    ['kube-admin', { order: 1_000, defaultAction: 'Pass' }],
    ['kube-baseline', { order: 10_000_000, defaultAction: 'Pass' }],
  ]);

  const second = await ensureInitialized(fx.ds);
  assert.deepEqual(second, { clusterInformation: 'unchanged', tiersCreated: [] });
  assert.equal((await fx.ds.get(CI)).metadata.resourceVersion, ci.metadata.resourceVersion);
});

test('an existing ClusterInformation is filled in, never overwritten; datastoreReady false (the migrate lock) stays', async () => {
  const locked: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'ClusterInformation',
    metadata: { name: 'default' },
    spec: { clusterType: 'k8s,bgp', calicoVersion: 'v3.28.0', datastoreReady: false },
  };
  await fx.ds.create(locked);
  const r = await ensureInitialized(fx.ds, { clusterType: 'bgp,cattail', newClusterGUID: () => 'ab'.repeat(16) });
  assert.equal(r.clusterInformation, 'updated');
  assert.deepEqual((await fx.ds.get(CI)).spec, {
    clusterType: 'k8s,bgp,cattail',
    calicoVersion: 'v3.28.0',
    datastoreReady: false,
    clusterGUID: 'ab'.repeat(16),
  });
});

test('a user-made tier of a built-in name is left as it is; concurrent first writers create one ClusterInformation', async () => {
  await fx.ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'default', labels: { mine: 'yes' } }, spec: { order: 1_000_000 } });
  const results = await Promise.all(Array.from({ length: 5 }, (_, i) => ensureInitialized(fx.ds, { newClusterGUID: () => String(i).repeat(32) })));
  assert.equal(results.filter((x) => x.clusterInformation === 'created').length, 1);
  const guid = (await fx.ds.get(CI)).spec as { clusterGUID: string };
  assert.equal(guid.clusterGUID, String(results.findIndex((x) => x.clusterInformation === 'created')).repeat(32));
  const def = await fx.ds.get({ kind: 'Tier', name: 'default' });
  assert.deepEqual([def.metadata.labels, def.spec], [{ mine: 'yes' }, { order: 1_000_000 }]);
});
