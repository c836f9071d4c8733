import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDesiredState, applyMessages } from '../../src/dataplane/desired-state.js';
import { listingObjects, modelDelta, normaliseCidrs, repairText, type NftModel } from '../../src/dataplane/nft-model.js';
import { renderModel } from '../../src/dataplane/nft-render.js';
import { DEFAULT_NFT_OPTIONS } from '../../src/dataplane/nft-render.js';
import { RenderCache } from '../../src/dataplane/nft-render-cache.js';

// The delta transaction's shape and order (the real kernel checks it in
// test/integration/dataplane-nft-delta.test.ts), CIDR normalisation and the render cache.

function model(sets: Record<string, [string, string[]]>, chains: Record<string, string[]>): NftModel {
  return {
    sets: new Map(Object.entries(sets).map(([n, [decl, elements]]) => [n, { decl, elements }])),
    chains: new Map(Object.entries(chains).map(([n, lines]) => [n, { lines }])),
  };
}

const BASE = 'type filter hook forward priority filter; policy accept;';

test('an unchanged model needs no transaction', () => {
  const a = model({ s: ['type ipv4_addr;', ['10.0.0.1']] }, { 'filter-forward': [BASE, 'jump c'], c: ['drop'] });
  const b = model({ s: ['type ipv4_addr;', ['10.0.0.1']] }, { 'filter-forward': [BASE, 'jump c'], c: ['drop'] });
  assert.equal(modelDelta(a, b), '');
});

test('the delta creates before it uses and deletes after the last reference is gone', () => {
  const from = model(
    { old: ['type ipv4_addr;', ['10.0.0.1']], keep: ['type ipv4_addr; flags interval;', ['10.0.0.1', '10.0.0.2']] },
    { 'filter-forward': [BASE, 'jump gone'], gone: ['ip saddr @old drop'] },
  );
  const to = model(
    { keep: ['type ipv4_addr; flags interval;', ['10.0.0.2', '10.0.0.3']], fresh: ['type ipv4_addr;', []] },
    { 'filter-forward': [BASE, 'jump made'], made: ['ip saddr @fresh drop'] },
  );
  assert.deepEqual(modelDelta(from, to)?.trim().split('\n'), [
    'add chain inet cattail filter-forward',
    'flush set inet cattail keep',
    'add set inet cattail keep { type ipv4_addr; flags interval; elements = { 10.0.0.2, 10.0.0.3 }; }',
    'add set inet cattail fresh { type ipv4_addr; }',
    'add chain inet cattail made',
    'flush chain inet cattail filter-forward',
    'add chain inet cattail filter-forward {',
    `\t${BASE}`,
    '\tjump made',
    '}',
    'add chain inet cattail made {',
    '\tip saddr @fresh drop',
    '}',
    'flush chain inet cattail gone',
    'delete chain inet cattail gone',
    'delete set inet cattail old',
  ]);
});

test('a changed chain that names an unchanged set declares the set first (so nft needs no cache of sets)', () => {
  const from = model({ s: ['type ipv4_addr; flags interval;', ['10.0.0.1']] }, { 'filter-forward': [BASE, 'jump c'], c: ['ip saddr @s tcp dport 80 accept'] });
  const to = model({ s: ['type ipv4_addr; flags interval;', ['10.0.0.1']] }, { 'filter-forward': [BASE, 'jump c'], c: ['ip saddr @s tcp dport 81 accept'] });
  assert.deepEqual(modelDelta(from, to)?.trim().split('\n'), [
    'add chain inet cattail filter-forward',
    'add set inet cattail s { type ipv4_addr; flags interval; }',
    'flush chain inet cattail c',
    'add chain inet cattail c {',
    '\tip saddr @s tcp dport 81 accept',
    '}',
  ]);
  const emptied = model({ s: ['type ipv4_addr; flags interval;', ['10.0.0.1']] }, { 'filter-forward': [BASE, 'jump c'], c: [] });
  assert.deepEqual(
    modelDelta(from, emptied)?.trim().split('\n'),
    ['add chain inet cattail filter-forward', 'flush chain inet cattail c'],
    'an emptied chain is only flushed',
  );
});

test('elements only added go in as additions; a set type or hook change needs the whole table', () => {
  const from = model({ s: ['type ipv4_addr;', ['10.0.0.1']] }, { 'filter-forward': [BASE] });
  assert.deepEqual(
    modelDelta(from, model({ s: ['type ipv4_addr;', ['10.0.0.1', '10.0.0.9']] }, { 'filter-forward': [BASE] }))
      ?.trim()
      .split('\n'),
    ['add chain inet cattail filter-forward', 'add set inet cattail s { type ipv4_addr; elements = { 10.0.0.9 }; }'],
  );
  assert.equal(modelDelta(from, model({ s: ['type ipv6_addr;', []] }, { 'filter-forward': [BASE] })), undefined);
  assert.equal(modelDelta(from, model({ s: ['type ipv4_addr;', ['10.0.0.1']] }, { 'filter-forward': [BASE.replace('filter;', '10;')] })), undefined);
});

