// The etcd compactor with a fake clock: the first tick only reads the revision, each later one
// compacts to the revision read a period before (so a period of history always stays); history
// already compacted past the target is not an error; a period of 0 compacts nothing; the
// KubeControllersConfiguration's etcdV3CompactionPeriod applies when COMPACTION_PERIOD is not
// set; a failure is retried next period; stop() ends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore } from '@cattail/datastore';
import { FakeClock } from '@cattail/typha/testing';
import { EtcdCompactor } from '../src/etcd-compactor.js';

const quiet = { info() {}, warn() {} };

function fakeEtcd(revisions: number[]) {
  const compacted: number[] = [];
  let failNext: Error | undefined;
  return {
    compacted,
    failNext: (err: Error) => (failNext = err),
    client: {
      status: async () => ({ revision: revisions.shift() ?? 0 }) as never,
      compact: async (rev: number) => {
        if (failNext) {
          const err = failNext;
          failNext = undefined;
          throw err;
        }
        compacted.push(rev);
        return rev;
      },
    },
  };
}

/** Runs the clock forward one step and lets the tick it fires finish. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

test('each tick compacts to the revision of the tick before; already-compacted history is fine; stop() ends it', async () => {
  const clock = new FakeClock();
  const etcd = fakeEtcd([100, 250, 260, 300, 400]);
  const c = new EtcdCompactor({ etcd: etcd.client, periodMs: 60_000, clock, logger: quiet });
  c.start();
  await advance(clock, 0);
  assert.deepEqual(etcd.compacted, [], 'the first tick only reads');
  await advance(clock, 59_999);
  assert.deepEqual(etcd.compacted, []);
  await advance(clock, 1);
  assert.deepEqual(etcd.compacted, [100]);
  await advance(clock, 60_000);
  assert.deepEqual(etcd.compacted, [100, 250]);
  etcd.failNext(Object.assign(new Error('etcd: required revision has been compacted'), { code: 'ETCD_COMPACTED' }));
  await advance(clock, 60_000);
  assert.equal(c.status().compactedTo, 260, 'compacted already: counted as done');
  assert.equal(c.status().errors, 0);
  await c.stop();
  await advance(clock, 600_000);
  assert.deepEqual(etcd.compacted, [100, 250]);
  assert.equal(c.status().compactions, 3);
});

test('a failure is retried next period; period 0 compacts nothing', async () => {
  const clock = new FakeClock();
  const etcd = fakeEtcd([10, 20, 30]);
  const c = new EtcdCompactor({ etcd: etcd.client, periodMs: 1_000, clock, logger: quiet });
  c.start();
  await advance(clock, 0);
  etcd.failNext(new Error('etcd is away'));
  await advance(clock, 1_000);
  assert.equal(c.status().errors, 1);
  await advance(clock, 1_000);
  assert.deepEqual(etcd.compacted, [20], 'the next period compacts to what the failed tick read');
  await c.stop();

  const off = fakeEtcd([10, 20, 30]);
  const none = new EtcdCompactor({ etcd: off.client, periodMs: 0, clock, logger: quiet });
  none.start();
  await advance(clock, 0);
  await advance(clock, 3_600_000);
  assert.deepEqual(off.compacted, []);
  assert.equal(none.status().periodMs, 0);
  await none.stop();
});

test("without COMPACTION_PERIOD the resource's etcdV3CompactionPeriod applies", async () => {
  const clock = new FakeClock();
  const etcd = fakeEtcd([5, 6]);
  const ds = { get: async () => ({ spec: { etcdV3CompactionPeriod: '2m0s' } }) } as unknown as Datastore;
  const c = new EtcdCompactor({ etcd: etcd.client, ds, clock, logger: quiet });
  c.start();
  await advance(clock, 0);
  assert.equal(c.status().periodMs, 120_000);
  await advance(clock, 119_999);
  assert.deepEqual(etcd.compacted, []);
  await advance(clock, 1);
  assert.deepEqual(etcd.compacted, [5]);
  await c.stop();
});
