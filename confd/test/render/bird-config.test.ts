// What the renderer refuses to produce, and the routes side it does produce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { BgpModelStore, renderBirdConfig, type SecretReader } from '../../src/index.js';
import { affinity, bgpConfig, bgpUpdates, block, node, peer, pool } from '../helpers/resources.js';
import { secretsFrom } from './scenarios.js';

function render(resources: Resource[], me: string, secrets: SecretReader = secretsFrom()) {
  const store = new BgpModelStore();
  store.apply(bgpUpdates(resources));
  return renderBirdConfig(store.model(), me, secrets);
}

test('a node that is missing or has no BGP address cannot be rendered', () => {
  assert.match(render([], 'a').problems[0], /node a is not in the datastore/);
  const noBgp: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'a' }, spec: {} };
  assert.match(render([noBgp], 'a').problems[0], /node a has no spec\.bgp\.ipv4Address or ipv6Address/);
});

test('passwords: a missing secret or one BIRD cannot quote is a problem naming the peer', () => {
  const rs = [node('a', { ipv4: '10.0.0.1/24' }), peer('tor', { peerIP: '192.0.2.1', asNumber: 65001, password: { secretKeyRef: { name: 's', key: 'k' } } })];
  const missing = render(rs, 'a');
  assert.equal(missing.problems.length, 1);
  assert.match(missing.problems[0], /BGPPeer tor \(192\.0\.2\.1\): password from secret s key k: no secret s\/k/);
  const quoted = render(rs, 'a', secretsFrom({ 's/k': 'pa"ss' }));
  assert.match(quoted.problems[0], /double quote/);
  const ok = render(rs, 'a', secretsFrom({ 's/k': 'pass' }));
  assert.deepEqual(ok.problems, []);
  assert.match(ok.text, /password "pass";/);
});

test('mesh password comes from BGPConfiguration default', () => {
  const rs = [
    node('a', { ipv4: '10.0.0.1/24' }),
    node('b', { ipv4: '10.0.0.2/24' }),
    bgpConfig('default', { nodeMeshPassword: { secretKeyRef: { name: 's', key: 'mesh' } } }),
  ];
  assert.match(render(rs, 'a', secretsFrom({ 's/mesh': 'm' })).text, /neighbor 10\.0\.0\.2 as 64512;\n(?:.*\n)*? {2}password "m";/);
});

test('only this node’s confirmed, undeleted blocks become blackholes; the export filter stops at the block size', () => {
  const r = render(
    [
      node('a', { ipv4: '10.0.0.1/24' }),
      pool('p', '10.65.0.0/16', { blockSize: 27 }),
      block('10.65.0.0/27', 'a'),
      block('10.65.0.32/27', 'b'),
      affinity('a', '10.65.0.64/27'),
      affinity('a', '10.65.0.96/27', 'pendingDeletion'),
      affinity('a', '10.65.0.128/27', 'confirmed', true),
    ],
    'a',
  );
  const routes = [...r.text.matchAll(/^ {2}route (\S+) blackhole;/gm)].map((m) => m[1]);
  assert.deepEqual(routes, ['10.65.0.0/27', '10.65.0.64/27']);
  assert.match(r.text, /if net ~ \[ 10\.65\.0\.0\/16\{16,27\} \] then accept;/);
});

test('VXLAN pools are exported but kept out of the kernel: Felix routes them', () => {
  const r = render(
    [
      node('a', { ipv4: '10.0.0.1/24' }),
      pool('bgp', '10.65.0.0/16'),
      pool('vx', '10.70.0.0/16', { vxlanMode: 'Always' }),
      pool('cross', '10.71.0.0/16', { vxlanMode: 'CrossSubnet' }),
      pool('never', '10.72.0.0/16', { vxlanMode: 'Never' }),
    ],
    'a',
  );
  const kernel = /filter calico_kernel4 \{\n([\s\S]*?)\n\}/.exec(r.text)?.[1] ?? '';
  assert.match(kernel, /^ {2}if net ~ \[ 10\.70\.0\.0\/16\{16,32\}, 10\.71\.0\.0\/16\{16,32\} \] then reject; # VXLAN pools/m);
  assert.doesNotMatch(kernel, /10\.65|10\.72/);
  // Exported like any pool.
  assert.match(
    r.text,
    /if net ~ \[ 10\.65\.0\.0\/16\{16,26\}, 10\.70\.0\.0\/16\{16,26\}, 10\.71\.0\.0\/16\{16,26\}, 10\.72\.0\.0\/16\{16,26\} \] then accept;/,
  );
});

test('no pools: the export filter rejects everything', () => {
  const r = render([node('a', { ipv4: '10.0.0.1/24' })], 'a');
  assert.match(r.text, /function calico_export4\(\) \{\n {2}if !\(source ~ \[RTS_STATIC, RTS_BGP\]\) then reject;\n {2}reject;\n\}/);
  assert.doesNotMatch(r.text, /protocol static/);
});

test("the router id: CALICO_ROUTER_ID's address or hash of the name, else the node's IPv4 address", () => {
  const store = new BgpModelStore();
  store.apply(bgpUpdates([node('a', { ipv4: '10.0.0.1/24' })]));
  const rid = (routerId?: string) => /^router id (\S+);$/m.exec(renderBirdConfig(store.model(), 'a', secretsFrom(), routerId).text)?.[1];
  assert.equal(rid(), '10.0.0.1');
  assert.equal(rid('192.0.2.7'), '192.0.2.7');
  const hashed = rid('hash');
  assert.match(hashed ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  assert.notEqual(hashed, '10.0.0.1');
});