test('interval elements are normalised: duplicates and nested CIDRs go, disjoint ones stay', () => {
  assert.deepEqual(normaliseCidrs(['10.1.2.3/32', '10.1.0.0/16', '10.1.2.0/24', '10.2.0.1/32', '10.2.0.1', '10.1.0.0/16'], 4), ['10.1.0.0/16', '10.2.0.1/32']);
  assert.deepEqual(normaliseCidrs(['10.0.0.2/32', '10.0.0.1/32', '10.0.0.1'], 4), ['10.0.0.1/32', '10.0.0.2/32']);
  assert.deepEqual(normaliseCidrs(['fd00::5/128', 'fd00::/64', 'fd00:1::1/128', '::ffff:10.0.0.1/128'], 6), [
    '::ffff:10.0.0.1/128',
    'fd00:1::1/128',
    'fd00::/64',
  ]);
});

test('the render cache reuses unchanged chains and set elements, and notices what changed', () => {
  const state = emptyDesiredState();
  applyMessages(state, [
    { kind: 'IPSetUpdate', id: 's:a', type: 'net', members: ['10.0.0.1/32'] },
    {
      kind: 'ActivePolicyUpdate',
      id: { tier: 'default', name: 'p' },
      policy: { inboundRules: [{ action: 'Allow', position: 0, srcIpSetIds: ['s:a'] }], outboundRules: [] },
    },
    { kind: 'ActivePolicyUpdate', id: { tier: 'default', name: 'q' }, policy: { inboundRules: [{ action: 'Deny', position: 0 }], outboundRules: [] } },
  ]);
  const cache = new RenderCache();
  const one = renderModel(state, DEFAULT_NFT_OPTIONS, undefined, cache);
  const two = renderModel(state, DEFAULT_NFT_OPTIONS, undefined, cache);
  assert.equal(modelDelta(one, two), '');
  for (const [name, c] of one.chains) if (!name.startsWith('filter-')) assert.equal(two.chains.get(name)?.lines, c.lines, `${name} reused`);
  applyMessages(state, [{ kind: 'IPSetDeltaUpdate', id: 's:a', added: ['10.0.0.2/32'], removed: [] }]);
  const three = renderModel(state, DEFAULT_NFT_OPTIONS, undefined, cache);
  assert.match(modelDelta(two, three) ?? '', /add set inet cattail s4-\w+ \{ type ipv4_addr; flags interval; elements = \{ 10\.0\.0\.2\/32 \}; \}/);
  applyMessages(state, [{ kind: 'IPSetRemove', id: 's:a' }]);
  const four = renderModel(state, DEFAULT_NFT_OPTIONS, undefined, cache);
  const delta = modelDelta(three, four) ?? '';
  assert.match(delta, /flush chain inet cattail pi-\w+/, 'the rule naming the removed set is re-rendered');
  assert.match(delta, /delete set inet cattail s4-\w+/);
  assert.deepEqual(modelDelta(renderModel(state), four), '', 'cached and uncached renders agree');
});

test('a listing splits into objects with set elements sorted; a resync repair rewrites only suspects, deletes extras', () => {
  const listing = [
    'table inet cattail {',
    '\tset s {',
    '\t\ttype ipv4_addr',
    '\t\telements = { 10.0.0.2, 10.0.0.1,',
    '\t\t\t     10.0.0.3 }',
    '\t}',
    '',
    '\tchain c {',
    '\t\tdrop',
    '\t}',
    '}',
    '',
  ].join('\n');
  const objects = listingObjects(listing);
  assert.deepEqual(
    [...(objects ?? new Map<string, string>())],
    [
      ['set s', '\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1, 10.0.0.2, 10.0.0.3 }'],
      ['chain c', '\t\tdrop'],
    ],
  );
  assert.equal(listingObjects(''), undefined, 'no table');
  assert.equal(listingObjects('table inet cattail {\n\tflowtable f {\n\t}\n}\n'), undefined, 'a kind we never make');
  const m = model({ s: ['type ipv4_addr;', ['10.0.0.1']] }, { 'filter-forward': [BASE, 'jump c'], c: ['drop'] });
  assert.deepEqual(
    repairText(m, new Set(['set s', 'chain extra']), new Map([...(objects ?? []), ['chain extra', '']]))
      .trim()
      .split('\n'),
    [
      'flush set inet cattail s',
      'add set inet cattail s { type ipv4_addr; elements = { 10.0.0.1 }; }',
      'flush chain inet cattail extra',
      'delete chain inet cattail extra',
    ],
  );
  assert.equal(repairText(m, new Set(), objects ?? new Map()), '');
});
