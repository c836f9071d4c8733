import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DryRunDataplane, formatDryRunSnapshot, type DryRunSnapshot } from '../../src/dataplane/dry-run-dataplane.js';

test('dry-run records the ruleset, routes and sysctls it would program, only once in sync', () => {
  const snaps: DryRunSnapshot[] = [];
  const dp = new DryRunDataplane({ nodeName: 'n1', onSnapshot: (s) => snaps.push(s) });
  dp.onMessages([
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'ns', name: 'a' },
      endpoint: { name: 'cali1', ipv4Nets: ['10.65.0.1/32'], ipv6Nets: [], profileIds: [], tiers: [] },
    },
  ]);
  assert.equal(dp.snapshot(), undefined);
  dp.onMessages([{ kind: 'InSync' }]);
  const snap = dp.snapshot();
  assert.ok(snap);
  assert.deepEqual(snap.routes, ['10.65.0.1/32 dev cali1 scope link proto 80']);
  assert.match(snap.nft, /chain to-wl-cali1 \{/);
  assert.equal(snap.sysctls['net/ipv4/conf/cali1/proxy_arp'], '1');
  assert.equal(snaps.length, 1);
  const text = formatDryRunSnapshot(snap);
  assert.match(text, /^10\.65\.0\.1\/32 dev cali1 scope link proto 80$/m);
  assert.match(text, /^net\.ipv4\.conf\.cali1\.proxy_arp = 1$/m);
  assert.ok(text.endsWith(snap.nft));
  dp.onMessages([{ kind: 'WorkloadEndpointRemove', id: { namespace: 'ns', name: 'a' } }]);
  assert.deepEqual(dp.snapshot()?.routes, []);
  assert.doesNotMatch(dp.snapshot()!.nft, /cali1/);
  assert.equal(dp.batches, 3);
});
