// BGP policy with real BIRD 2 in network namespaces, fed by real etcd through real Typha:
//
//   tor (a plain BIRD, AS 65000, its BGP address 10.200.<o>.1 on lo, reachable only through its
//   fabric address) ◀──BGPPeer tor, reachableBy──▶ node-1 ◀──mesh──▶ node-2 ◀──▶ workload (a
//   plain BIRD in a pod-like namespace, AS 65010, selected by localWorkloadSelector)
//
// What must and must not appear in each peer's table:
//   - node-1 reaches the tor at all only through the reachableBy route (nothing else routes
//     10.200.<o>.1);
//   - import: BGPFilters run in the peer's order, the first rule that matches decides, and a
//     route no rule decides is imported;
//   - export: a Reject rule keeps one of node-1's blocks from the tor while the rest of the pool
//     routes go, carrying the prefix-advertisement communities (named and literal, standard and
//     large) of the CIDRs that cover them; changing the filter in the datastore changes what the
//     running tor sees;
//   - the service ranges of BGPConfiguration default reach the tor and stay out of the kernels;
//   - the same for IPv6 (a third test: import and export rules, a large community);
//   - node-2 peers with the selected workload only (passive, at the workload's address), takes
//     only what the workload's import filter accepts, and gives it the pool routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { affinity, bgpConfig, bgpFilter, block, checked, node, peer, pool, workload } from '../helpers/resources.js';
import { Cleanup, until } from '@cattail/datastore/testing';
import { ControlPlane, type ConfdNode } from './harness/cluster.js';
import { BirdProcess } from './harness/bird.js';
import { Fabric, ip, requireRoot, routes } from './harness/netns.js';

const POOL = '10.66.0.0/16';
const SERVICES = '10.96.0.0/16';
const EXTERNAL = '192.0.2.64/28';

/** A hand-written BIRD for a router that is not a Calico node. */
function routerConfig(o: { routerId: string; localIP: string; localAS: number; peerIP: string; peerAS: number; originate: string[]; iface: string }): string {
  return [
    `router id ${o.routerId};`,
    'protocol device { scan time 2; }',
    `protocol direct { ipv4; interface "${o.iface}"; }`,
    'protocol static originated {',
    '  ipv4;',
    ...o.originate.map((r) => `  route ${r} blackhole;`),
    '}',
    'protocol bgp calico {',
    `  local ${o.localIP} as ${o.localAS};`,
    `  neighbor ${o.peerIP} as ${o.peerAS};`,
    '  multihop;',
    '  connect delay time 1;',
    '  connect retry time 2;',
    '  error wait time 1, 5;',
    '  ipv4 { import all; export where proto = "originated"; };',
    '}',
    '',
  ].join('\n');
}

async function startRouter(cleanup: Cleanup, ns: string, dir: string, name: string, config: string): Promise<BirdProcess> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, config);
  const bird = await BirdProcess.start(ns, file, join(dir, `${name}.ctl`));
  cleanup.add(`BIRD ${name} (pid ${bird.pid})`, () => bird.stop());
  return bird;
}

/** Waits until every route in `present` is in `bird`'s table (with `check` true for it) and none in `absent`. */
async function tableSettles(
  bird: BirdProcess,
  what: string,
  present: string[],
  absent: string[],
  check: (prefix: string, text: string) => string | undefined = () => undefined,
  timeoutMs = 25_000,
): Promise<Map<string, string>> {
  let last = '';
  let table = new Map<string, string>();
  await until(
    async () => {
      table = await bird.routeTable();
      const missing = present.filter((p) => !table.has(p));
      const extra = absent.filter((p) => table.has(p));
      const wrong = present.map((p) => (table.has(p) ? check(p, table.get(p)!) : undefined)).filter(Boolean);
      last = `missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(extra)}, ${wrong.join('; ')}; table has ${JSON.stringify([...table.keys()])}`;
      return missing.length === 0 && extra.length === 0 && wrong.length === 0;
    },
    () => `${what}: ${last}`,
    timeoutMs,
  );
  return table;
}

