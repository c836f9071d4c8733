// runPlugin in-process with datastore_type kubernetes against a real kube-apiserver, the wiring
// replaced by a recording fake (the kernel side is the same as in etcd mode and is tested
// there): the pod read from the API server (labels, service account, pool annotations on the
// pod and its namespace), IPAM in Calico's CRDs, the pod's IP annotations written and blanked,
// the endpoint derived from the pod, and the refusals for bad annotations and missing pods.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { kdd, ipam } from '@cattail/datastore';
import { applyCalicoCrds, startKubeApiServer, type KubeApiServer } from '@cattail/datastore/testing';
import { defaultDeps, runPlugin, type PluginDeps } from '../../src/plugin.js';
import { silentLogger } from '../../src/log.js';
import type { PodWiring, SetupRequest } from '../../src/wiring.js';
import { ipPool } from './harness.js';

let kube: KubeApiServer;
let ds: kdd.KubeDatastore;

class FakeWiring implements PodWiring {
  setups: SetupRequest[] = [];
  async setup(req: SetupRequest) {
    this.setups.push(req);
    return { containerMac: '0a:00:00:00:00:01' };
  }
  async teardown() {}
  async check() {
    return [];
  }
}

const wiring = new FakeWiring();
const deps: PluginDeps = { ...defaultDeps(), makeLogger: () => silentLogger, makeWiring: () => wiring };

function conf(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'cattail-cni',
    nodename: 'node-1',
    datastore_type: 'kubernetes',
    kubernetes: { kubeconfig: kube.kubeconfigPath },
    policy: { type: 'k8s' },
    mtu: 1450,
    log_level: 'warning',
    ipam: { type: 'cattail-ipam', assign_ipv4: 'true' },
    ...extra,
  });
}

