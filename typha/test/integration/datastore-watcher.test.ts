// The single upstream watch against a real etcd: list-then-watch, resume across a cut
// connection, relist-and-diff after compaction — never a gap, never a duplicate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdDatastore, etcd as etcdApi } from '@cattail/datastore';
import { startEtcd, startTcpProxy, type EtcdServer } from '@cattail/datastore/testing';
import { DatastoreWatcher } from '../../src/watcher/datastore-watcher.js';
import type { KVUpdate, SyncStatus } from '../../src/pipeline/sync-callbacks.js';

let server: EtcdServer;
let raw: etcdApi.EtcdClient;

before(async () => {
  server = await startEtcd();
  raw = new etcdApi.EtcdClient(server.clientOptions());
});
after(async () => {
  raw?.close();
  await server?.stop();
});

const P = '/calico/resources/v3/projectcalico.org/globalnetworksets/';
const setValue = (name: string, n: number) =>
  JSON.stringify({ kind: 'GlobalNetworkSet', apiVersion: 'projectcalico.org/v3', metadata: { name }, spec: { nets: [`10.${n % 250}.0.0/16`] } });

/** A downstream that applies updates to a map and checks they never repeat or go back. */
function mirror() {
  const state = new Map<string, KVUpdate>();
  const statuses: SyncStatus[] = [];
  const problems: string[] = [];
  let lastRevision = 0;
  let waiters: Array<() => void> = [];
  return {
    state,
    statuses,
    problems,
    sink: {
      onStatus(s: SyncStatus) {
        statuses.push(s);
        waiters.forEach((w) => w());
      },
      onUpdates(updates: KVUpdate[], revision: number) {
        if (revision < lastRevision) problems.push(`revision went back ${lastRevision} → ${revision}`);
        lastRevision = revision;
        for (const u of updates) {
          const prev = state.get(u.key);
          if (prev && u.resource && prev.revision === u.revision) problems.push(`duplicate ${u.key}@${u.revision}`);
          if (!u.resource && !u.error && !prev) problems.push(`delete of unknown ${u.key}`);
          if (u.resource || u.error) state.set(u.key, u);
          else state.delete(u.key);
        }
        waiters.forEach((w) => w());
      },
    },
    until(pred: () => boolean, ms = 15_000): Promise<void> {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out (state ${state.size}, statuses ${statuses.join(',')})`)), ms);
        const w = () => {
          if (pred()) {
            clearTimeout(t);
            waiters = waiters.filter((x) => x !== w);
            resolve();
          }
        };
        waiters.push(w);
      });
    },
  };
}

async function etcdState(): Promise<Map<string, number>> {
  const r = await raw.range(P, { prefix: true });
  return new Map(r.kvs.map((kv) => [kv.key.toString(), kv.modRevision]));
}

function mirrorMatches(m: ReturnType<typeof mirror>, want: Map<string, number>): boolean {
  const have = [...m.state.entries()].filter(([k]) => k.startsWith(P));
  return have.length === want.size && have.every(([k, u]) => want.get(k) === u.revision);
}

test('lists, reports in-sync, then follows the watch', async () => {
  for (let i = 0; i < 20; i++) await raw.put(`${P}a${i}`, setValue(`a${i}`, i));
  const ds = new EtcdDatastore(server.clientOptions());
  const m = mirror();
  const w = new DatastoreWatcher({ datastore: ds, sink: m.sink });
  w.start();
  try {
    await m.until(() => m.statuses.includes('in-sync'));
    assert.deepEqual(m.statuses.slice(0, 3), ['wait-for-datastore', 'resync', 'in-sync']);
    assert.ok(mirrorMatches(m, await etcdState()));
    await raw.put(`${P}a0`, setValue('a0', 99));
    await raw.deleteRange(`${P}a1`);
    await raw.put(`${P}corrupt`, '{oops');
    const want = await etcdState();
    await m.until(() => m.state.get(`${P}corrupt`)?.error !== undefined);
    await m.until(() => !m.state.has(`${P}a1`) && m.state.get(`${P}a0`)?.revision === want.get(`${P}a0`));
    assert.equal(w.stats().corruptValues, 1);
    assert.deepEqual(m.problems, []);
  } finally {
    await w.stop();
    await ds.close();
    await raw.deleteRange(P, { prefix: true });
  }
});

test('compaction while disconnected: relist diff sends only changes and synthesises deletes', async () => {
  for (let i = 0; i < 50; i++) await raw.put(`${P}b${i}`, setValue(`b${i}`, i));
  const proxy = await startTcpProxy('127.0.0.1', Number(new URL(server.clientUrl).port));
  // Hold the watch's reconnect until the test has written, deleted and compacted.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ds = new EtcdDatastore({
    endpoints: [`http://127.0.0.1:${proxy.port}`],
    delay: async () => gate,
  });
  const m = mirror();
  const w = new DatastoreWatcher({ datastore: ds, sink: m.sink });
  w.start();
  try {
    await m.until(() => m.statuses.includes('in-sync'));
    const listedAt = w.stats().lists;
    let updatesAfterCut = 0;
    const origOnUpdates = m.sink.onUpdates.bind(m.sink);
    m.sink.onUpdates = (u, r) => {
      updatesAfterCut += u.length;
      origOnUpdates(u, r);
    };
    proxy.cutAll();
    for (let i = 0; i < 10; i++) await raw.put(`${P}b${i}`, setValue(`b${i}`, i + 100)); // 10 changed
    for (let i = 40; i < 50; i++) await raw.deleteRange(`${P}b${i}`); // 10 deleted
    await raw.put(`${P}new`, setValue('new', 7)); // 1 added
    const status = await raw.status();
    await raw.compact(status.revision, true);
    release();
    const want = await etcdState();
    await m.until(() => mirrorMatches(m, want));
    assert.ok(w.stats().lists > listedAt, 'relisted after compaction');
    // 30 unchanged keys were not re-sent: only 10 changes + 10 deletes + 1 add.
    assert.equal(updatesAfterCut, 21);
    assert.deepEqual(m.problems, []);
  } finally {
    await w.stop();
    await ds.close();
    await proxy.close();
    await raw.deleteRange(P, { prefix: true });
  }
});
