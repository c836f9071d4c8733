/**
 * `cattail datastore migrate` from a populated etcd into a real kube-apiserver, with the real
 * binary: lock etcd, export, import into the Kubernetes datastore, unlock; then every exported
 * resource reads back the same from the API server (spec and labels), IPAM included; what the
 * Kubernetes datastore derives itself is left out; an unlocked export, an unlocked file and a
 * re-run (resume) behave as calicoctl's.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { checkResource, type Resource } from '@cattail/api';
import { ipam, kdd, type Datastore } from '@cattail/datastore';
import { applyCalicoCrds, sharedEtcd, startKubeApiServer, type KubeApiServer } from '@cattail/datastore/testing';
import { runCattail, type CattailResult } from './cattail-process.js';

const fx = sharedEtcd({ wipe: '/calico/' });
let kube: KubeApiServer;
let dir: string;

const v3 = (kind: string, name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...extra },
  spec,
});

before(async () => {
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  await kube.kubectl(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: ['node-1', 'node-2'].map((name) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } })),
    }),
  });
  dir = await mkdtemp(join(tmpdir(), 'cattail-migrate-'));
});

after(async () => {
  await kube?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const etcdCli = (args: string[]): Promise<CattailResult> => runCattail(args, { cwd: dir, env: { ETCD_ENDPOINTS: fx.etcd.endpoints.join(',') } });
const kddCli = (args: string[]): Promise<CattailResult> =>
  runCattail(args, { cwd: dir, env: { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: kube.kubeconfigPath } });

/** JSON with sorted keys: the same content compares equal whatever order the store keeps. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * kind/namespace/name → {labels, spec} of every resource of `kinds`, with Calico's defaults
 * applied (the seeding above writes without them; the import, as `apply`, fills them in).
 */
