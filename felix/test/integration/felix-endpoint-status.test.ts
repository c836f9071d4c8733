import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkResource, type Resource } from '@cattail/api';
import { EtcdDatastore } from '@cattail/datastore';
import { startEtcd, until } from '@cattail/datastore/testing';
import { TyphaDaemon, loadTyphaConfig } from '@cattail/typha';
import type { Logger } from '@cattail/typha/client';
import { hostEndpointStatusKey, workloadStatusKey } from '../../src/agent/endpoint-status-reporter.js';
import { lastStatusKey, statusKey } from '../../src/agent/status-reporter.js';
import { loadFelixLayers } from '../../src/config.js';
import { FelixDaemon } from '../../src/daemon.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix, wirePod } from '../../src/testing/netns.js';

// Endpoint status reporting, all real: etcd, an in-process Typha, and a Felix whose LinuxDataplane
// programs a "node" network namespace with veth pods. The statuses in etcd follow the kernel (a
// pod's link going down, an endpoint whose interface never appears, a deleted endpoint), a key
// left by an earlier run is removed, and after an etcd outage the reporter writes what changed
// meanwhile and restores a key that was lost.

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => quiet };
const V3 = 'projectcalico.org/v3';
const NODE = 'node1';

function checked(r: Resource): Resource {
  const res = checkResource(r);
  assert.ok(res.ok, `invalid test resource: ${JSON.stringify(res.ok ? '' : res.issues)}`);
  return res.resource;
}

function wep(pod: string, iface: string, ip: string): Resource {
  return checked({
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: { name: `${NODE}-k8s-${pod}-eth0`, namespace: 'default', labels: { pod } },
    spec: { node: NODE, orchestrator: 'k8s', pod, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: ['allow-all'] },
  });
}

