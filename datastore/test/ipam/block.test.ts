// Block arithmetic and bookkeeping (pure): ordinals ⇄ addresses, a pool's n-th block, assign
// and release keeping allocations / unallocated / attributes consistent (checked with the api's
// own IPAMBlock validator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIP, parseCIDR, parseIP, validateResource, type CIDR } from '@cattail/api';
import {
  assignFromBlock,
  blockCount,
  blockSize,
  emptyBlock,
  freeOrdinals,
  ipAt,
  isEmpty,
  normalizeBlock,
  nthBlock,
  ordinalOf,
  ordinalsForHandle,
  releaseHandle,
  releaseOrdinals,
  type AllocationBlock,
} from '../../src/ipam/block.js';

const cidr = (s: string): CIDR => parseCIDR(s)!;

function valid(block: AllocationBlock): void {
  const issues = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPAMBlock',
    metadata: { name: block.cidr.replace(/[.:/]/g, '-') },
    spec: block,
  });
  assert.deepEqual(issues, []);
}

test('ordinals map to addresses and back, v4 and v6', () => {
  const b4 = cidr('10.66.1.64/26');
  assert.equal(blockSize(b4), 64);
  assert.equal(formatIP(ipAt(b4, 0)), '10.66.1.64');
  assert.equal(formatIP(ipAt(b4, 63)), '10.66.1.127');
  assert.equal(ordinalOf(b4, parseIP('10.66.1.100')!), 36);
  assert.equal(ordinalOf(b4, parseIP('10.66.1.128')!), undefined);
  const b6 = cidr('fd00:66::40/122');
  assert.equal(blockSize(b6), 64);
  assert.equal(formatIP(ipAt(b6, 5)), 'fd00:66::45');
  assert.equal(ordinalOf(b6, parseIP('fd00:66::7f')!), 63);
});

test("a pool's n-th block", () => {
  const pool = cidr('10.66.0.0/16');
  assert.equal(blockCount(pool, 26), 1024n);
  assert.equal(nthBlock(pool, 26, 0n), '10.66.0.0/26');
  assert.equal(nthBlock(pool, 26, 5n), '10.66.1.64/26');
  assert.equal(nthBlock(pool, 26, 1023n), '10.66.255.192/26');
  const v6 = cidr('fd00:66::/48');
  assert.equal(blockCount(v6, 122), 1n << 74n);
  assert.equal(nthBlock(v6, 122, 3n), 'fd00:66::c0/122');
});

test('an empty block lists every ordinal as free, in order, and is a valid IPAMBlock', () => {
  const b = emptyBlock(cidr('10.66.0.0/29'), { affinity: 'host:node-1', claimTime: '2026-01-01T00:00:00Z' });
  assert.deepEqual(b.unallocated, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(b.allocations, [null, null, null, null, null, null, null, null]);
  assert.equal(b.affinity, 'host:node-1');
  assert.ok(isEmpty(b));
  valid(b);
});

test('assign takes free ordinals from the front, skips reserved ones, records handle and sequence numbers', () => {
  const b0 = emptyBlock(cidr('10.66.0.0/29'));
  const r1 = assignFromBlock(b0, 2, 'h1', { pod: 'a' }, (o) => o === 0);
  assert.deepEqual(r1.ordinals, [1, 2]);
  assert.deepEqual(r1.block.allocations.slice(0, 3), [null, 0, 0]);
  assert.deepEqual(r1.block.unallocated, [0, 3, 4, 5, 6, 7]);
  assert.deepEqual(r1.block.attributes, [{ handle_id: 'h1', secondary: { pod: 'a' } }]);
  assert.deepEqual(r1.block.sequenceNumberForAllocation, { '1': 0, '2': 0 });
  assert.equal(r1.block.sequenceNumber, 1);
  assert.deepEqual(b0.unallocated.length, 8, 'the input is not modified');
  valid(r1.block);

  const r2 = assignFromBlock(r1.block, 10, 'h2', undefined, (o) => o === 0);
  assert.deepEqual(r2.ordinals, [3, 4, 5, 6, 7], 'no more than what is free');
  assert.deepEqual(r2.block.attributes[1], { handle_id: 'h2' });
  assert.deepEqual(
    freeOrdinals(r2.block, (o) => o === 0),
    [],
  );
  assert.deepEqual(freeOrdinals(r2.block), [0]);
  assert.deepEqual(assignFromBlock(r2.block, 1, 'h3', undefined, (o) => o === 0).ordinals, []);
  valid(r2.block);
});

test('release frees the handle’s ordinals to the back of the list and drops unused attributes', () => {
  let b = emptyBlock(cidr('10.66.0.0/29'));
  b = assignFromBlock(b, 2, 'h1', undefined).block; // 0,1 → attr 0
  b = assignFromBlock(b, 1, 'h2', undefined).block; // 2 → attr 1
  b = assignFromBlock(b, 1, 'h3', undefined).block; // 3 → attr 2
  const r = releaseHandle(b, 'h1');
  assert.deepEqual(r.ordinals, [0, 1]);
  assert.deepEqual(r.block.unallocated, [4, 5, 6, 7, 0, 1]);
  assert.deepEqual(
    r.block.attributes.map((a) => a.handle_id),
    ['h2', 'h3'],
    'renumbered',
  );
  assert.deepEqual(r.block.allocations.slice(0, 4), [null, null, 0, 1]);
  assert.deepEqual(ordinalsForHandle(r.block, 'h3'), [3]);
  assert.equal(r.block.sequenceNumberForAllocation['0'], undefined);
  valid(r.block);
  assert.deepEqual(releaseHandle(r.block, 'h1').ordinals, [], 'releasing twice frees nothing');
  const rest = releaseOrdinals(r.block, [2, 3, 3, 99]);
  assert.deepEqual(rest.ordinals, [2, 3]);
  assert.ok(isEmpty(rest.block));
  assert.deepEqual(rest.block.attributes, []);
  valid(rest.block);
});

test('normalizeBlock fills what another writer left out and drops a null affinity', () => {
  const b = normalizeBlock(
    { cidr: '10.66.0.0/30', affinity: null, allocations: [null, 0, null, null], unallocated: [0, 2, 3], attributes: [{ handle_id: 'x' }] },
    cidr('10.66.0.0/30'),
  );
  assert.equal(b.affinity, undefined);
  assert.equal(b.sequenceNumber, 0);
  assert.deepEqual(b.sequenceNumberForAllocation, {});
  assert.deepEqual(ordinalsForHandle(b, 'x'), [1]);
  assert.equal(b.strictAffinity, false);
});
