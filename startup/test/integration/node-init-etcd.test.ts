// `cattail node init` as a process on real etcd, detecting addresses on real interfaces in a
// network namespace this file creates (CATTAIL_NETNS): each autodetection method finds the
// address it should, the first start writes everything calico/node's does (Node, default pool,
// cluster defaults, the VXLAN tunnel address, the nodename file), a second start changes
// nothing, a pool's VXLAN switched off releases the tunnel address, and bad settings or a taken
// address fail with their code before anything is written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipam, NotFoundError } from '@cattail/datastore';
import { sharedEtcd } from '@cattail/datastore/testing';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '@cattail/felix/testing';

const CLI = new URL('../../../../cli/bin/cattail.js', import.meta.url).pathname;
const fx = sharedEtcd();
const ns = uniquePrefix('cst');
let varLib: string;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function nodeInit(node: string, env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'node', 'init'],
      {
        env: {
          PATH: process.env.PATH,
          NODENAME: node,
          CATTAIL_NETNS: ns,
          CATTAIL_VAR_LIB_DIR: join(varLib, node),
          ETCD_ENDPOINTS: fx.etcd.endpoints.join(','),
          CALICO_IPV4POOL_CIDR: '10.98.0.0/16',
          CALICO_IPV4POOL_VXLAN: 'Always',
          FELIX_IPV6SUPPORT: 'false',
          CLUSTER_TYPE: 'k8s,bgp',
          CALICO_STARTUP_LOGLEVEL: 'Warning',
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(node: string, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const out = await nodeInit(node, env);
  assert.equal(out.code, 0, `node init ${node} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const bgpOf = async (node: string) => ((await fx.ds.get({ kind: 'Node', name: node })).spec as { bgp: Record<string, unknown> }).bgp;

before(async () => {
  await requireNetnsTools();
  varLib = await mkdtemp(join(tmpdir(), 'cattail-startup-'));
  await createNetns(ns);
  // Created first, so they come first in the interface order: first-found must skip them.
  await run('ip', ['-n', ns, 'link', 'add', 'cali0', 'type', 'veth', 'peer', 'name', 'docker0']);
  // The peer is created first: eth0 comes before ens5.
  await run('ip', ['-n', ns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'eth0']);
  for (const [dev, addr] of [
    ['cali0', '10.77.3.3/24'],
    ['docker0', '10.77.4.4/24'],
    ['eth0', '10.77.1.5/24'],
    ['ens5', '10.77.2.7/24'],
  ]) {
    await run('ip', ['-n', ns, 'addr', 'add', addr, 'dev', dev]);
    await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }
  await run('ip', ['-n', ns, 'addr', 'add', 'fd00:77::5/64', 'dev', 'eth0', 'nodad']);
});

after(async () => {
  await deleteNetns(ns);
  if (varLib) await rm(varLib, { recursive: true, force: true });
});

test('the first start writes the Node, the default pool, the cluster defaults, the tunnel address and the nodename file', async () => {
  const report = await ok('node-a', { AS: '64600', IP6: 'autodetect' });
  assert.equal(report.ipv4Address, '10.77.1.5/24', 'first-found skips cali* and docker* and takes eth0');
  assert.equal(report.ipv6Address, 'fd00:77::5/64');
  assert.deepEqual(report.poolsCreated, ['default-ipv4-ippool']);

  const node = await fx.ds.get({ kind: 'Node', name: 'node-a' });
  const spec = node.spec as Record<string, unknown>;
  assert.deepEqual(spec.bgp, { ipv4Address: '10.77.1.5/24', ipv6Address: 'fd00:77::5/64', asNumber: 64600 });
  assert.deepEqual(spec.orchRefs, [{ nodeName: 'node-a', orchestrator: 'k8s' }]);

  const pool = await fx.ds.get({ kind: 'IPPool', name: 'default-ipv4-ippool' });
  assert.deepEqual(pool.spec, {
    cidr: '10.98.0.0/16',
    blockSize: 26,
    ipipMode: 'Never',
    vxlanMode: 'Always',
    natOutgoing: true,
    nodeSelector: 'all()',
    allowedUses: ['Workload', 'Tunnel'],
    assignmentMode: 'Automatic',
  });

  const tunnel = spec.ipv4VXLANTunnelAddr as string;
  assert.match(tunnel, /^10\.98\.\d+\.\d+$/);
  assert.equal(report.vxlanTunnelAddress, tunnel);
  const held = await new ipam.IpamClient(fx.ds).ipsByHandle('vxlan-tunnel-addr-node-a');
  assert.deepEqual(
    held.map((a) => a.address),
    [tunnel],
  );

  const info = await fx.ds.get({ kind: 'ClusterInformation', name: 'default' });
  const infoSpec = info.spec as Record<string, unknown>;
  assert.equal(infoSpec.datastoreReady, true);
  assert.match(String(infoSpec.clusterGUID), /^[0-9a-f]{32}$/);
  assert.match(String(infoSpec.clusterType), /k8s,bgp/);
  assert.match(String(infoSpec.calicoVersion), /^v\d+\.\d+\.\d+/);
  for (const tier of ['default', 'kube-admin', 'kube-baseline']) await fx.ds.get({ kind: 'Tier', name: tier });
  const felix = await fx.ds.get({ kind: 'FelixConfiguration', name: 'default' });
  assert.equal((felix.spec as Record<string, unknown>).logSeverityScreen, 'Info');
  assert.equal((felix.spec as Record<string, unknown>).reportingInterval, '0s');
  const perNode = await fx.ds.get({ kind: 'FelixConfiguration', name: 'node.node-a' });
  assert.equal((perNode.spec as Record<string, unknown>).defaultEndpointToHostAction, 'Return');
  await fx.ds.get({ kind: 'BGPConfiguration', name: 'default' });
  await fx.ds.get({ kind: 'IPAMConfiguration', name: 'default' });
  assert.equal(await readFile(join(varLib, 'node-a', 'nodename'), 'utf8'), 'node-a');
});

test('a second start converges to the same state: same tunnel address, no new pool, the Node unchanged', async () => {
  const before = await fx.ds.get({ kind: 'Node', name: 'node-a' });
  const report = await ok('node-a', { AS: '64600', IP6: 'autodetect' });
  assert.deepEqual(report.poolsCreated, []);
  const after = await fx.ds.get({ kind: 'Node', name: 'node-a' });
  assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  assert.equal(report.vxlanTunnelAddress, (before.spec as Record<string, unknown>).ipv4VXLANTunnelAddr);
});

test('each autodetection method finds its interface', async () => {
  const cases: [string, Record<string, string>, string][] = [
    ['m-interface', { IP_AUTODETECTION_METHOD: 'interface=ens.*' }, '10.77.2.7/24'],
    ['m-skip', { IP_AUTODETECTION_METHOD: 'skip-interface=lo,eth0,cali.*' }, '10.77.4.4/24'],
    ['m-cidr', { IP_AUTODETECTION_METHOD: 'cidr=10.77.2.0/24, 10.9.0.0/16' }, '10.77.2.7/24'],
    ['m-reach', { IP_AUTODETECTION_METHOD: 'can-reach=10.77.2.99' }, '10.77.2.7/24'],
    ['m-fixed', { IP: '10.77.1.5', DISABLE_NODE_IP_CHECK: 'true' }, '10.77.1.5/24'],
  ];
  for (const [node, env, want] of cases) {
    const report = await ok(node, env);
    assert.equal(report.ipv4Address, want, `${node} ${JSON.stringify(env)}`);
    assert.equal((await bgpOf(node)).ipv4Address, want);
    // Gone again, so the next case's address is not another Node's.
    await fx.ds.delete({ kind: 'Node', name: node });
  }
});

test("another Node's address, a bad setting, or nothing found: a clear error and nothing written", async () => {
  const conflict = await nodeInit('node-b');
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /Node "node-a" already uses 10\.77\.1\.5\/24/);
  await assert.rejects(fx.ds.get({ kind: 'Node', name: 'node-b' }), NotFoundError);

  const badMethod = await nodeInit('node-c', { IP_AUTODETECTION_METHOD: 'nearest' });
  assert.notEqual(badMethod.code, 0);
  assert.match(badMethod.stderr, /IP_AUTODETECTION_METHOD=nearest: unknown method/);
  const badIp = await nodeInit('node-c', { IP: '10.1.2' });
  assert.match(badIp.stderr, /IP=10\.1\.2: not an IPv4 address/);
  const badPool = await nodeInit('node-c', { CALICO_IPV4POOL_VXLAN: 'Sometimes' });
  assert.match(badPool.stderr, /CALICO_IPV4POOL_VXLAN=Sometimes: use Always, CrossSubnet or Never/);
  const none = await nodeInit('node-c', { IP_AUTODETECTION_METHOD: 'interface=wlan.*' });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /no IPv4 address found by interface=wlan\.\*/);
  await assert.rejects(fx.ds.get({ kind: 'Node', name: 'node-c' }), NotFoundError);
});

test("a pool's VXLAN switched off releases the tunnel address and clears it from the Node", async () => {
  const pool = await fx.ds.get({ kind: 'IPPool', name: 'default-ipv4-ippool' });
  await fx.ds.update({ ...pool, spec: { ...(pool.spec as Record<string, unknown>), vxlanMode: 'Never' } });
  const report = await ok('node-a', { AS: '64600', IP6: 'autodetect' });
  assert.equal(report.vxlanTunnelAddress, undefined);
  assert.equal((await fx.ds.get({ kind: 'Node', name: 'node-a' }).then((n) => n.spec as Record<string, unknown>)).ipv4VXLANTunnelAddr, undefined);
  assert.deepEqual(await new ipam.IpamClient(fx.ds).ipsByHandle('vxlan-tunnel-addr-node-a'), []);
});