async function content(ds: Datastore, kinds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const kind of kinds) {
    for (const stored of (await ds.list(kind)).items) {
      const checked = checkResource(stored);
      const r = checked.ok ? checked.resource : stored;
      const labels = Object.fromEntries(Object.entries(r.metadata.labels ?? {}).filter(([k]) => !k.startsWith('projectcalico.org/')));
      out.set(`${kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, canonical({ labels, spec: r.spec }));
    }
  }
  return out;
}

test('lock, export from etcd, import into the Kubernetes datastore, unlock: every resource reads back the same', async () => {
  const ds = fx.ds;
  for (const name of ['node-1', 'node-2']) {
    await ds.create(v3('Node', name, { bgp: { ipv4Address: `192.0.2.${name.endsWith('1') ? 1 : 2}/24` } }, { labels: { rack: 'r1' } }));
  }
  await ds.create(v3('IPPool', 'pool-a', { cidr: '10.66.0.0/16', blockSize: 26, natOutgoing: true, nodeSelector: 'all()' }));
  await ds.create(v3('GlobalNetworkPolicy', 'deny-icmp', { selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Deny', protocol: 'ICMP' }] }));
  await ds.create(v3('NetworkPolicy', 'allow-web', { selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Allow' }] }, { namespace: 'shop' }));
  await ds.create(v3('NetworkPolicy', 'knp.default.from-k8s', { selector: 'all()', types: ['Ingress'] }, { namespace: 'shop' }));
  await ds.create(v3('Profile', 'kns.shop', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }));
  await ds.create(v3('BGPPeer', 'tor', { peerIP: '192.0.2.254', asNumber: 64513 }));
  await ds.create(v3('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: true }));
  await ds.create(v3('GlobalNetworkSet', 'ext', { nets: ['198.51.100.0/24'] }, { labels: { role: 'ext' } }));
  const client = new ipam.IpamClient(ds);
  for (let i = 0; i < 3; i++) await client.autoAssign({ handleId: `k8s-pod-network.c${i}`, node: i === 2 ? 'node-2' : 'node-1', num4: 1, num6: 0 });

  // An export of an unlocked datastore is refused.
  const early = await etcdCli(['datastore', 'migrate', 'export']);
  assert.equal(early.code, 1);
  assert.match(early.stderr + early.stdout, /Datastore is not locked/);

  assert.equal((await etcdCli(['datastore', 'migrate', 'lock'])).code, 0);
  const exported = await etcdCli(['datastore', 'migrate', 'export']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stderr, /left out 1 resource\(s\) the Kubernetes datastore derives itself: Profiles of Namespaces/);
  assert.match(exported.stderr, /left out 1 resource\(s\) .*: Kubernetes NetworkPolicies/);
  const docs = parseAllDocuments(exported.stdout).map((d) => d.toJS() as Resource);
  assert.equal(docs[0].kind, 'ClusterInformation', 'ClusterInformation first');
  assert.ok(docs.some((d) => d.kind === 'IPAMBlock') && docs.some((d) => d.kind === 'IPAMHandle') && docs.some((d) => d.kind === 'BlockAffinity'));
  const file = join(dir, 'etcd-data.yaml');
  await writeFile(file, exported.stdout);

  // Namespaced resources need their namespace on the target, as in any Kubernetes cluster.
  const missingNs = await kddCli(['datastore', 'migrate', 'import', '-f', file]);
  assert.equal(missingNs.code, 1);
  assert.match(
    missingNs.stderr + missingNs.stdout,
    /importing NetworkPolicy shop\/allow-web failed after \d+ of \d+ resources: Namespace\(shop\) does not exist\. .*run the import again/,
  );
  await kube.ensureNamespace('shop');
  const imported = await kddCli(['datastore', 'migrate', 'import', '-f', file]);
  assert.equal(imported.code, 0, imported.stderr + imported.stdout);
  assert.match(imported.stdout, /Imported \d+ resources/);
  const target = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  try {
    assert.equal((await target.get({ kind: 'ClusterInformation', name: 'default' })).spec?.datastoreReady, false, 'the target stays locked');
    // Resume: a second import updates what is there and succeeds.
    assert.equal((await kddCli(['datastore', 'migrate', 'import', '-f', file])).code, 0);
    assert.equal((await kddCli(['datastore', 'migrate', 'unlock'])).code, 0);
    assert.equal((await target.get({ kind: 'ClusterInformation', name: 'default' })).spec?.datastoreReady, true);

    const kinds = ['IPPool', 'GlobalNetworkPolicy', 'BGPPeer', 'BGPConfiguration', 'GlobalNetworkSet', 'IPAMBlock', 'IPAMHandle', 'BlockAffinity', 'Tier'];
    const want = await content(ds, kinds);
    const got = await content(target, kinds);
    assert.deepEqual([...got].sort(), [...want].sort());
    const wantNp = await content(ds, ['NetworkPolicy']);
    wantNp.delete('NetworkPolicy/shop/knp.default.from-k8s');
    assert.deepEqual([...(await content(target, ['NetworkPolicy']))].sort(), [...wantNp].sort(), 'Calico policies, not the knp.default.* ones');
    const node = await target.get({ kind: 'Node', name: 'node-1' });
    assert.equal((node.spec as { bgp?: { ipv4Address?: string } }).bgp?.ipv4Address, '192.0.2.1/24', "the Node's Calico fields on the Kubernetes Node");
    // IPAM on the target knows the same allocations.
    const held = await new ipam.IpamClient(target).ipsByHandle('k8s-pod-network.c2');
    assert.deepEqual(held, await client.ipsByHandle('k8s-pod-network.c2'));
  } finally {
    await target.close();
    await etcdCli(['datastore', 'migrate', 'unlock']);
  }
});

test('a file that was not exported from a locked datastore is refused, nothing imported', async () => {
  const file = join(dir, 'unlocked.yaml');
  await writeFile(file, 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: stray\nspec:\n  cidr: 10.99.0.0/16\n');
  const r = await kddCli(['datastore', 'migrate', 'import', '-f', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr + r.stdout, /not exported from a locked datastore/);
  const target = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  try {
    await assert.rejects(target.get({ kind: 'IPPool', name: 'stray' }), { code: 'DATASTORE_NOT_FOUND' });
  } finally {
    await target.close();
  }
});
