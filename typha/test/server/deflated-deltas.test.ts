// The deflate-deltas feature end to end over real sockets: who gets Deflated frames, that each
// batch is compressed once for all of them, and that their state equals the cache's, live,
// after a resume (replayed frames) and after a catch-up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODECS, Features } from '../../src/protocol/index.js';
import { Harness, TEST_FANOUT_WORKERS, TestClient, cacheContent, connectAll, fingerprint } from './helpers.js';

const DEFLATE = [Features.Resume, Features.Goodbye, Features.DeflateDeltas];
const PLAIN = [Features.Resume, Features.Goodbye];

function realisticBatch(h: Harness, round: number): number {
  // Label churn on workload endpoints, as the fan-out benchmark writes it.
  return h.feed('felix', (rev) =>
    [0, 1].map((j) => ({
      kind: 'WorkloadEndpoint',
      name: `node-${(round * 7 + j) % 50}-k8s-pod-${round}-${j}-eth0`,
      namespace: `ns-${round % 10}`,
      revision: rev,
      value: {
        labels: { app: `app-${round % 20}`, 'projectcalico.org/namespace': `ns-${round % 10}`, 'bench.cattail/ts': String(1e15 + round * 1000 + j) },
        spec: {
          node: `node-${(round * 7 + j) % 50}`,
          orchestrator: 'k8s',
          workload: '',
          pod: `pod-${round}-${j}`,
          endpoint: 'eth0',
          interfaceName: `cali${(round * 31 + j).toString(16).padStart(11, '0')}`,
          ipNetworks: [`10.65.${round % 250}.${j + 2}/32`],
          profiles: [`kns.ns-${round % 10}`, `ksa.ns-${round % 10}.default`],
        },
      },
    })),
  );
}

test('deflate-deltas: each batch compressed once, the same frame to every client that offered it; plain and JSON clients unchanged', async (t) => {
  const h = await Harness.start(t, { initialKeys: 0 });
  for (let r = 0; r < 200; r++) realisticBatch(h, r);
  const zipped = await connectAll(h.url, 6, (i) => ({ node: `z-${i}`, features: DEFLATE }));
  const plain = await connectAll(h.url, 3, (i) => ({ node: `p-${i}`, features: PLAIN }));
  const json = await connectAll(h.url, 2, (i) => ({ node: `j-${i}`, features: DEFLATE, codec: CODECS.json }));
  t.after(() => [...zipped, ...plain, ...json].forEach((c) => c.close()));
  assert.deepEqual(zipped[0].hello?.features, DEFLATE);
  assert.deepEqual(json[0].hello?.features, PLAIN, 'JSON has no byte strings: not accepted');
  assert.equal(zipped[0].count('dictionary'), 1, 'the dictionary follows the hello');
  assert.equal(plain[0].count('dictionary'), 0);

  const variantsBefore = h.batchers.get('felix')!.stats().variantFrames;
  let rev = 0;
  for (let r = 200; r < 260; r++) rev = realisticBatch(h, r);
  const all = [...zipped, ...plain, ...json];
  await Promise.all(all.map((c) => c.untilRevision(rev)));
  const expected = fingerprint(cacheContent(h.cache('felix')));
  for (const c of all) {
    assert.equal(c.closed, undefined);
    assert.deepEqual(fingerprint(c.state), expected);
  }
  const compressions = h.batchers.get('felix')!.stats().variantFrames - variantsBefore;
  if (TEST_FANOUT_WORKERS === 1) {
    assert.equal(compressions, 60, 'one compression per batch, whatever the clients');
    assert.equal(zipped[0].deflatedFrames, 60);
  } else {
    // With fan-out workers, batches a busy worker's clients missed are merged into one message,
    // compressed once for all of them: one compression per batch, plus one per merged span.
    assert.ok(compressions >= 60, `${compressions} compressions`);
    assert.ok(zipped[0].deflatedFrames >= 1 && zipped[0].deflatedFrames <= 60);
  }
  assert.equal(plain[0].deflatedFrames, 0);
  const ratio = zipped[0].deltaBytes / plain[0].deltaBytes;
  t.diagnostic(`delta bytes deflated/plain: ${ratio.toFixed(3)}`);
  assert.ok(ratio < 0.7, `deflated delta frames are ${ratio.toFixed(3)} of the plain ones`);
});

test('deflate-deltas: a resuming client gets replayed Deflated frames with its new connection’s dictionary', async (t) => {
  const h = await Harness.start(t, { initialKeys: 0, compressDeltas: true });
  for (let r = 0; r < 50; r++) realisticBatch(h, r);
  const first = new TestClient(h.url, { node: 'r', features: DEFLATE });
  await first.untilInSync();
  first.close();
  await first.untilClosed();
  let rev = 0;
  for (let r = 50; r < 80; r++) rev = realisticBatch(h, r);
  const resumed = new TestClient(h.url, { node: 'r', features: DEFLATE, state: first.state, resume: { revision: first.revision, datastoreId: h.datastoreId } });
  t.after(() => resumed.close());
  await resumed.untilRevision(rev);
  assert.equal(resumed.hello?.mode, 'resume');
  assert.equal(resumed.count('dictionary'), 1);
  assert.equal(resumed.deflatedFrames, 30, 'the 30 batches since, replayed as the Deflated frames everyone got');
  assert.deepEqual(fingerprint(resumed.state), fingerprint(cacheContent(h.cache('felix'))));
});

test('deflate-deltas off on the server (TYPHA_SERVERCOMPRESSDELTAS=false): the feature is declined and frames stay plain', async (t) => {
  const h = await Harness.start(t, { initialKeys: 5, compressDeltas: false });
  const c = new TestClient(h.url, { node: 'n', features: DEFLATE });
  t.after(() => c.close());
  await c.untilInSync();
  assert.deepEqual(c.hello?.features, PLAIN);
  const rev = realisticBatch(h, 1);
  await c.untilRevision(rev);
  assert.equal(c.deflatedFrames, 0);
  assert.equal(c.count('dictionary'), 0);
});
