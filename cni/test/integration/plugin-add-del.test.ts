// The plugin executable against real etcd and real network namespaces: ADD wires the pod and
// writes its endpoint, CHECK finds what is missing, DEL removes it all (and only its own
// endpoint), VERSION answers without a config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipam } from '@cattail/datastore';
import { vethName } from '../../src/names.js';
import { cniEnv, createNetns, ipJson, ipPool, netConf, netnsPath, requireTools, run, runCni, startCluster, uniquePrefix } from './harness.js';

interface AddrShow {
  ifname: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: Array<{ local: string; prefixlen: number; family: string }>;
}
interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
}

test(
  'ADD wires the pod and writes its WorkloadEndpoint; CHECK passes then catches a missing address and route; DEL removes everything',
  { timeout: 900_000 },
  async (t) => {
    await requireTools();
    const cluster = await startCluster(t);
    await cluster.ds.create(ipPool('pool-a', '10.66.0.0/16'));
    const prefix = uniquePrefix();
    const node = await createNetns(t, `${prefix}-node`);
    const pod = await createNetns(t, `${prefix}-pod`);
    await cluster.expose(t, node);
    const conf = netConf(cluster.endpoint);
    const identity = { namespace: 'shop', name: 'web-0' };
    const cid = 'c0ffee01';

    const add = await runCni(node, cniEnv('ADD', cid, pod, identity), conf);
    assert.equal(add.code, 0, `ADD failed: ${add.stdout}\n${add.stderr}`);
    const result = add.json as {
      cniVersion: string;
      interfaces: Array<{ name: string; mac: string; sandbox?: string }>;
      ips: Array<{ address: string; interface: number }>;
      routes: unknown[];
      dns: unknown;
    };
    const veth = vethName('shop', 'web-0');
    assert.equal(result.cniVersion, '1.0.0');
    assert.equal(result.interfaces[0].name, veth);
    assert.equal(result.interfaces[0].mac, 'ee:ee:ee:ee:ee:ee');
    assert.equal(result.interfaces[1].name, 'eth0');
    assert.equal(result.interfaces[1].sandbox, netnsPath(pod));
    assert.equal(result.ips.length, 1);
    assert.match(result.ips[0].address, /^10\.66\.\d+\.\d+\/32$/);
    assert.equal(result.ips[0].interface, 1);
    assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }]);
    assert.deepEqual(result.dns, {});
    const ip = result.ips[0].address.split('/')[0];

    // Pod side.
    const [eth0] = await ipJson<AddrShow[]>(pod, ['addr', 'show', 'dev', 'eth0']);
    assert.equal(eth0.mtu, 1450);
    assert.ok(eth0.flags?.includes('UP'));
    assert.deepEqual(
      eth0.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      [`${ip}/32`],
    );
    assert.equal(eth0.address, result.interfaces[1].mac);
    const podRoutes = await ipJson<Route[]>(pod, ['-4', 'route', 'show']);
    assert.ok(
      podRoutes.some((r) => r.dst === '169.254.1.1' && r.dev === 'eth0' && r.scope === 'link'),
      JSON.stringify(podRoutes),
    );
    assert.ok(
      podRoutes.some((r) => r.dst === 'default' && r.gateway === '169.254.1.1' && r.dev === 'eth0'),
      JSON.stringify(podRoutes),
    );
    // Node side.
    const [host] = await ipJson<AddrShow[]>(node, ['link', 'show', 'dev', veth]);
    assert.equal(host.address, 'ee:ee:ee:ee:ee:ee');
    assert.equal(host.mtu, 1450);
    const hostRoutes = await ipJson<Route[]>(node, ['-4', 'route', 'show', 'dev', veth]);
    assert.ok(
      hostRoutes.some((r) => r.dst === ip && r.scope === 'link'),
      JSON.stringify(hostRoutes),
    );
    assert.equal((await run('ip', ['netns', 'exec', node, 'cat', `/proc/sys/net/ipv4/conf/${veth}/proxy_arp`])).trim(), '1');
    assert.equal((await ipJson<AddrShow[]>(node, ['link', 'show', 'dev', 'eth0']).catch(() => [])).length, 0, 'no pod interface on the node');

    // The endpoint.
    const wep = await cluster.ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-web--0-eth0', namespace: 'shop' });
    assert.deepEqual(wep.metadata.labels, {
      app: 'web',
      'projectcalico.org/namespace': 'shop',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'default',
    });
    assert.deepEqual(wep.spec, {
      orchestrator: 'k8s',
      node: 'node-1',
      containerID: cid,
      endpoint: 'eth0',
      ipNetworks: [`${ip}/32`],
      profiles: ['kns.shop', 'ksa.shop.default'],
      interfaceName: veth,
      pod: 'web-0',
      serviceAccountName: 'default',
      mac: eth0.address,
    });
    // IPAM.
    const client = new ipam.IpamClient(cluster.ds);
    assert.deepEqual(
      (await client.ipsByHandle(`k8s-pod-network.${cid}`)).map((a) => a.address),
      [ip],
    );

    // CHECK with the ADD result passes (no output, exit 0)…
    const checkConf = { ...conf, prevResult: result };
    const check = await runCni(node, cniEnv('CHECK', cid, pod, identity), checkConf);
    assert.equal(check.code, 0, `CHECK failed: ${check.stdout}\n${check.stderr}`);
    assert.equal(check.stdout, '');
    // …and fails once the address and the default route are gone.
    await run('ip', ['-n', pod, 'addr', 'del', `${ip}/32`, 'dev', 'eth0']);
    const broken = await runCni(node, cniEnv('CHECK', cid, pod, identity), checkConf);
    assert.equal(broken.code, 1);
    assert.equal(broken.json?.code, 103);
    assert.match(String(broken.json?.msg), new RegExp(`eth0 lacks address ${ip.replace(/\./g, '\\.')}/32`));
    assert.match(String(broken.json?.msg), /default route via 169\.254\.1\.1 is missing/);

    // DEL from another container of the same pod leaves the endpoint alone.
    const stranger = await runCni(node, { ...cniEnv('DEL', 'deadbeef', pod, identity), CNI_NETNS: '' }, conf);
    assert.equal(stranger.code, 0, stranger.stdout + stranger.stderr);
    assert.equal((await cluster.ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-web--0-eth0', namespace: 'shop' })).spec?.containerID, cid);

    // The real DEL removes the endpoint, the interfaces and the address; a second DEL is fine.
    const del = await runCni(node, cniEnv('DEL', cid, pod, identity), checkConf);
    assert.equal(del.code, 0, del.stdout + del.stderr);
    assert.equal(del.stdout, '');
    await assert.rejects(cluster.ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-web--0-eth0', namespace: 'shop' }), { code: 'DATASTORE_NOT_FOUND' });
    assert.deepEqual(await client.ipsByHandle(`k8s-pod-network.${cid}`), []);
    assert.equal((await ipJson<AddrShow[]>(pod, ['link', 'show', 'dev', 'eth0']).catch(() => [])).length, 0, 'eth0 gone');
    assert.equal((await ipJson<AddrShow[]>(node, ['link', 'show', 'dev', veth]).catch(() => [])).length, 0, 'host veth gone');
    const again = await runCni(node, cniEnv('DEL', cid, pod, identity), conf);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  },
);

test('VERSION prints the supported versions; a bad config is a CNI error with the spec code', { timeout: 600_000 }, async (t) => {
  await requireTools();
  const prefix = uniquePrefix();
  const node = await createNetns(t, `${prefix}-node`);
  const version = await runCni(node, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
  assert.equal(version.code, 0);
  assert.deepEqual(version.json, { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });

  const noIpam = await runCni(node, cniEnv('ADD', 'c1', 'x'), { cniVersion: '1.0.0', name: 'n', type: 'cattail-cni', ipam: { type: 'host-local' } });
  assert.equal(noIpam.code, 1);
  assert.equal(noIpam.json?.code, 7);
  assert.match(String(noIpam.json?.msg), /ipam\.type "host-local" is not supported/);

  const future = await runCni(node, cniEnv('ADD', 'c1', 'x'), { cniVersion: '9.9.9', name: 'n', type: 'cattail-cni', ipam: { type: 'cattail-ipam' } });
  assert.equal(future.json?.code, 1);
  assert.equal(future.json?.cniVersion, '9.9.9');

  const noCommand = await runCni(node, {}, '{}');
  assert.equal(noCommand.json?.code, 4);
  assert.match(String(noCommand.json?.msg), /CNI_COMMAND/);
});

test('dual stack: the pod gets a /32 and a /128 with both default routes; CHECK passes; DEL frees both', { timeout: 900_000 }, async (t) => {
  await requireTools();
  const cluster = await startCluster(t);
  await cluster.ds.create(ipPool('v4', '10.66.0.0/16'));
  await cluster.ds.create(ipPool('v6', 'fd00:66::/48', { blockSize: 122 }));
  const prefix = uniquePrefix();
  const node = await createNetns(t, `${prefix}-node`);
  const pod = await createNetns(t, `${prefix}-pod`);
  await cluster.expose(t, node);
  const conf = netConf(cluster.endpoint, { ipam: { type: 'cattail-ipam', assign_ipv4: 'true', assign_ipv6: 'true' } });
  const identity = { namespace: 'dual', name: 'db-0' };

  const add = await runCni(node, cniEnv('ADD', 'dual01', pod, identity), conf);
  assert.equal(add.code, 0, `ADD failed: ${add.stdout}\n${add.stderr}`);
  const result = add.json as { ips: Array<{ address: string }>; routes: unknown[] };
  assert.equal(result.ips.length, 2);
  const v6 = result.ips[1].address;
  assert.match(v6, /^fd00:66:[0-9a-f:]+\/128$/);
  assert.deepEqual(result.routes, [
    { dst: '0.0.0.0/0', gw: '169.254.1.1' },
    { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' },
  ]);
  const [eth0] = await ipJson<AddrShow[]>(pod, ['addr', 'show', 'dev', 'eth0']);
  assert.ok(
    eth0.addr_info?.some((a) => a.family === 'inet6' && `${a.local}/${a.prefixlen}` === v6),
    JSON.stringify(eth0.addr_info),
  );
  const v6Routes = await ipJson<Route[]>(pod, ['-6', 'route', 'show', 'default']);
  assert.ok(
    v6Routes.some((r) => r.gateway === 'fe80::ecee:eeff:feee:eeee' && r.dev === 'eth0'),
    JSON.stringify(v6Routes),
  );
  const hostV6 = await ipJson<Route[]>(node, ['-6', 'route', 'show', 'dev', vethName('dual', 'db-0')]);
  assert.ok(
    hostV6.some((r) => `${r.dst}` === v6.split('/')[0] || r.dst === v6),
    JSON.stringify(hostV6),
  );

  const check = await runCni(node, cniEnv('CHECK', 'dual01', pod, identity), { ...conf, prevResult: add.json });
  assert.equal(check.code, 0, `CHECK failed: ${check.stdout}\n${check.stderr}`);
  const del = await runCni(node, cniEnv('DEL', 'dual01', pod, identity), conf);
  assert.equal(del.code, 0, del.stdout + del.stderr);
  assert.deepEqual(await new ipam.IpamClient(cluster.ds).ipsByHandle('k8s-pod-network.dual01'), []);
});
