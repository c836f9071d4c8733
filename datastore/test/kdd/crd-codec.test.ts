import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { backendName, crdKind, fromCrdObject, METADATA_ANNOTATION, toCrdObject } from '../../src/kdd/crd-codec.js';

const UID = '6ba7b810-9dad-41d1-80b4-00c04fd430c8';

test('backendName: tiered policy kinds get the default tier prefix, other kinds and prefixed names keep theirs', () => {
  assert.equal(backendName('NetworkPolicy', 'allow'), 'default.allow');
  assert.equal(backendName('GlobalNetworkPolicy', 'sec.allow'), 'sec.allow');
  assert.equal(backendName('StagedNetworkPolicy', 'x'), 'default.x');
  assert.equal(backendName('IPPool', 'pool'), 'pool');
});

test('a v3 resource goes to Calico’s CRD layout and back unchanged', () => {
  const res: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: {
      name: 'allow',
      namespace: 'ns1',
      resourceVersion: '42',
      uid: UID,
      creationTimestamp: '2026-01-02T03:04:05Z',
      labels: { 'projectcalico.org/tier': 'default', app: 'web' },
      annotations: { note: 'hi' },
    },
    spec: { tier: 'default', order: 10 },
  };
  const obj = toCrdObject(res);
  assert.equal(obj.apiVersion, 'crd.projectcalico.org/v1');
  assert.equal(obj.kind, 'NetworkPolicy');
  assert.equal(obj.metadata.name, 'default.allow');
  assert.equal(obj.metadata.namespace, 'ns1');
  assert.equal(obj.metadata.resourceVersion, '42');
  assert.notEqual(obj.metadata.uid, UID);
  assert.deepEqual(obj.metadata.labels, { 'projectcalico.org/tier': 'default' });
  assert.deepEqual(JSON.parse(obj.metadata.annotations?.[METADATA_ANNOTATION] ?? ''), {
    name: 'allow',
    creationTimestamp: '2026-01-02T03:04:05Z',
    labels: { 'projectcalico.org/tier': 'default', app: 'web' },
    annotations: { note: 'hi' },
  });
  assert.deepEqual(fromCrdObject(crdKind('NetworkPolicy'), obj), res);
});

test('IPAMConfiguration is the CRD kind IPAMConfig; an object without the annotation reads with its own timestamp', () => {
  assert.equal(toCrdObject({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name: 'default' }, spec: {} }).kind, 'IPAMConfig');
  const read = fromCrdObject(crdKind('IPPool'), {
    metadata: { name: 'p', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z', uid: UID },
    spec: { cidr: '10.0.0.0/24' },
  });
  assert.deepEqual(read.metadata, {
    name: 'p',
    resourceVersion: '7',
    creationTimestamp: '2026-01-01T00:00:00Z',
    uid: toCrdObject({ ...read, metadata: { name: 'p', uid: UID } }).metadata.uid,
  });
  assert.throws(
    () => crdKind('Profile'),
    (e: Error & { code: string }) => e.code === 'UNKNOWN_KIND',
  );
});

test('a corrupt metadata annotation is a CorruptValueError naming the object', () => {
  assert.throws(
    () => fromCrdObject(crdKind('IPPool'), { metadata: { name: 'p', annotations: { [METADATA_ANNOTATION]: '{nope' } }, spec: {} }),
    (e: Error & { code: string }) => e.code === 'CORRUPT_VALUE' && e.message.includes('crd.projectcalico.org/ippools/p'),
  );
});
