// BGPFilter rules and prefix-advertisement communities as BIRD text, rule by rule, through the
// real projection of validated resources. The golden `filters` scenario checks the whole file
// with `bird -p`; the integration test checks what a real BIRD does with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { BgpModelStore } from '../../src/index.js';
import { filterCalls, filterFunctionName, filterFunctions } from '../../src/render/bgp-filters.js';
import { prefixCommunities } from '../../src/render/communities.js';
import { bgpConfig, bgpFilter, bgpUpdates } from '../helpers/resources.js';

function model(resources: Resource[]) {
  const store = new BgpModelStore();
  store.apply(bgpUpdates(resources));
  return store.model();
}

/** The statements of one filter function, without the braces and comment. */
function body(rules: Record<string, unknown>[], list = 'exportV4', version: 4 | 6 = 4): string[] {
  const lines = filterFunctions(model([bgpFilter('f', { [list]: rules })]), version);
  return lines.filter((l) => l.startsWith('  ')).map((l) => l.trim());
}

test('matchOperator: Equal, NotEqual, In, NotIn', () => {
  const cidr = '10.1.0.0/16';
  assert.deepEqual(body(['Equal', 'NotEqual', 'In', 'NotIn'].map((matchOperator) => ({ action: 'Accept', matchOperator, cidr }))), [
    'if ((net = 10.1.0.0/16)) then { accept; }',
    'if ((net != 10.1.0.0/16)) then { accept; }',
    'if ((net ~ 10.1.0.0/16)) then { accept; }',
    'if ((net !~ 10.1.0.0/16)) then { accept; }',
  ]);
});

test('prefixLength narrows In/NotIn to a prefix set, clamped to the CIDR and the family', () => {
  assert.deepEqual(
    body([
      { action: 'Reject', matchOperator: 'In', cidr: '10.1.0.0/16', prefixLength: { min: 24, max: 28 } },
      { action: 'Reject', matchOperator: 'In', cidr: '10.1.0.0/16', prefixLength: { min: 8 } },
      { action: 'Reject', matchOperator: 'NotIn', cidr: '10.1.0.0/16', prefixLength: { max: 20 } },
    ]),
    [
      'if ((net ~ [ 10.1.0.0/16{24,28} ])) then { reject; }',
      'if ((net ~ [ 10.1.0.0/16{16,32} ])) then { reject; }',
      'if ((net !~ [ 10.1.0.0/16{16,20} ])) then { reject; }',
    ],
  );
  assert.deepEqual(body([{ action: 'Reject', matchOperator: 'In', cidr: 'fd00:1::/64', prefixLength: { min: 96 } }], 'importV6', 6), [
    'if ((net ~ [ fd00:1::/64{96,128} ])) then { reject; }',
  ]);
  // An empty range: In matches nothing (left out), NotIn everything (no condition).
  assert.deepEqual(
    body([
      { action: 'Reject', matchOperator: 'In', cidr: '10.1.0.0/16', prefixLength: { max: 8 } },
      { action: 'Accept', matchOperator: 'NotIn', cidr: '10.1.0.0/16', prefixLength: { max: 8 } },
    ]),
    ['# rule 1: its prefixLength range excludes every network it could match; left out', 'accept;'],
  );
  // Equal/NotEqual compare one network: the range only says whether its own length counts.
  assert.deepEqual(
    body([
      { action: 'Reject', matchOperator: 'Equal', cidr: '10.1.0.0/16', prefixLength: { min: 16, max: 24 } },
      { action: 'Reject', matchOperator: 'Equal', cidr: '10.1.0.0/16', prefixLength: { min: 20 } },
      { action: 'Accept', matchOperator: 'NotEqual', cidr: '10.1.0.0/16', prefixLength: { min: 20 } },
    ]),
    ['if ((net = 10.1.0.0/16)) then { reject; }', '# rule 2: its prefixLength range excludes every network it could match; left out', 'accept;'],
  );
});

