import assert from 'node:assert/strict';
import { test } from 'node:test';
import type WebSocket from 'ws';
import { CODECS, type Message, type Update } from '../../src/protocol/index.js';
import { directWriter, type FrameWriter } from '../../src/server/index.js';
import { FakeClock, Harness, TEST_FANOUT_WORKERS, connectAll, fingerprint } from './helpers.js';

test('a failure while writing to one client closes that client only (1011), the others get the batch', async (t) => {
  let victim: WebSocket | undefined;
  let lastWritten: WebSocket | undefined;
  const writer: FrameWriter = {
    name: 'faulty',
    writeShared(ws, frame) {
      if (ws === victim) throw new Error('boom');
      directWriter.writeShared(ws, frame);
    },
    write(ws, payload, binary) {
      lastWritten = ws;
      directWriter.write(ws, payload, binary);
    },
  };
  const h = await Harness.start(t, { frameWriter: writer });
  const first = await connectAll(h.url, 1, () => ({ node: 'victim' }));
  victim = lastWritten; // the socket its InSync went to
  const clients = [...first, ...(await connectAll(h.url, 3, (i) => ({ node: `n${i}` })))];
  t.after(() => clients.forEach((c) => c.close()));
  const rev = h.feedMany('felix', 2);
  const closed = await clients[0].untilClosed();
  assert.deepEqual(closed, { code: 1011, reason: 'internal server error; reconnect' });
  await Promise.all(clients.slice(1).map((c) => c.untilRevision(rev)));
  assert.ok(clients.slice(1).every((c) => c.closed === undefined && c.liveRevisions.length === 1));
  assert.ok(h.logs.some((r) => r.level === 'error' && r.msg === 'internal error on a client connection; closing it'));
});

test('when one codec cannot encode a batch, its clients catch up from the cache; the others are unaffected', async (t) => {
  const clock = new FakeClock();
  let failNext = false;
  const flaky = {
    ...CODECS.json,
    encode(msg: Message): Buffer {
      if (failNext && msg.type === 'deltas') {
        failNext = false;
        throw new Error('cannot encode');
      }
      return CODECS.json.encode(msg);
    },
  };
  const h = await Harness.start(t, { clock, codecList: [CODECS.msgpack, flaky], initialKeys: 3, pingIntervalMs: 600_000, pongTimeoutMs: 1_200_000 });
  const [mp, js] = await connectAll(h.url, 2, (i) => ({ node: `n${i}`, codec: i === 0 ? CODECS.msgpack : CODECS.json }));
  t.after(() => [mp, js].forEach((c) => c.close()));
  failNext = true;
  const rev = h.feedMany('felix', 3);
  await mp.untilRevision(rev);
  // In-process the lagging client waits for the tick; a fan-out worker reports it behind and
  // the server catches it up at once, so it may already be there.
  if (TEST_FANOUT_WORKERS === 1) assert.equal(js.revision, 100, 'the json client missed the live batch');
  clock.advance(h.server.tickMs); // the tick notices it lagging under its mark and catches it up
  await js.untilRevision(rev);
  assert.deepEqual(fingerprint(js.state), fingerprint(h.model.get('felix') as Map<string, Update>));
  assert.deepEqual(fingerprint(mp.state), fingerprint(js.state));
  const next = h.feedMany('felix', 1, 8, 'later');
  await Promise.all([mp, js].map((c) => c.untilRevision(next)));
  assert.equal(js.liveRevisions.at(-1), next, 'live again');
});
