// The deflate-snapshot feature end to end over real sockets: who gets compressed pages, that
// they are compressed once for everyone, and that the state they carry is the same.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODECS, Features } from '../../src/protocol/index.js';
import { Harness, TestClient, cacheContent, connectAll, fingerprint } from './helpers.js';

const ALL = [Features.Resume, Features.Goodbye, Features.DeflateSnapshot];
const PLAIN = [Features.Resume, Features.Goodbye];

test('clients that offer deflate-snapshot get compressed pages, compressed once for all of them, with the same state', async (t) => {
  const h = await Harness.start(t, { initialKeys: 3000, cache: { pageSize: 500 } });
  const zipped = await connectAll(h.url, 20, (i) => ({ node: `z-${i}`, features: ALL }));
  const plain = await connectAll(h.url, 5, (i) => ({ node: `p-${i}`, features: PLAIN }));
  const json = await connectAll(h.url, 3, (i) => ({ node: `j-${i}`, features: ALL, codec: CODECS.json }));
  t.after(() => [...zipped, ...plain, ...json].forEach((c) => c.close()));

  const expected = fingerprint(cacheContent(h.cache('felix')));
  for (const c of [...zipped, ...plain, ...json]) {
    assert.equal(c.closed, undefined, `${c.hello?.server} closed`);
    assert.deepEqual(fingerprint(c.state), expected);
    assert.equal(c.count('snapshot'), 6, 'six pages of 500');
  }
  assert.deepEqual(zipped[0].hello?.features, ALL);
  assert.deepEqual(plain[0].hello?.features, PLAIN);
  assert.deepEqual(json[0].hello?.features, PLAIN, 'JSON has no byte strings: the feature is not accepted');

  const stats = h.cache('felix').stats();
  assert.equal(stats.snapshotPagesCompressed, 6, 'each page compressed once for 20 clients');
  assert.ok(stats.snapshotBytesCompressed * 3 < stats.snapshotBytesBeforeCompression);
  // What the compressing clients received is about what was compressed, once per client.
  const zippedBytes = zipped[0].bytes;
  assert.ok(zippedBytes * 3 < plain[0].bytes, `${zippedBytes} B compressed session vs ${plain[0].bytes} B plain`);

  // Live deltas are not compressed: the same frames reach both kinds of client.
  const rev = h.feedMany('felix', 3);
  await Promise.all([...zipped, ...plain].map((c) => c.untilRevision(rev)));
  const after = fingerprint(cacheContent(h.cache('felix')));
  for (const c of [...zipped, ...plain]) assert.deepEqual(fingerprint(c.state), after);
});

test('a server with compressSnapshots off declines the feature and sends plain pages', async (t) => {
  const h = await Harness.start(t, { initialKeys: 600, compressSnapshots: false });
  const [c] = await connectAll(h.url, 1, () => ({ features: ALL }));
  t.after(() => c.close());
  assert.deepEqual(c.hello?.features, PLAIN);
  assert.equal(h.cache('felix').stats().snapshotPagesCompressed, 0);
  assert.deepEqual(fingerprint(c.state), fingerprint(cacheContent(h.cache('felix'))));
});

test('compressSnapshots must be a boolean', async () => {
  assert.throws(() => new Harness({ compressSnapshots: 'yes' as never }), /server option compressSnapshots: yes is not a boolean/);
});

test('a client that reads a compressed page without offering the feature never gets one', async (t) => {
  const h = await Harness.start(t, { initialKeys: 50 });
  const c = new TestClient(h.url, { features: [] });
  t.after(() => c.close());
  await c.untilInSync();
  assert.deepEqual(c.hello?.features, []);
  assert.equal(c.count('snapshot'), 1);
  assert.equal(h.cache('felix').stats().snapshotPagesCompressed, 0);
});