const env = (command: string, cid: string, ns: string, pod: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: cid,
  CNI_NETNS: '/var/run/netns/fake',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${cid}`,
});

async function pod(ns: string, name: string, annotations: Record<string, string> = {}): Promise<void> {
  await kube.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: { app: name }, annotations },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] },
    }),
  });
}

async function annotations(ns: string, name: string): Promise<Record<string, string>> {
  const p = JSON.parse(await kube.kubectl(['get', 'pod', '-n', ns, name, '-o', 'json'])) as { metadata: { annotations?: Record<string, string> } };
  return p.metadata.annotations ?? {};
}

async function add(cid: string, ns: string, name: string, extra: Record<string, unknown> = {}): Promise<{ exitCode: number; json: Record<string, unknown> }> {
  const out = await runPlugin({ env: env('ADD', cid, ns, name), stdin: conf(extra) }, deps);
  return { exitCode: out.exitCode, json: JSON.parse(out.stdout) as Record<string, unknown> };
}

const ipOf = (json: Record<string, unknown>) => (json.ips as Array<{ address: string }>)[0].address;

before(async () => {
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } }) });
  await ds.create(ipPool('pool-a', '10.66.0.0/16'));
  await ds.create(ipPool('pool-b', '10.77.0.0/16', { assignmentMode: 'Manual' }));
  await kube.ensureNamespace('kdd');
  await kube.ensureNamespace('kdd-b');
  await kube.kubectl(['annotate', 'namespace', 'kdd-b', 'cni.projectcalico.org/ipv4pools=["pool-b"]']);
});

after(async () => {
  await ds?.close();
  await kube?.stop();
});

test('ADD reads the pod, allocates from the CRDs, writes the pod IP annotations; DEL blanks them and frees the address', async () => {
  await pod('kdd', 'web-0');
  const r = await add('c0', 'kdd', 'web-0');
  assert.equal(r.exitCode, 0, JSON.stringify(r.json));
  const ip = ipOf(r.json);
  assert.match(ip, /^10\.66\.\d+\.\d+\/32$/);
  const a = await annotations('kdd', 'web-0');
  assert.equal(a['cni.projectcalico.org/podIP'], ip);
  assert.equal(a['cni.projectcalico.org/podIPs'], ip);
  assert.equal(a['cni.projectcalico.org/containerID'], 'c0');
  const wep = await ds.get({ kind: 'WorkloadEndpoint', namespace: 'kdd', name: 'node--1-k8s-web--0-eth0' });
  assert.equal(wep.metadata.labels?.app, 'web-0', "the endpoint carries the pod's labels");
  assert.deepEqual(wep.spec?.ipNetworks, [ip]);
  assert.deepEqual(
    (await new ipam.IpamClient(ds).ipsByHandle('k8s-pod-network.c0')).map((x) => `${x.address}/32`),
    [ip],
  );

  const del = await runPlugin({ env: env('DEL', 'c0', 'kdd', 'web-0'), stdin: conf() }, deps);
  assert.equal(del.exitCode, 0, del.stdout);
  assert.equal((await annotations('kdd', 'web-0'))['cni.projectcalico.org/podIP'], '');
  await assert.rejects(ds.get({ kind: 'WorkloadEndpoint', namespace: 'kdd', name: 'node--1-k8s-web--0-eth0' }), { code: 'DATASTORE_NOT_FOUND' });
  assert.deepEqual(await new ipam.IpamClient(ds).ipsByHandle('k8s-pod-network.c0'), []);
});

test("pools: the pod's annotation over its namespace's over the config's", async () => {
  await pod('kdd-b', 'from-ns');
  await pod('kdd-b', 'from-pod', { 'cni.projectcalico.org/ipv4pools': '["10.66.0.0/16"]' });
  assert.match(ipOf((await add('c1', 'kdd-b', 'from-ns')).json), /^10\.77\./);
  assert.match(ipOf((await add('c2', 'kdd-b', 'from-pod')).json), /^10\.66\./);
});

test('ipAddrsNoIpam only with the feature flag; malformed annotations and missing pods are error 7', async () => {
  await pod('kdd', 'fixed', { 'cni.projectcalico.org/ipAddrsNoIpam': '["10.200.0.7"]' });
  const refused = await add('c3', 'kdd', 'fixed');
  assert.equal(refused.exitCode, 1);
  assert.match(String(refused.json.msg), /feature_control\.ip_addrs_no_ipam/);
  const allowed = await add('c3', 'kdd', 'fixed', { feature_control: { ip_addrs_no_ipam: true } });
  assert.equal(allowed.exitCode, 0, JSON.stringify(allowed.json));
  assert.equal(ipOf(allowed.json), '10.200.0.7/32');

  await pod('kdd', 'bad', { 'cni.projectcalico.org/ipv4pools': 'pool-a' });
  const bad = await add('c4', 'kdd', 'bad');
  assert.equal(bad.json.code, 7);
  assert.match(String(bad.json.msg), /pod kdd\/bad: annotation cni\.projectcalico\.org\/ipv4pools is not JSON/);
  assert.deepEqual(await new ipam.IpamClient(ds).ipsByHandle('k8s-pod-network.c4'), [], 'nothing allocated');

  const missing = await add('c5', 'kdd', 'no-such-pod');
  assert.equal(missing.json.code, 7);
  assert.match(String(missing.json.msg), /not on the API server/);
});

test('ipAddrs: the requested address from IPAM; one in use or outside every pool is refused; DEL frees it', async () => {
  await pod('kdd', 'want-7', { 'cni.projectcalico.org/ipAddrs': '["10.66.200.7"]' });
  await pod('kdd', 'want-7-too', { 'cni.projectcalico.org/ipAddrs': '["10.66.200.7"]' });
  await pod('kdd', 'want-outside', { 'cni.projectcalico.org/ipAddrs': '["192.0.2.1"]' });
  const got = await add('c6', 'kdd', 'want-7');
  assert.equal(got.exitCode, 0, JSON.stringify(got.json));
  assert.equal(ipOf(got.json), '10.66.200.7/32');
  const again = await add('c6', 'kdd', 'want-7');
  assert.equal(ipOf(again.json), '10.66.200.7/32', 'a retried ADD keeps it');
  const taken = await add('c7', 'kdd', 'want-7-too');
  assert.equal(taken.exitCode, 1);
  assert.match(String(taken.json.msg), /10\.66\.200\.7 is already in use/);
  assert.deepEqual(await new ipam.IpamClient(ds).ipsByHandle('k8s-pod-network.c7'), [], 'the refused ADD holds nothing');
  const outside = await add('c8', 'kdd', 'want-outside');
  assert.match(String(outside.json.msg), /192\.0\.2\.1 is not in an enabled IP pool/);

  const del = await runPlugin({ env: env('DEL', 'c6', 'kdd', 'want-7'), stdin: conf() }, deps);
  assert.equal(del.exitCode, 0, del.stdout);
  const now = await add('c7', 'kdd', 'want-7-too');
  assert.equal(ipOf(now.json), '10.66.200.7/32', 'free again after DEL');
});
