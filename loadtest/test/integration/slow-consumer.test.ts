// The slow-consumers scenario's slow client against a real Typha: read at full speed it gets
// the whole snapshot and InSync; stalled after the upgrade, Typha sees it stuck in its initial
// sync with its socket buffer at the high-water mark (which is what the scenario relies on).
// The cluster is the benchmark's (R = 35,000: a 14.8 MB felix snapshot): a snapshot of a few MB
// fits in loopback's socket buffers, and Typha would rightly see a stalled reader as live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import { parseRunOptions, SlowConsumer, SystemUnderTest } from '../../src/index.js';

interface StatusClient {
  node: string;
  state: string;
  bufferedBytes: number;
}

test('slow consumer: a fast one syncs, a stalled one stays syncing with a full buffer', { timeout: 90_000 }, async (t) => {
  const o = parseRunOptions(['slow-consumers', '--resources', '35000', '--vus', '1', '--sockets', '1', '--slow', '2']);
  const sut = await SystemUnderTest.start(o, () => undefined);
  t.after(() => sut.close());
  const url = sut.info.typhaUrl;

  const fast = await SlowConsumer.open({ url, node: 'fast-0', syncer: 'felix', readBytesPerSec: 1e9 });
  t.after(() => fast.stop());
  await fast.inSync;
  assert.ok(fast.stats.bytes > 1e6, `fast consumer read ${fast.stats.bytes} bytes`);

  const stalled = await SlowConsumer.open({ url, node: 'stalled-0', syncer: 'felix', readBytesPerSec: 0 });
  t.after(() => stalled.stop());
  // Typha fills the stalled socket up to its high-water mark (1 MiB by default) and stops there;
  // poll its status (bounded) until it shows that.
  let seen: StatusClient | undefined;
  await until(
    async () => {
      const st = (await sut.typhaStatus()) as { clients?: StatusClient[] } | undefined;
      seen = st?.clients?.find((c) => c.node === 'stalled-0');
      return seen !== undefined && seen.bufferedBytes >= 1 << 20;
    },
    'Typha to fill the stalled consumer up to its high-water mark',
    10_000,
  );
  assert.ok(seen !== undefined, 'Typha lists the stalled consumer');
  assert.equal(seen.state, 'syncing');
  assert.ok(seen.bufferedBytes >= 1 << 20, `buffered ${seen.bufferedBytes}`);
  assert.equal(stalled.stats.inSync, false);
  assert.ok(stalled.stats.bytes < 1e6, `stalled consumer read ${stalled.stats.bytes} bytes`);
});
