// Pool selection (pure): version, disabled, allowedUses, assignmentMode, nodeSelector, requests;
// reservations per block; candidate order per node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCIDR, type Resource } from '@cattail/api';
import { selectPools, reservedIn } from '../../src/ipam/pools.js';
import { candidateBlocks } from '../../src/ipam/ipam-client.js';
import { InvalidIpamRequestError } from '../../src/ipam/errors.js';

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr, ...extra },
});

const pools = [
  pool('b-default', '10.1.0.0/16'),
  pool('a-off', '10.2.0.0/16', { disabled: true }),
  pool('c-manual', '10.3.0.0/16', { assignmentMode: 'Manual' }),
  pool('d-tunnel', '10.4.0.0/16', { allowedUses: ['Tunnel'] }),
  pool('e-zone', '10.5.0.0/16', { nodeSelector: "zone == 'a'", blockSize: 28 }),
  pool('v6', 'fd00::/48'),
];

test('without a request: enabled, automatic, workload pools of the version that select the node', () => {
  assert.deepEqual(
    selectPools(pools, 4, {}, undefined).map((p) => p.name),
    ['b-default'],
  );
  const zoned = selectPools(pools, 4, { zone: 'a' }, undefined);
  assert.deepEqual(
    zoned.map((p) => [p.name, p.blockPrefix]),
    [
      ['b-default', 26],
      ['e-zone', 28],
    ],
  );
  assert.deepEqual(
    selectPools(pools, 6, {}, undefined).map((p) => [p.name, p.blockPrefix]),
    [['v6', 122]],
  );
});

test('a request may name Manual pools by name or CIDR, in its order; a missing or disabled one is an error', () => {
  assert.deepEqual(
    selectPools(pools, 4, {}, ['10.3.0.0/16', 'b-default', 'fd00::/48']).map((p) => p.name),
    ['c-manual', 'b-default'],
  );
  assert.throws(() => selectPools(pools, 4, {}, ['10.9.0.0/16']), InvalidIpamRequestError);
  assert.throws(() => selectPools(pools, 4, {}, ['a-off']), /is disabled/);
  assert.deepEqual(selectPools(pools, 4, {}, ['e-zone']), [], 'a requested pool that does not select the node is skipped');
});

test('reservations are checked only for blocks they touch', () => {
  const res = [parseCIDR('10.1.0.8/30')!, parseCIDR('10.9.0.1/32')!];
  assert.equal(reservedIn(parseCIDR('10.1.1.0/26')!, res), undefined);
  const r = reservedIn(parseCIDR('10.1.0.0/26')!, res)!;
  assert.deepEqual([7, 8, 11, 12].map(r), [false, true, true, false]);
});

test('candidate blocks: a stable start per node, existing blocks skipped, every block once', () => {
  const [p] = selectPools([pool('small', '10.8.0.0/24', { blockSize: 26 })], 4, {}, undefined);
  const all = [...candidateBlocks([p], 'node-1', new Set())].map((c) => `${c.cidr.addr.bytes.join('.')}/${c.cidr.prefix}`);
  assert.equal(all.length, 4);
  assert.equal(new Set(all).size, 4);
  assert.deepEqual(
    [...candidateBlocks([p], 'node-1', new Set())].map((c) => c.cidr.addr.bytes[3]),
    all.map((s) => Number(s.split('.')[3].split('/')[0])),
    'same order every time',
  );
  const skipping = [...candidateBlocks([p], 'node-1', new Set([all[0]]))];
  assert.equal(skipping.length, 3);
});
