// DatastoreWatcher.confirmRevision on the model etcd: the revision moves to the store's only when
// nothing under the prefix changed since, and the move is reported as a resync (a gap the cache
// resumes no one from), while changes that cancelled out are dropped when they arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatastoreWatcher } from '../../src/watcher/datastore-watcher.js';
import type { KVUpdate } from '../../src/pipeline/sync-callbacks.js';
import { ModelEtcd } from '../model/model-etcd.js';
import { KEYS } from '../model/model-system.js';
import { recordingSink } from '../pipeline/helpers.js';
import { until } from '@cattail/datastore/testing';

const OUTSIDE = '/cattail/typha/replicas/x';

async function started(etcd: ModelEtcd) {
  const sink = recordingSink<KVUpdate>();
  const watcher = new DatastoreWatcher({
    datastore: etcd.link('a'),
    sink,
    retryDelaysMs: [5],
    delay: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  watcher.start();
  await until(() => watcher.inSync, 'watcher in sync');
  return { watcher, sink };
}

const outside = (etcd: ModelEtcd) => etcd.put(OUTSIDE, { apiVersion: 'v1', kind: 'Registration', metadata: { name: 'x' } });

test('writes only outside the prefix: the revision moves to the store’s, as a resync from ours', async () => {
  const etcd = new ModelEtcd();
  etcd.put(KEYS[2].key, KEYS[2].make(0));
  const { watcher, sink } = await started(etcd);
  const from = watcher.revision;
  outside(etcd);
  outside(etcd);
  sink.calls.length = 0; // writes outside the prefix reach no watch: nothing else is coming
  await watcher.confirmRevision(etcd.revision);
  assert.equal(watcher.revision, etcd.revision);
  assert.deepEqual(sink.calls, [
    { type: 'status', status: 'resync', revision: from },
    { type: 'updates', updates: [], revision: etcd.revision },
    { type: 'status', status: 'in-sync', revision: etcd.revision },
  ]);
  assert.equal(watcher.stats().confirmations, 1);
  await watcher.stop();
});

test('a change under the prefix is never skipped: no confirmation until it has arrived', async () => {
  const etcd = new ModelEtcd();
  const { watcher, sink } = await started(etcd);
  etcd.put(KEYS[0].key, KEYS[0].make(1)); // delivered later (the model's network)
  outside(etcd);
  const target = etcd.revision;
  await watcher.confirmRevision(target);
  assert.equal(watcher.revision, target, 'reached after the change arrived and a second probe');
  const put = sink.updates().find((u) => u.key === KEYS[0].key);
  assert.ok(put?.resource, 'the change was passed on, not jumped over');
  await watcher.stop();
});

test('a key created and deleted before the watch delivers it: confirmed, and the pair is dropped when it arrives', async () => {
  const etcd = new ModelEtcd();
  const { watcher, sink } = await started(etcd);
  sink.calls.length = 0;
  etcd.put(KEYS[1].key, KEYS[1].make(0));
  etcd.delete(KEYS[1].key);
  await watcher.confirmRevision(etcd.revision);
  assert.equal(watcher.revision, etcd.revision);
  await new Promise((r) => setImmediate(r)); // the model delivers the pair now
  assert.deepEqual(sink.updates(), [], 'nothing passed on: the content never differed');
  assert.deepEqual(
    sink.calls.filter((c) => c.type === 'status').map((c) => c.type === 'status' && c.status),
    ['resync', 'in-sync'],
    'reported as a gap, so no client from inside it is resumed here',
  );
  await watcher.stop();
});

test('a cut link: no confirmation, the revision stays', async () => {
  const etcd = new ModelEtcd();
  const { watcher } = await started(etcd);
  const from = watcher.revision;
  etcd.link('a').setMode('cut');
  outside(etcd);
  await watcher.confirmRevision(etcd.revision);
  assert.equal(watcher.revision, from);
  etcd.link('a').setMode('up');
  await watcher.stop();
});
