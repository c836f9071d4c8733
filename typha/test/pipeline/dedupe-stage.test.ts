import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDedupeStage } from '../../src/pipeline/dedupe-stage.js';
import { jsonEqual } from '../../src/common/json-equal.js';
import type { Update } from '../../src/protocol/messages.js';
import { recordingSink } from './helpers.js';

const up = (name: string, revision: number, spec?: Record<string, unknown>): Update =>
  spec === undefined ? { kind: 'IPPool', name, revision } : { kind: 'IPPool', name, revision, value: { spec } };

test('an update equal to the current value is skipped and counted', () => {
  const sink = recordingSink<Update>();
  const stage = createDedupeStage(sink);
  stage.onUpdates([up('a', 1, { cidr: '10.0.0.0/16', nat: true })], 1);
  // Same content, other key order and a new revision: nothing changed for the agent.
  stage.onUpdates([up('a', 2, { nat: true, cidr: '10.0.0.0/16' })], 2);
  assert.deepEqual(sink.calls[1], { type: 'updates', updates: [], revision: 2 });
  assert.deepEqual(stage.stats(), { skipped: 1, keys: 1 });
  stage.onUpdates([up('a', 3, { cidr: '10.0.0.0/16', nat: false })], 3);
  assert.equal(sink.updates().length, 2);
  assert.equal(sink.updates()[1].revision, 3);
});

test('deletes of unknown keys are dropped, of known keys passed, and a re-create passes', () => {
  const sink = recordingSink<Update>();
  const stage = createDedupeStage(sink);
  stage.onUpdates([up('x', 1)], 1);
  assert.deepEqual(sink.updates(), []);
  stage.onUpdates([up('a', 2, { cidr: 'c' }), up('a', 3)], 3);
  stage.onUpdates([up('a', 4)], 4);
  stage.onUpdates([up('a', 5, { cidr: 'c' })], 5);
  assert.deepEqual(
    sink.updates().map((u) => [u.revision, u.value !== undefined]),
    [
      [2, true],
      [3, false],
      [5, true],
    ],
  );
  assert.deepEqual(stage.stats(), { skipped: 2, keys: 1 });
});

test('namespaces and kinds are separate keys', () => {
  const sink = recordingSink<Update>();
  const stage = createDedupeStage(sink);
  const v = { spec: { selector: 'all()' } };
  stage.onUpdates(
    [
      { kind: 'NetworkPolicy', name: 'p', namespace: 'a', revision: 1, value: v },
      { kind: 'NetworkPolicy', name: 'p', namespace: 'b', revision: 1, value: v },
      { kind: 'GlobalNetworkPolicy', name: 'p', revision: 1, value: v },
    ],
    1,
  );
  assert.equal(sink.updates().length, 3);
  assert.equal(stage.stats().skipped, 0);
});

test('a batch with nothing to drop is passed on as the same array', () => {
  const sink = recordingSink<Update>();
  const stage = createDedupeStage(sink);
  const batch = [up('a', 1, { x: 1 }), up('b', 1, { x: 2 })];
  stage.onUpdates(batch, 1);
  const call = sink.calls[0];
  assert.ok(call.type === 'updates' && call.updates === batch);
  stage.onStatus('resync', 1);
  assert.deepEqual(sink.calls[1], { type: 'status', status: 'resync', revision: 1 });
});

test('jsonEqual: structure, not identity or key order; undefined keys are absent', () => {
  assert.ok(jsonEqual({ a: [1, { b: 'x' }], c: null }, { c: null, a: [1, { b: 'x' }] }));
  assert.ok(jsonEqual({ a: 1, b: undefined }, { a: 1 }));
  assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!jsonEqual([1, 2], [2, 1]));
  assert.ok(!jsonEqual({ a: [] }, { a: {} }));
  assert.ok(!jsonEqual({ a: '1' }, { a: 1 }));
  assert.ok(!jsonEqual(null, {}));
  assert.ok(!jsonEqual({ a: null }, {}));
});
