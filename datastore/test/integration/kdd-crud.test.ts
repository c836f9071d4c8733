/**
 * KubeDatastore CRUD against a real kube-apiserver with Calico's CRDs installed: a cluster-scoped
 * kind (IPPool), a namespaced tiered policy (NetworkPolicy, stored as `default.<name>`), an IPAM
 * kind (IPAMBlock, compare-and-swap on resourceVersion), and Calico's metadata layout as kubectl
 * sees it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCIDR, type Resource } from '@cattail/api';
import { applyCalicoCrds, startKubeApiServer, type KubeApiServer } from '../../src/testing/index.js';
import { KubeDatastore } from '../../src/kdd/kube-datastore.js';
import { METADATA_ANNOTATION } from '../../src/kdd/crd-codec.js';
import { emptyBlock } from '../../src/ipam/block.js';
import { AlreadyExistsError, ConflictError, NotFoundError, UnsupportedError } from '../../src/errors.js';

function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name, labels: { team: 'net' } }, spec: { cidr, blockSize: 26, ...extra } };
}

function policy(namespace: string, name: string, order: number): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, labels: { 'projectcalico.org/tier': 'default', app: 'shop' } },
    spec: { tier: 'default', order, selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Allow' }] },
  };
}

interface CrdObject {
  metadata: { name: string; uid: string; resourceVersion: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

describe('KubeDatastore CRUD on a real kube-apiserver', () => {
  let kube: KubeApiServer;
  let ds: KubeDatastore;

  before(async () => {
    kube = await startKubeApiServer();
    await applyCalicoCrds(kube);
    ds = new KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
  });

  after(async () => {
    await ds?.close();
    await kube?.stop();
  });

  test('IPPool: create, get, list, update, delete with Calico metadata on the CRD object', async () => {
    const created = await ds.create(pool('pool-a', '10.70.0.0/16'));
    assert.equal(created.kind, 'IPPool');
    assert.equal(created.apiVersion, 'projectcalico.org/v3');
    assert.match(created.metadata.resourceVersion ?? '', /^\d+$/);
    assert.match(created.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(created.metadata.labels, { team: 'net' });

    // As Calico lays it out: the v3 metadata in the annotation, the uid bit-reversed, no plain labels.
    const raw = JSON.parse(await kube.kubectl(['get', 'ippools.crd.projectcalico.org', 'pool-a', '-o', 'json'])) as CrdObject;
    assert.equal(raw.spec.cidr, '10.70.0.0/16');
    assert.equal(raw.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.notEqual(raw.metadata.uid, created.metadata.uid);
    assert.equal(raw.metadata.labels, undefined);
    assert.deepEqual(JSON.parse(raw.metadata.annotations?.[METADATA_ANNOTATION] ?? '{}'), { labels: { team: 'net' } });

    const got = await ds.get({ kind: 'IPPool', name: 'pool-a' });
    assert.deepEqual(got, created);
    const listed = await ds.list('IPPool');
    assert.deepEqual(
      listed.items.map((r) => r.metadata.name),
      ['pool-a'],
    );
    assert.ok(listed.revision >= Number(created.metadata.resourceVersion));

    const updated = await ds.update({ ...got, spec: { ...got.spec, natOutgoing: true } });
    assert.ok(Number(updated.metadata.resourceVersion) > Number(got.metadata.resourceVersion));
    assert.equal(updated.metadata.uid, created.metadata.uid);
    assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
    assert.equal(updated.spec?.natOutgoing, true);

    // An update without resourceVersion reads the current one and keeps uid and creationTimestamp.
    const { resourceVersion: _rv, uid: _uid, ...bare } = updated.metadata;
    const blind = await ds.update({ ...updated, metadata: bare, spec: { ...updated.spec, disabled: true } });
    assert.equal(blind.metadata.uid, created.metadata.uid);
    assert.equal(blind.spec?.disabled, true);

    const deleted = await ds.delete({ kind: 'IPPool', name: 'pool-a' });
    assert.equal(deleted.metadata.resourceVersion, blind.metadata.resourceVersion);
    await assert.rejects(ds.get({ kind: 'IPPool', name: 'pool-a' }), NotFoundError);
    await assert.rejects(ds.delete({ kind: 'IPPool', name: 'pool-a' }), NotFoundError);
    await assert.rejects(ds.update(pool('pool-a', '10.70.0.0/16')), NotFoundError);
  });

  test('create of an existing name is AlreadyExistsError; a stale resourceVersion is ConflictError on update and delete', async () => {
    const first = await ds.create(pool('pool-b', '10.71.0.0/16'));
    await assert.rejects(ds.create(pool('pool-b', '10.72.0.0/16')), AlreadyExistsError);
    const second = await ds.update({ ...first, spec: { ...first.spec, natOutgoing: true } });
    await assert.rejects(ds.update({ ...first, spec: { ...first.spec, disabled: true } }), (err: Error & { code: string }) => {
      assert.ok(err instanceof ConflictError);
      assert.equal(err.code, 'DATASTORE_CONFLICT');
      assert.match(err.message, new RegExp(`resourceVersion ${first.metadata.resourceVersion} is stale, current ${second.metadata.resourceVersion}`));
      return true;
    });
    await assert.rejects(ds.delete({ kind: 'IPPool', name: 'pool-b' }, { resourceVersion: first.metadata.resourceVersion }), ConflictError);
    assert.equal((await ds.get({ kind: 'IPPool', name: 'pool-b' })).spec?.natOutgoing, true, 'the refused writes changed nothing');
    await ds.delete({ kind: 'IPPool', name: 'pool-b' }, { resourceVersion: second.metadata.resourceVersion });
  });

  test('an invalid resource is refused before it reaches the API server (VALIDATION_FAILED)', async () => {
    await assert.rejects(ds.create(pool('pool-bad', '10.73.0.0/16', { blockSize: 33 })), (err: Error & { code: string }) => {
      assert.equal(err.code, 'VALIDATION_FAILED');
      assert.match(err.message, /blockSize/);
      return true;
    });
    await assert.rejects(ds.get({ kind: 'IPPool', name: 'pool-bad' }), NotFoundError);
  });

  test('NetworkPolicy: namespaced, stored as default.<name>, listed per namespace', async () => {
    await kube.ensureNamespace('kdd-a');
    await kube.ensureNamespace('kdd-b');
    const created = await ds.create(policy('kdd-a', 'allow-web', 100));
    await ds.create(policy('kdd-b', 'allow-web', 200));
    assert.equal(created.metadata.name, 'allow-web');
    assert.equal(created.metadata.namespace, 'kdd-a');
    const names = (await kube.kubectl(['get', 'networkpolicies.crd.projectcalico.org', '-n', 'kdd-a', '-o', 'name'])).trim();
    assert.equal(names, 'networkpolicy.crd.projectcalico.org/default.allow-web');
    // Calico's own labels are also plain labels on the CRD object; the rest only in the metadata annotation.
    const raw = JSON.parse(await kube.kubectl(['get', 'networkpolicies.crd.projectcalico.org', 'default.allow-web', '-n', 'kdd-a', '-o', 'json'])) as CrdObject;
    assert.deepEqual(raw.metadata.labels, { 'projectcalico.org/tier': 'default' });
    assert.equal((JSON.parse(raw.metadata.annotations?.[METADATA_ANNOTATION] ?? '{}') as { name?: string }).name, 'allow-web');

    const got = await ds.get({ kind: 'NetworkPolicy', name: 'allow-web', namespace: 'kdd-a' });
    assert.equal(got.spec?.order, 100);
    assert.deepEqual(got.metadata.labels, { 'projectcalico.org/tier': 'default', app: 'shop' });
    assert.deepEqual(
      (await ds.list('NetworkPolicy', { namespace: 'kdd-b' })).items.map((r) => [r.metadata.namespace, r.metadata.name, r.spec?.order]),
      [['kdd-b', 'allow-web', 200]],
    );
    assert.equal((await ds.list('NetworkPolicy')).items.length, 2);
    const updated = await ds.update({ ...got, spec: { ...got.spec, order: 150 } });
    assert.equal(updated.spec?.order, 150);
    await ds.delete({ kind: 'NetworkPolicy', name: 'allow-web', namespace: 'kdd-a' });
    await assert.rejects(ds.get({ kind: 'NetworkPolicy', name: 'allow-web', namespace: 'kdd-a' }), NotFoundError);
    assert.equal((await ds.get({ kind: 'NetworkPolicy', name: 'allow-web', namespace: 'kdd-b' })).spec?.order, 200);
  });

  test('IPAMBlock: compare-and-swap on resourceVersion, one of two racing writers wins', async () => {
    const block = emptyBlock(parseCIDR('10.80.0.0/26')!, { affinity: 'host:node-1' });
    const created = await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPAMBlock', metadata: { name: '10-80-0-0-26' }, spec: { ...block } });
    const claim = (ordinal: number, handle: string): Resource => {
      const spec = structuredClone(created.spec) as { allocations: (number | null)[]; unallocated: number[]; attributes: unknown[] };
      spec.allocations[ordinal] = spec.attributes.length;
      spec.unallocated = spec.unallocated.filter((o) => o !== ordinal);
      spec.attributes.push({ handle_id: handle, secondary: null });
      return { ...created, spec };
    };
    const results = await Promise.allSettled([ds.update(claim(0, 'h-one')), ds.update(claim(1, 'h-two'))]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(lost[0].status === 'rejected' && lost[0].reason instanceof ConflictError);
    const now = await ds.get({ kind: 'IPAMBlock', name: '10-80-0-0-26' });
    const allocated = (now.spec?.allocations as (number | null)[]).filter((a) => a !== null);
    assert.equal(allocated.length, 1, 'exactly the winner’s allocation is stored');
    assert.equal(now.metadata.resourceVersion, won[0].status === 'fulfilled' ? won[0].value.metadata.resourceVersion : '');
  });

  test('IPAMConfiguration is the CRD kind IPAMConfig; an unknown kind and multi-kind prefixes are refused', async () => {
    await ds.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPAMConfiguration',
      metadata: { name: 'default' },
      spec: { strictAffinity: true, autoAllocateBlocks: true },
    });
    assert.equal((await kube.kubectl(['get', 'ipamconfigs.crd.projectcalico.org', '-o', 'name'])).trim(), 'ipamconfig.crd.projectcalico.org/default');
    assert.equal((await ds.get({ kind: 'IPAMConfiguration', name: 'default' })).spec?.strictAffinity, true);
    await assert.rejects(ds.list('NoSuchKind'), (err: Error & { code: string }) => err.code === 'UNKNOWN_KIND');
    await assert.rejects(ds.listPrefix('/calico/'), UnsupportedError);
    const one = await ds.listPrefix('/calico/ipam/v2/config');
    assert.deepEqual(
      one.entries.map((e) => e.key),
      ['/calico/ipam/v2/config'],
    );
  });
});
