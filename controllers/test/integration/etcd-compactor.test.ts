// The compactor on a real etcd, on the real clock with a short period: history older than one
// period is compacted away (a read at an old revision fails as compacted), the latest stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import { EtcdCompactor } from '../../src/etcd-compactor.js';

const fx = sharedEtcd();

test('history older than a period is compacted on a real etcd; the latest value stays', async () => {
  const key = '/cattail/test/compaction';
  const first = await fx.raw.put(key, 'v1');
  const c = new EtcdCompactor({ etcd: fx.raw, periodMs: 300, logger: { info() {}, warn() {} } });
  c.start();
  // Writes while it runs, so every period's revision is newer than the last.
  let n = 2;
  await until(
    async () => {
      await fx.raw.put(key, `v${n++}`);
      return (c.status().compactedTo ?? 0) > first.revision;
    },
    () => `a compaction past revision ${first.revision}: ${JSON.stringify(c.status())}`,
    30_000,
  );
  await c.stop();
  await assert.rejects(fx.raw.range(key, { revision: first.revision }), (err: unknown) => (err as { code?: string }).code === 'ETCD_COMPACTED');
  assert.equal(c.status().errors, 0);
  assert.match(String((await fx.raw.get(key))?.value), /^v\d+$/);
});
