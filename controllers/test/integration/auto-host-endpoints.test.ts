// Automatic host endpoints on a real etcd: one <node>-auto-hep per Calico Node with Calico's
// labels, interface and expectedIPs; a relabelled node's endpoint follows (through the Node
// watch, well before the period), a deleted node's goes; a hand-made endpoint of the same name
// is never touched; turned off, the ones it made are deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import { AutoHostEndpoints, CREATED_BY, CREATED_BY_LABEL } from '../../src/auto-host-endpoints.js';

const fx = sharedEtcd();
const HOUR = 3_600_000;

const node = (name: string, labels: Record<string, string>, spec: Record<string, unknown>): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: { name, labels },
  spec,
});

const heps = async () => new Map((await fx.ds.list('HostEndpoint')).items.map((h) => [h.metadata.name, h]));

test('one endpoint per node, following labels and deletions; hand-made ones untouched; off removes ours', async (t) => {
  await fx.ds.create(node('n1', { role: 'worker' }, { bgp: { ipv4Address: '10.0.0.1/24', ipv6Address: 'fd00::1/64' }, ipv4VXLANTunnelAddr: '10.244.0.1' }));
  await fx.ds.create(node('n2', {}, { bgp: { ipv4Address: '10.0.0.2/24' } }));
  await fx.ds.create(node('n3', {}, { bgp: { ipv4Address: '10.0.0.3/24' } }));
  await fx.ds.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'HostEndpoint',
    metadata: { name: 'n3-auto-hep' },
    spec: { node: 'n3', interfaceName: 'eth0' },
  });

  // A period of an hour: every change below is seen through the Node watch.
  const on = new AutoHostEndpoints(fx.ds, { enabled: true, periodMs: HOUR, debounceMs: 20 });
  on.start();
  t.after(() => on.stop());
  await until(async () => (await heps()).has('n2-auto-hep'), 'the first reconcile');
  const n1 = (await heps()).get('n1-auto-hep')!;
  assert.deepEqual(n1.metadata.labels, { role: 'worker', [CREATED_BY_LABEL]: CREATED_BY });
  assert.deepEqual(n1.spec, { node: 'n1', interfaceName: '*', expectedIPs: ['10.0.0.1', 'fd00::1', '10.244.0.1'], profiles: ['projectcalico-default-allow'] });
  assert.deepEqual((await heps()).get('n3-auto-hep')!.spec, { node: 'n3', interfaceName: 'eth0' }, 'the hand-made one is left alone');

  const current = await fx.ds.get({ kind: 'Node', name: 'n1' });
  await fx.ds.update({ ...current, metadata: { ...current.metadata, labels: { role: 'edge' } } });
  await fx.ds.delete({ kind: 'Node', name: 'n2' });
  await until(async () => {
    const now = await heps();
    return now.get('n1-auto-hep')?.metadata.labels?.role === 'edge' && !now.has('n2-auto-hep');
  }, 'the relabel and the deletion');
  assert.equal(on.status().errors, 0);
  await on.stop();

  const off = new AutoHostEndpoints(fx.ds, { enabled: false, periodMs: HOUR, debounceMs: 20 });
  off.start();
  t.after(() => off.stop());
  await until(async () => !(await heps()).has('n1-auto-hep'), 'ours deleted when off');
  assert.deepEqual([...(await heps()).keys()], ['n3-auto-hep']);
});