async function established(bird: BirdProcess, protocol: string): Promise<boolean> {
  return (await bird.bgpSessions()).get(protocol) === 'Established';
}

test('BGPFilter import/export in order, communities and reachableBy against a real external router', { timeout: 120_000 }, async (t) => {
  requireRoot();
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const root = mkdtempSync(join(tmpdir(), 'ctcd-policy-'));
  cleanup.add('temp dir', () => rmSync(root, { recursive: true, force: true }));
  const fabric = await Fabric.create();
  cleanup.add('namespaces', () => fabric.destroy());
  const cp = await ControlPlane.start(cleanup);
  const o = fabric.octet;

  const [n1, n2, torNet] = [await fabric.addNode(1), await fabric.addNode(2), await fabric.addNode(9)];
  // The tor's BGP address is on its loopback: the fabric has no route to it.
  const torIP = `10.200.${o}.1`;
  await ip('-n', torNet.ns, 'addr', 'add', `${torIP}/32`, 'dev', 'lo');

  await cp.create(
    pool('pool-a', POOL),
    node('node-1', { ipv4: n1.cidr }),
    node('node-2', { ipv4: n2.cidr }),
    block('10.66.1.0/26', 'node-1'),
    affinity('node-1', '10.66.1.0/26'),
    block('10.66.1.64/26', 'node-1'),
    affinity('node-1', '10.66.1.64/26'),
    block('10.66.2.0/26', 'node-2'),
    affinity('node-2', '10.66.2.0/26'),
    bgpConfig('default', {
      communities: [
        { name: 'cluster', value: '65000:100' },
        { name: 'rack-1', value: '65000:1:2' },
      ],
      prefixAdvertisements: [
        { cidr: POOL, communities: ['cluster', '65000:101'] },
        { cidr: '10.66.1.0/26', communities: ['rack-1'] },
      ],
      serviceClusterIPs: [{ cidr: SERVICES }],
      serviceExternalIPs: [{ cidr: EXTERNAL }],
    }),
    // Runs first: lets 10.98.2.0/24 in although tor-policy's first rule would refuse it.
    bgpFilter('allow-one', { importV4: [{ action: 'Accept', matchOperator: 'Equal', cidr: '10.98.2.0/24' }] }),
    bgpFilter('tor-policy', {
      importV4: [
        { action: 'Reject', matchOperator: 'In', cidr: '10.98.0.0/16', prefixLength: { min: 24 } },
        { action: 'Accept', matchOperator: 'Equal', cidr: '10.98.0.0/16' },
        { action: 'Reject', matchOperator: 'NotIn', cidr: '10.96.0.0/12' },
      ],
      exportV4: [{ action: 'Reject', matchOperator: 'Equal', cidr: '10.66.1.64/26' }],
    }),
    peer('tor', { node: 'node-1', peerIP: torIP, asNumber: 65000, reachableBy: torNet.address, filters: ['allow-one', 'tor-policy'] }),
  );
  const nodes: ConfdNode[] = [await cp.startConfd('node-1', n1, root), await cp.startConfd('node-2', n2, root)];
  for (const n of nodes) await cp.startBird(n);
  const tor = await startRouter(
    cleanup,
    torNet.ns,
    root,
    'tor',
    routerConfig({
      routerId: torIP,
      localIP: torIP,
      localAS: 65000,
      peerIP: n1.address,
      peerAS: 64512,
      iface: 'eth0',
      // 10.98.0.0/16: tor-policy rule 2 accepts; 10.98.1.0/24: rule 1 rejects; 10.98.2.0/24:
      // allow-one accepts first; 10.97.0.0/24: no rule decides, imported; 10.50.0.0/24: rule 3 rejects.
      originate: ['10.98.0.0/16', '10.98.1.0/24', '10.98.2.0/24', '10.97.0.0/24', '10.50.0.0/24'],
    }),
  );
  const [bird1, bird2] = [nodes[0].bird!, nodes[1].bird!];

  // reachableBy: the peer's /32 goes via the gateway, in BIRD and in the kernel.
  const reach = await until(async () => (await routes(n1.ns)).find((r) => r.dst === torIP), `node-1's kernel route to the tor ${torIP}`, 15_000);
  assert.equal(reach.gateway, torNet.address);
  assert.equal(reach.protocol, 'bird');
  const torSession = `Node_${torIP.replace(/\./g, '_')}`;
  await until(() => established(bird1, torSession), `node-1's session ${torSession} to be Established`, 25_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify([...(await bird1.bgpSessions())])}; tor: ${JSON.stringify([...(await tor.bgpSessions())])}`);
  });

  // Import on node-1, in filter order with the fall-through.
  await tableSettles(bird1, 'node-1 imports from the tor', ['10.98.0.0/16', '10.98.2.0/24', '10.97.0.0/24', '10.66.2.0/26'], ['10.98.1.0/24', '10.50.0.0/24']);
  // node-2 learns from node-1 only what node-1's mesh export sends: pool routes, not the tor's.
  await tableSettles(bird2, 'node-2 over the mesh', ['10.66.1.0/26', '10.66.1.64/26'], ['10.98.0.0/16', '10.97.0.0/24']);

  // Export to the tor: the rejected block never arrives; the others carry their communities.
  const communities = (prefix: string, text: string): string | undefined => {
    const std = /BGP\.community: (.*)/.exec(text)?.[1] ?? '';
    const large = /BGP\.large_community: (.*)/.exec(text)?.[1] ?? '';
    const wantLarge = prefix === '10.66.1.0/26';
    if (!std.includes('(65000,100)') || !std.includes('(65000,101)')) return `${prefix}: communities "${std}"`;
    if (wantLarge !== large.includes('(65000, 1, 2)')) return `${prefix}: large communities "${large}"`;
    return undefined;
  };
  await tableSettles(tor, 'the tor learns node-1 pool routes', ['10.66.1.0/26', '10.66.2.0/26'], ['10.66.1.64/26'], communities);
  // Service ranges: the tor learns them from node-1; no node puts them in its kernel.
  await tableSettles(tor, 'the tor learns the service ranges', [SERVICES, EXTERNAL], []);
  for (const ns of [n1.ns, n2.ns]) {
    const table = await routes(ns);
    assert.ok(!table.some((r) => r.dst === SERVICES || r.dst === EXTERNAL), `${ns}: service range in the kernel: ${JSON.stringify(table)}`);
  }

  // Changing the filter in the datastore changes what the running tor learns; BIRD is not restarted.
  const pid = bird1.pid;
  const [next] = checked([
    bgpFilter('tor-policy', {
      importV4: [{ action: 'Reject', matchOperator: 'In', cidr: '10.98.0.0/16', prefixLength: { min: 24 } }],
      exportV4: [{ action: 'Reject', matchOperator: 'Equal', cidr: '10.66.2.0/26' }],
    }),
  ]);
  const current = await cp.ds.get({ kind: 'BGPFilter', name: 'tor-policy' });
  await cp.ds.update({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } });
  await tableSettles(tor, 'the tor after the filter changed', ['10.66.1.0/26', '10.66.1.64/26'], ['10.66.2.0/26'], communities);
  // No NotIn rule any more: 10.50.0.0/24 falls through and is imported.
  await tableSettles(bird1, 'node-1 after the filter changed', ['10.50.0.0/24', '10.98.2.0/24'], ['10.98.1.0/24']);
  assert.equal(bird1.pid, pid, 'BIRD was restarted');
  assert.match(readFileSync(nodes[0].configFile, 'utf8'), /route 10\.200\.\d+\.1\/32 via 172\.31\.\d+\.9; # BGPPeer tor/);
});

test('localWorkloadSelector: the node peers with its selected workload only', { timeout: 120_000 }, async (t) => {
  requireRoot();
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const root = mkdtempSync(join(tmpdir(), 'ctcd-workload-'));
  cleanup.add('temp dir', () => rmSync(root, { recursive: true, force: true }));
  const fabric = await Fabric.create();
  cleanup.add('namespaces', () => fabric.destroy());
  const cp = await ControlPlane.start(cleanup, { TYPHA_BGPSYNCERWORKLOADENDPOINTS: 'true' });
  const o = fabric.octet;

  const [n1, n2] = [await fabric.addNode(1), await fabric.addNode(2)];
  // A pod-like namespace on node-2, its own BIRD inside, on a point-to-point link.
  const wl = await fabric.addNamespace('wl');
  const [hostSide, podSide] = [`10.201.${o}.1`, `10.201.${o}.2`];
  await fabric.link(n2.ns, 'caliwl', `${hostSide}/30`, wl, 'eth0', `${podSide}/30`);

  await cp.create(
    pool('pool-a', POOL),
    node('node-1', { ipv4: n1.cidr }),
    node('node-2', { ipv4: n2.cidr }),
    block('10.66.1.0/26', 'node-1'),
    affinity('node-1', '10.66.1.0/26'),
    block('10.66.2.0/26', 'node-2'),
    affinity('node-2', '10.66.2.0/26'),
    bgpFilter('from-children', { importV4: [{ action: 'Accept', matchOperator: 'In', cidr: '10.202.0.0/16' }, { action: 'Reject' }] }),
    peer('children', { localWorkloadSelector: "app == 'bird-child'", asNumber: 65010, filters: ['from-children'] }),
    workload('node-2', 'child-1', [`${podSide}/32`], { app: 'bird-child' }),
    workload('node-2', 'web-1', [`10.66.2.9/32`], { app: 'web' }),
    workload('node-1', 'child-2', [`10.66.1.9/32`], { app: 'bird-child' }),
  );
  const nodes: ConfdNode[] = [await cp.startConfd('node-1', n1, root), await cp.startConfd('node-2', n2, root)];
  for (const n of nodes) await cp.startBird(n);
  const child = await startRouter(
    cleanup,
    wl,
    root,
    'workload',
    routerConfig({
      routerId: podSide,
      localIP: podSide,
      localAS: 65010,
      peerIP: hostSide,
      peerAS: 64512,
      iface: 'eth0',
      originate: [`10.202.${o}.0/24`, `10.203.${o}.0/24`],
    }),
  );
  const bird2 = nodes[1].bird!;
  const session = `Local_Workload_${podSide.replace(/\./g, '_')}`;
  await until(() => established(bird2, session), `node-2's ${session} to be Established`, 25_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify([...(await bird2.bgpSessions())])}; workload: ${JSON.stringify([...(await child.bgpSessions())])}`);
  });
  // node-2 has sessions for its selected workload only; node-1 for its own one.
  const sessions2 = [...(await bird2.bgpSessions()).keys()].filter((k) => k.startsWith('Local_Workload_'));
  assert.deepEqual(sessions2, [session]);
  assert.match(readFileSync(nodes[0].configFile, 'utf8'), /protocol bgp Local_Workload_10_66_1_9 from calico_peer \{/);
  assert.doesNotMatch(readFileSync(nodes[0].configFile, 'utf8'), new RegExp(session));

  await tableSettles(bird2, 'node-2 imports from its workload', [`10.202.${o}.0/24`], [`10.203.${o}.0/24`]);
  await tableSettles(child, 'the workload learns the pool routes from node-2', ['10.66.1.0/26', '10.66.2.0/26'], []);
  // The mesh does not pass the workload's route on: it is in no pool.
  await tableSettles(nodes[0].bird!, 'node-1 over the mesh', ['10.66.2.0/26'], [`10.202.${o}.0/24`]);
});