test('endpoint statuses in etcd follow the kernel, and survive an etcd outage', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const node = `${prefix}-node`;
  const pods = { a: `${prefix}-a`, b: `${prefix}-b` };
  const ifaces = { a: `cali${tag}a`, b: `cali${tag}b`, c: `cali${tag}c` };

  const steps: Array<() => unknown> = [];
  t.after(async () => {
    for (const step of steps.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  });
  steps.push(() => Promise.all([node, pods.a, pods.b].map(deleteNetns)));
  await createNetns(node);
  await run('ip', ['-n', node, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', node, 'link', 'set', 'ext1', 'up']);
  await run('ip', ['-n', node, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ext0']);
  await createNetns(pods.a);
  await wirePod(node, pods.a, ifaces.a, '10.67.0.1');
  await createNetns(pods.b);
  await wirePod(node, pods.b, ifaces.b, '10.67.0.2');

  const etcd = await startEtcd();
  steps.push(() => etcd.stop());
  const ds = new EtcdDatastore(etcd.clientOptions());
  steps.push(() => ds.close());
  const keys = {
    a: workloadStatusKey(NODE, `default/${NODE}-k8s-a-eth0`),
    b: workloadStatusKey(NODE, `default/${NODE}-k8s-b-eth0`),
    c: workloadStatusKey(NODE, `default/${NODE}-k8s-c-eth0`),
    stale: workloadStatusKey(NODE, `default/${NODE}-k8s-gone-eth0`),
    hep: hostEndpointStatusKey(NODE, 'node1-ext0'),
  };
  // Left by an earlier run of this node's Felix, for an endpoint that no longer exists.
  await etcd.etcdctl('put', keys.stale, '{"status":"up"}');

  const typha = new TyphaDaemon(
    loadTyphaConfig({
      TYPHA_ETCDENDPOINTS: etcd.endpoints.join(','),
      TYPHA_SERVERHOST: '127.0.0.1',
      TYPHA_SERVERPORT: '0',
      TYPHA_CONNECTIONREBALANCINGMODE: 'none',
      TYPHA_SERVERBATCHWINDOWMS: '5',
    }),
    { logger: quiet },
  );
  const { syncPort } = await typha.start();
  steps.push(() => typha.stop());

  const felix = new FelixDaemon(
    loadFelixLayers({
      NODENAME: NODE,
      FELIX_TYPHAADDR: `127.0.0.1:${syncPort}`,
      FELIX_NETNS: node,
      FELIX_DATAPLANEDEBOUNCEMS: '10',
      FELIX_MTUFILE: '',
      FELIX_ROUTEREFRESHINTERVAL: '60', // link changes come through the link monitor (and c's retries)
      ETCD_ENDPOINTS: etcd.endpoints.join(','),
      FELIX_REPORTINGINTERVALSECS: '0.5',
      FELIX_REPORTINGTTLSECS: '10',
      FELIX_ENDPOINTREPORTINGENABLED: 'true',
      FELIX_ENDPOINTREPORTINGDELAYSECS: '0.2',
    }),
    { logger: quiet },
  );
  assert.ok(felix.dataplane instanceof LinuxDataplane);
  await felix.start();
  steps.push(() => felix.stop());

  const statusOf = async (key: string): Promise<string | undefined> => {
    const kv = await ds.client.get(key);
    return kv ? (JSON.parse(kv.value.toString()) as { status: string }).status : undefined;
  };
  const all = async () => Object.fromEntries(await Promise.all(Object.entries(keys).map(async ([k, key]) => [k, await statusOf(key)])));
  const expect = async (want: Record<string, string | undefined>, what: string, timeoutMs = 20_000) => {
    let seen: Record<string, unknown> = {};
    await until(
      async () => {
        seen = await all();
        return Object.entries(want).every(([k, v]) => seen[k] === v);
      },
      () => `${what}: want ${JSON.stringify(want)}, etcd has ${JSON.stringify(seen)}; felix ${JSON.stringify(felix.status())}`,
      timeoutMs,
    );
  };

  // 1. Two pods wired, one endpoint whose interface never appears, a host endpoint on ext0.
  await ds.create(
    checked({ apiVersion: V3, kind: 'Profile', metadata: { name: 'allow-all' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } }),
  );
  await ds.create(wep('a', ifaces.a, '10.67.0.1'));
  await ds.create(wep('b', ifaces.b, '10.67.0.2'));
  await ds.create(wep('c', ifaces.c, '10.67.0.3'));
  await ds.create(
    checked({
      apiVersion: V3,
      kind: 'HostEndpoint',
      metadata: { name: 'node1-ext0', labels: { host: NODE } },
      spec: { node: NODE, interfaceName: 'ext0', profiles: ['allow-all'] },
    }),
  );
  await expect({ a: 'up', b: 'up', c: 'down', hep: 'up', stale: undefined }, 'statuses after start');

  // The node status carries Calico's fields, and the last report is kept without a lease.
  const live = JSON.parse((await ds.client.get(statusKey(NODE)))!.value.toString()) as Record<string, unknown>;
  assert.equal(typeof live.uptime, 'number');
  assert.equal(typeof live.first_update, 'boolean');
  const last = await ds.client.get(lastStatusKey(NODE));
  assert.ok(last, 'last_reported_status written');
  assert.equal(String(last.lease), '0', 'last_reported_status has no lease');

  // 2. Pod b's end of its veth goes down: no carrier on the node's end, so b is down.
  await run('ip', ['-n', pods.b, 'link', 'set', 'eth0', 'down']);
  await expect({ b: 'down', a: 'up' }, 'b down after its link went down');

  // 3. Endpoint a deleted: its status goes with it.
  await ds.delete({ kind: 'WorkloadEndpoint', namespace: 'default', name: `${NODE}-k8s-a-eth0` });
  await expect({ a: undefined, b: 'down' }, 'a removed');

  // 4. etcd goes away. Meanwhile b comes back up, and c's key is lost (the store comes back
  // without it, as after a restore from an older backup).
  await etcd.etcdctl('del', keys.c);
  etcd.kill('SIGKILL');
  await run('ip', ['-n', pods.b, 'link', 'set', 'eth0', 'up']);
  await until(
    () => (felix.status().endpointStatus?.failures ?? 0) > 0,
    () => `a failed write while etcd is down: ${JSON.stringify(felix.status().endpointStatus)}`,
    20_000,
  );
  await etcd.restart();
  await expect({ b: 'up', c: 'down', a: undefined, hep: 'up' }, 'after the outage: b written, c restored by the resync', 40_000);
});
