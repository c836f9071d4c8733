// The writer's resources are valid projectcalico.org/v3 values, and each new version of a key
// is a real change for every syncer that carries its kind (so no write is deduplicated away
// and the fence always reaches both syncers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource, type Resource } from '@cattail/api';
import { jsonEqual, projectUpdate } from '../../src/pipeline/index.js';
import type { SyncerType } from '../../src/protocol/messages.js';
import { fencePool, resourceAt, UNIVERSE } from './resources.js';

function project(syncer: SyncerType, res: Resource) {
  return projectUpdate(syncer, { key: '', kind: res.kind, name: res.metadata.name, namespace: res.metadata.namespace, revision: 1, resource: res })?.value;
}

test('every kind, index and version validates', () => {
  for (const [kind, { size }] of UNIVERSE) {
    for (let index = 0; index < size; index++) {
      for (let v = 0; v < 12; v++) {
        const res = resourceAt({ kind, index }, v);
        assert.deepEqual(validateResource(res), [], `${kind} #${index} v${v}`);
      }
    }
  }
  for (const n of [1, 2, 3]) assert.deepEqual(validateResource(fencePool(n)), []);
});

test('consecutive versions project differently for each syncer that carries the kind', () => {
  for (const [kind] of UNIVERSE) {
    for (const syncer of ['felix', 'bgp'] as const) {
      for (let v = 0; v < 12; v++) {
        const a = project(syncer, resourceAt({ kind, index: 1 }, v));
        const b = project(syncer, resourceAt({ kind, index: 1 }, v + 1));
        if (a === undefined) continue; // this syncer does not carry the kind
        assert.ok(!jsonEqual(a, b), `${kind} v${v}→v${v + 1} is a change for ${syncer}`);
      }
    }
  }
  for (const syncer of ['felix', 'bgp'] as const) {
    assert.ok(!jsonEqual(project(syncer, fencePool(1)), project(syncer, fencePool(2))), `the fence moves for ${syncer}`);
  }
});
