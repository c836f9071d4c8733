// Lists on a real kube-apiserver come in pages (limit + continue), as client-go's pager lists:
// every object once, the resourceVersion of the first page, for CRD kinds (KubeDatastore.list),
// the kinds derived from Kubernetes objects (Profiles from Namespaces), a watch's initial list
// and an exact-resourceVersion list; an expired continue token lists again in one request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { applyCalicoCrds, startKubeApiServer, until, type KubeApiServer } from '../../src/testing/index.js';
import { KubeDatastore } from '../../src/kdd/kube-datastore.js';
import { KubeClient, KubeHttpError, listPaged } from '../../src/kdd/kube-client.js';

let kube: KubeApiServer;
let ds: KubeDatastore;
const N = 13;

const set = (i: number): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'GlobalNetworkSet',
  metadata: { name: `set-${String(i).padStart(2, '0')}` },
  spec: { nets: [`10.${i}.0.0/16`] },
});

before(async () => {
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  ds = new KubeDatastore({ kubeconfigPath: kube.kubeconfigPath, listPageSize: 5 });
  for (let i = 0; i < N; i++) await ds.create(set(i));
  for (let i = 0; i < 6; i++) await kube.ensureNamespace(`page-${i}`);
});

after(async () => {
  await ds?.close();
  await kube?.stop();
});

test('listPaged: 13 objects in pages of 5 are 3 requests, each after the first continuing the first', async () => {
  const client = new KubeClient({ server: kube.url, ca: kube.ca, cert: kube.clientCert, key: kube.clientKey });
  const asked: string[] = [];
  const { items, resourceVersion } = await listPaged(
    (path) => {
      asked.push(path);
      return client.request('GET', path);
    },
    '/apis/crd.projectcalico.org/v1/globalnetworksets',
    { pageSize: 5 },
  );
  client.close();
  assert.equal(items.length, N);
  assert.equal(new Set(items.map((o) => (o as { metadata: { name: string } }).metadata.name)).size, N, 'each object once');
  assert.equal(asked.length, 3);
  assert.match(asked[0], /\?limit=5$/);
  for (const p of asked.slice(1)) assert.match(p, /\?limit=5&continue=[^&]+$/);
  assert.ok(Number(resourceVersion) > 0);
});

test('KubeDatastore lists CRD kinds and derived kinds in pages, and a watch starts from a paged list', async () => {
  const sets = await ds.list('GlobalNetworkSet');
  assert.deepEqual(
    sets.items.map((r) => r.metadata.name),
    Array.from({ length: N }, (_, i) => set(i).metadata.name),
  );
  const profiles = await ds.list('Profile');
  for (let i = 0; i < 6; i++)
    assert.ok(
      profiles.items.some((p) => p.metadata.name === `kns.page-${i}`),
      `kns.page-${i}`,
    );

  const seen = new Set<string>();
  const errors: Error[] = [];
  const watch = ds.watchKind('GlobalNetworkSet', {
    onEvents: (events) => {
      for (const e of events) if (e.type === 'put') seen.add(e.key);
    },
    onError: (err) => errors.push(err),
  });
  await until(
    () => seen.size >= N,
    () => `the initial list: ${seen.size} of ${N}`,
  );
  watch.close();
  assert.deepEqual(errors, []);
  assert.equal(seen.size, N, 'the initial list delivered every object');
});

test('an expired continue token: the list is made again in one request', async () => {
  const client = new KubeClient({ server: kube.url, ca: kube.ca, cert: kube.clientCert, key: kube.clientKey });
  const asked: string[] = [];
  const { items } = await listPaged(
    (path) => {
      asked.push(path);
      // The API server answers 410 to a continue token whose snapshot was compacted.
      if (path.includes('continue=')) return Promise.reject(new KubeHttpError(410, { reason: 'Expired', message: 'the continue token expired' }));
      return client.request('GET', path);
    },
    '/apis/crd.projectcalico.org/v1/globalnetworksets',
    { pageSize: 5 },
  );
  client.close();
  assert.equal(items.length, N);
  assert.equal(asked.length, 3, asked.join('\n'));
  assert.match(asked[2], /\?$/, 'the last request lists everything at once');
});