test('source, interface, and a rule with no match: conditions are ANDed; order is kept', () => {
  assert.deepEqual(
    body([
      { action: 'Accept', matchOperator: 'In', cidr: '10.1.0.0/16', source: 'RemotePeers', interface: 'eth*' },
      { action: 'Reject', interface: 'vxlan.calico' },
      { action: 'Reject' },
    ]),
    [
      'if ((net ~ 10.1.0.0/16) && (source = RTS_BGP) && (defined(ifname) && ifname ~ "eth*")) then { accept; }',
      'if ((defined(ifname) && ifname ~ "vxlan.calico")) then { reject; }',
      'reject;',
    ],
  );
});

test('peerType makes the function take the session type; calls pass it', () => {
  const m = model([
    bgpFilter('typed', {
      importV4: [
        { action: 'Accept', peerType: 'iBGP' },
        { action: 'Reject', peerType: 'eBGP' },
      ],
    }),
    bgpFilter('plain', { importV4: [{ action: 'Reject' }], exportV6: [{ action: 'Reject' }] }),
  ]);
  const text = filterFunctions(m, 4).join('\n');
  assert.match(text, /function 'bgp_typed_importFilterV4'\(bool same_as\) \{\n {2}if same_as then \{ accept; \}\n {2}if !same_as then \{ reject; \}\n\}/);
  assert.match(text, /function 'bgp_plain_importFilterV4'\(\) \{/);
  assert.doesNotMatch(text, /exportFilterV4/, 'no function for a direction without rules');
  assert.deepEqual(filterCalls(m, ['typed', 'plain', 'missing'], 'import', 4, true), {
    calls: ["'bgp_typed_importFilterV4'(true);", "'bgp_plain_importFilterV4'();"],
    missing: ['missing'],
  });
  assert.deepEqual(filterCalls(m, ['plain', 'typed'], 'import', 4, false).calls, ["'bgp_plain_importFilterV4'();", "'bgp_typed_importFilterV4'(false);"]);
  assert.deepEqual(filterCalls(m, ['plain', 'typed'], 'export', 4, false).calls, [], 'no export rules for v4');
  assert.deepEqual(filterCalls(m, ['plain'], 'export', 6, false).calls, ["'bgp_plain_exportFilterV6'();"]);
});

test('function names are BIRD symbols of at most 64 characters, distinct for distinct long names', () => {
  assert.equal(filterFunctionName('my-filter.v2', 'import', 4), "'bgp_my-filter.v2_importFilterV4'");
  const a = filterFunctionName(`${'x'.repeat(60)}-a`, 'export', 6);
  const b = filterFunctionName(`${'x'.repeat(60)}-b`, 'export', 6);
  assert.notEqual(a, b);
  for (const n of [a, b]) assert.ok(n.length - 2 <= 64, n);
});

test('communities: literal and named values, standard and large, on routes under each CIDR', () => {
  const m = model([
    bgpConfig('default', {
      communities: [
        { name: 'edge', value: '65000:100' },
        { name: 'big', value: '65000:1:2' },
      ],
      prefixAdvertisements: [
        { cidr: '10.65.0.0/16', communities: ['edge', '65000:101'] },
        { cidr: 'fd00:10::/64', communities: ['big'] },
      ],
    }),
  ]);
  const v4 = prefixCommunities(m, 'a', 4);
  assert.deepEqual(
    v4.rules.map((r) => r.adds),
    [['bgp_community.add((65000, 100));', 'bgp_community.add((65000, 101));']],
  );
  assert.deepEqual(
    prefixCommunities(m, 'a', 6).rules.map((r) => r.adds),
    [['bgp_large_community.add((65000, 1, 2));']],
  );
  assert.deepEqual(v4.notes, []);
});

test("communities: a node's own advertisements replace the default's; names fall back to the default's", () => {
  const m = model([
    bgpConfig('default', { communities: [{ name: 'edge', value: '65000:100' }], prefixAdvertisements: [{ cidr: '10.65.0.0/16', communities: ['edge'] }] }),
    bgpConfig('node.a', {
      communities: [{ name: 'rack', value: '65000:200' }],
      prefixAdvertisements: [{ cidr: '10.65.1.0/26', communities: ['rack', '65000:201'] }],
    }),
  ]);
  assert.deepEqual(
    prefixCommunities(m, 'a', 4).rules.map((r) => r.values),
    [['65000:200', '65000:201']],
  );
  assert.deepEqual(
    prefixCommunities(m, 'b', 4).rules.map((r) => r.values),
    [['65000:100']],
  );
});
