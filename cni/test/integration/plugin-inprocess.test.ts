// runPlugin in-process against a real etcd, with the wiring replaced by a recording fake: the
// paths that are hard to provoke with real interfaces (a wiring failure undone, a retried ADD,
// full pools, an unreachable etcd, the MTU file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdDatastore, ipam } from '@cattail/datastore';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';
import { defaultDeps, runPlugin, type PluginDeps } from '../../src/plugin.js';
import { silentLogger } from '../../src/log.js';
import { CommandError } from '../../src/exec.js';
import type { PodWiring, SetupRequest } from '../../src/wiring.js';
import { createNodes, ipPool, netConf } from './harness.js';

let etcd: EtcdServer;
let ds: EtcdDatastore;
before(async () => {
  etcd = await startEtcd();
  ds = new EtcdDatastore(etcd.clientOptions());
  await createNodes(ds);
  await ds.create(ipPool('pool-a', '10.66.0.0/16'));
  await ds.create(ipPool('tiny', '10.99.0.0/30', { blockSize: 30, assignmentMode: 'Manual' }));
});
after(async () => {
  await ds?.close();
  await etcd?.stop();
});

class FakeWiring implements PodWiring {
  setups: SetupRequest[] = [];
  teardowns: Array<[string, string]> = [];
  failSetup = false;
  async setup(req: SetupRequest) {
    this.setups.push(req);
    if (this.failSetup) throw new CommandError('ip link add', 'RTNETLINK answers: Operation not permitted', 2, false);
    return { containerMac: '0a:00:00:00:00:01' };
  }
  async teardown(netns: string, ifname: string) {
    this.teardowns.push([netns, ifname]);
  }
  async check() {
    return [];
  }
}

function deps(wiring: PodWiring, files: Record<string, string> = {}): PluginDeps {
  return {
    ...defaultDeps(),
    makeLogger: () => silentLogger,
    makeWiring: () => wiring,
    readFile: async (p) => {
      if (p in files) return files[p];
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    },
  };
}

const env = (command: string, cid: string, pod = 'web-0') => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: cid,
  CNI_NETNS: '/var/run/netns/fake',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: `K8S_POD_NAMESPACE=inproc;K8S_POD_NAME=${pod}`,
});

test('a wiring failure is error 102 and leaves no address, handle or endpoint', async () => {
  const wiring = new FakeWiring();
  wiring.failSetup = true;
  const out = await runPlugin({ env: env('ADD', 'fail1'), stdin: JSON.stringify(netConf(etcd.clientUrl)) }, deps(wiring));
  assert.equal(out.exitCode, 1);
  const err = JSON.parse(out.stdout);
  assert.equal(err.code, 102);
  assert.match(err.msg, /setting up the pod's interface failed/);
  assert.equal(err.details, 'RTNETLINK answers: Operation not permitted');
  assert.deepEqual(wiring.teardowns, [['/var/run/netns/fake', 'eth0']]);
  assert.deepEqual(await new ipam.IpamClient(ds).ipsByHandle('k8s-pod-network.fail1'), []);
  await assert.rejects(ds.get({ kind: 'WorkloadEndpoint', name: 'node--1-k8s-web--0-eth0', namespace: 'inproc' }), { code: 'DATASTORE_NOT_FOUND' });
});

test('a retried ADD reuses the container’s address; the MTU comes from the MTU file without mtu', async () => {
  const wiring = new FakeWiring();
  const { mtu: _m, ...noMtu } = netConf(etcd.clientUrl);
  const conf = JSON.stringify({ ...noMtu, mtu_file: '/run/test-mtu' });
  const d = deps(wiring, { '/run/test-mtu': '1410\n' });
  const first = await runPlugin({ env: env('ADD', 'retry1', 'retry-pod'), stdin: conf }, d);
  const second = await runPlugin({ env: env('ADD', 'retry1', 'retry-pod'), stdin: conf }, d);
  assert.equal(first.exitCode, 0, first.stdout);
  assert.equal(second.exitCode, 0, second.stdout);
  assert.deepEqual(JSON.parse(second.stdout).ips, JSON.parse(first.stdout).ips);
  assert.deepEqual(
    wiring.setups.map((s) => s.mtu),
    [1410, 1410],
  );
  assert.equal((await new ipam.IpamClient(ds).ipsByHandle('k8s-pod-network.retry1')).length, 1);
  const garbage = await runPlugin({ env: env('ADD', 'retry2', 'retry-pod-2'), stdin: conf }, deps(wiring, { '/run/test-mtu': 'auto' }));
  assert.equal(garbage.exitCode, 0);
  assert.equal(wiring.setups.at(-1)?.mtu, 1500);
});

test('full pools are error 101 naming the pool', async () => {
  const wiring = new FakeWiring();
  const conf = JSON.stringify(netConf(etcd.clientUrl, { ipam: { type: 'cattail-ipam', ipv4_pools: ['tiny'] } }));
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = await runPlugin({ env: env('ADD', `tiny${i}`, `tiny-${i}`), stdin: conf }, deps(wiring));
    codes.push(out.exitCode === 0 ? 0 : JSON.parse(out.stdout).code);
    if (out.exitCode !== 0) assert.match(JSON.parse(out.stdout).msg, /IPAM: only 0 of 1 IPv4 addresses .* tiny \(10\.99\.0\.0\/30\)/);
  }
  assert.deepEqual(codes, [0, 0, 0, 0, 101]);
});

test('an unreachable etcd is error 11 (try again later)', async () => {
  const wiring = new FakeWiring();
  const conf = JSON.stringify(netConf('http://127.0.0.1:9'));
  const out = await runPlugin({ env: env('ADD', 'down1'), stdin: conf }, deps(wiring));
  assert.equal(out.exitCode, 1);
  assert.equal(JSON.parse(out.stdout).code, 11);
  assert.deepEqual(wiring.setups, [], 'nothing wired');
});