test('IPv6: BGPFilter import and export rules and large communities against a real external router', { timeout: 120_000 }, async (t) => {
  requireRoot();
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const root = mkdtempSync(join(tmpdir(), 'ctcd-policy6-'));
  cleanup.add('temp dir', () => rmSync(root, { recursive: true, force: true }));
  const fabric = await Fabric.create();
  cleanup.add('namespaces', () => fabric.destroy());
  const cp = await ControlPlane.start(cleanup);
  const hex = fabric.octet.toString(16);

  const [n1, torNet] = [await fabric.addNode(1), await fabric.addNode(9)];
  const v6 = (i: number) => `fd31:${hex}::${i}`;
  for (const [net, i] of [
    [n1, 1],
    [torNet, 9],
  ] as const) {
    await ip('-n', net.ns, 'addr', 'add', `${v6(i)}/64`, 'dev', 'eth0', 'nodad');
  }
  const pool6 = `fd10:${hex}::/64`;
  const [blockA, blockB] = [`fd10:${hex}::/122`, `fd10:${hex}::40/122`];

  await cp.create(
    pool('pool-v4', POOL),
    pool('pool-v6', pool6),
    node('node-1', { ipv4: n1.cidr, ipv6: `${v6(1)}/64` }),
    block(blockA, 'node-1'),
    affinity('node-1', blockA),
    block(blockB, 'node-1'),
    affinity('node-1', blockB),
    bgpConfig('default', { prefixAdvertisements: [{ cidr: pool6, communities: ['65000:6:6'] }] }),
    bgpFilter('v6-policy', {
      importV6: [
        { action: 'Reject', matchOperator: 'In', cidr: 'fd99:1::/32', prefixLength: { min: 48 } },
        { action: 'Reject', matchOperator: 'Equal', cidr: 'fd98::/32' },
      ],
      exportV6: [{ action: 'Reject', matchOperator: 'Equal', cidr: blockB }],
    }),
    peer('tor-v6', { node: 'node-1', peerIP: v6(9), asNumber: 65000, filters: ['v6-policy'] }),
  );
  const n = await cp.startConfd('node-1', n1, root);
  const bird1 = await cp.startBird(n);
  const torConfig = [
    `router id ${torNet.address};`,
    'protocol device { scan time 2; }',
    'protocol direct { ipv6; interface "eth0"; }',
    'protocol static originated {',
    '  ipv6;',
    ...['fd99:1::/32', 'fd99:1:1::/48', 'fd98::/32', 'fd97::/32'].map((r) => `  route ${r} blackhole;`),
    '}',
    'protocol bgp calico {',
    `  local ${v6(9)} as 65000;`,
    `  neighbor ${v6(1)} as 64512;`,
    '  multihop;',
    '  connect delay time 1;',
    '  connect retry time 2;',
    '  ipv6 { import all; export where proto = "originated"; };',
    '}',
    '',
  ].join('\n');
  const tor = await startRouter(cleanup, torNet.ns, root, 'tor6', torConfig);

  const session = `Node_${v6(9).replace(/:/g, '_')}`;
  await until(() => established(bird1, session), `node-1's ${session} to be Established`, 25_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify([...(await bird1.bgpSessions())])}; tor: ${JSON.stringify([...(await tor.bgpSessions())])}`);
  });
  await tableSettles(bird1, 'node-1 imports over IPv6', ['fd99:1::/32', 'fd97::/32'], ['fd99:1:1::/48', 'fd98::/32']);
  await tableSettles(tor, 'the tor learns node-1 IPv6 blocks', [blockA], [blockB], (prefix, text) =>
    /BGP\.large_community: .*\(65000, 6, 6\)/.test(text) ? undefined : `${prefix}: no large community (65000, 6, 6) in ${text}`,
  );
});
