import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalState, updateKey } from '../../src/client/index.js';
import { jsonEqual } from '../../src/common/index.js';
import { upd } from './helpers.js';

describe('LocalState', () => {
  it('delivers new and changed values, drops identical ones and deletions of unknown keys', () => {
    const s = new LocalState();
    const a1 = upd('Node', 'a', 1, { asn: 64512 });
    assert.deepEqual(s.apply([a1]), [a1]);
    assert.deepEqual(s.apply([upd('Node', 'a', 2, { asn: 64512 })]), []);
    assert.equal(s.get('Node//a')?.revision, 2, 'the newer revision is kept without a delivery');
    const a3 = upd('Node', 'a', 3, { asn: 64513 });
    assert.deepEqual(s.apply([a3]), [a3]);
    assert.deepEqual(s.apply([upd('Node', 'zz', 4)]), []);
    const del = upd('Node', 'a', 5);
    assert.deepEqual(s.apply([del]), [del]);
    assert.equal(s.size, 0);
    assert.deepEqual(s.apply([del]), [], 'a second deletion is not a change');
  });

  it('applies a batch in order (set then delete of one key is both delivered)', () => {
    const s = new LocalState();
    const set = upd('IPPool', 'p', 1, { cidr: '10.0.0.0/16' });
    const del = upd('IPPool', 'p', 2);
    assert.deepEqual(s.apply([set, del]), [set, del]);
    assert.equal(s.size, 0);
  });

  it('reconciles a snapshot: synthesises deletions only for keys the snapshot did not mention', () => {
    const s = new LocalState();
    s.apply([upd('Node', 'a', 1, { x: 1 }), upd('Node', 'b', 1, { x: 1 }), upd('WorkloadEndpoint', 'w', 1, { x: 1 }, 'ns1')]);
    s.beginSnapshot();
    assert.ok(s.inSnapshot);
    assert.deepEqual(s.apply([upd('Node', 'a', 9, { x: 1 })]), []);
    const deletions = s.endSnapshot(9);
    assert.deepEqual(deletions, [
      { kind: 'Node', name: 'b', revision: 9 },
      { kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'w', revision: 9 },
    ]);
    assert.deepEqual(s.entries().map(updateKey), ['Node//a']);
    assert.equal(s.inSnapshot, false);
  });

  it('a deletion inside a snapshot counts as mentioned', () => {
    const s = new LocalState();
    s.apply([upd('Node', 'a', 1, { x: 1 })]);
    s.beginSnapshot();
    s.apply([upd('Node', 'a', 2)]);
    assert.deepEqual(s.endSnapshot(2), []);
  });

  it('an aborted snapshot synthesises nothing, and ending without a snapshot is a no-op', () => {
    const s = new LocalState();
    s.apply([upd('Node', 'a', 1, { x: 1 })]);
    s.beginSnapshot();
    s.abortSnapshot();
    assert.deepEqual(s.endSnapshot(5), []);
    assert.equal(s.size, 1);
  });

  it('keys namespaced and cluster-scoped kinds apart', () => {
    assert.equal(updateKey({ kind: 'NetworkPolicy', namespace: 'ns', name: 'p' }), 'NetworkPolicy/ns/p');
    assert.equal(updateKey({ kind: 'GlobalNetworkPolicy', name: 'p' }), 'GlobalNetworkPolicy//p');
    const s = new LocalState();
    s.apply([upd('NetworkPolicy', 'p', 1, { order: 1 }, 'a'), upd('NetworkPolicy', 'p', 1, { order: 1 }, 'b')]);
    assert.equal(s.size, 2);
  });
});

describe('jsonEqual', () => {
  it('compares structure, not key order or identity', () => {
    assert.ok(jsonEqual({ labels: { a: '1', b: '2' }, spec: { x: [1, { y: null }] } }, { spec: { x: [1, { y: null }] }, labels: { b: '2', a: '1' } }));
    assert.ok(jsonEqual({ a: 1, b: undefined }, { a: 1 }));
    assert.ok(jsonEqual(Buffer.from([1, 2]), new Uint8Array([1, 2])));
  });

  it('sees every kind of difference', () => {
    assert.ok(!jsonEqual({ a: 1 }, { a: 2 }));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 0 }));
    assert.ok(!jsonEqual([1, 2], [2, 1]));
    assert.ok(!jsonEqual([1], { 0: 1 }));
    assert.ok(!jsonEqual({ a: null }, { a: {} }));
    assert.ok(!jsonEqual({ a: '1' }, { a: 1 }));
    assert.ok(!jsonEqual(undefined, {}));
    assert.ok(!jsonEqual(Buffer.from([1]), Buffer.from([2])));
  });
});
