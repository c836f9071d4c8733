import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode, type Ping } from '../../src/protocol/index.js';
import { FakeClock, Harness, TestClient, connectAll } from './helpers.js';

/** A client ping's pong proves the server has read everything the client sent before it. */
async function serverHasRead(c: TestClient): Promise<void> {
  const ts = 0.5 + c.frames;
  c.send({ type: 'ping', ts });
  await c.until((x) => x.messages.some((m) => m.type === 'pong' && m.ts === ts) || x.closed !== undefined);
}

test('the server pings every pingIntervalMs and closes a client silent for pongTimeoutMs', async (t) => {
  const clock = new FakeClock();
  const h = await Harness.start(t, { clock, pingIntervalMs: 1000, pongTimeoutMs: 3000, maxLagMs: 60_000 });
  const [alive] = await connectAll(h.url, 1, () => ({ node: 'alive' }));
  const [mute] = await connectAll(h.url, 1, () => ({ node: 'mute', autoPong: false }));
  t.after(() => [alive, mute].forEach((c) => c.close()));
  const pings = (c: TestClient) => c.messages.filter((m): m is Ping => m.type === 'ping');

  clock.advance(1000);
  await Promise.all([alive, mute].map((c) => c.until((x) => pings(x).length === 1)));
  assert.equal(pings(alive)[0].ts, pings(mute)[0].ts, 'one Ping per tick, shared');
  await alive.until(() => h.server.connections().clients.length === 2);

  const answeredAt = pings(alive)[0].ts;
  await serverHasRead(alive);
  clock.advance(1000);
  await Promise.all([alive, mute].map((c) => c.until((x) => pings(x).length === 2)));
  clock.advance(1000); // 3000 ms since mute's hello: nothing from it since
  const closed = await mute.untilClosed();
  assert.equal(closed.code, CloseCode.PingTimeout);
  assert.equal(closed.reason, 'nothing received for 3000 ms (ping timeout)');
  assert.equal(alive.closed, undefined);
  assert.ok(pings(alive)[1].ts > answeredAt);

  // A client that keeps answering stays, however long.
  for (let i = 0; i < 5; i++) {
    const n = pings(alive).length;
    clock.advance(1000);
    await alive.until((x) => pings(x).length > n);
    await serverHasRead(alive); // its pong, before time moves on
  }
  assert.equal(alive.closed, undefined);
});

test('a client ping is answered with a pong carrying its timestamp', async (t) => {
  const h = await Harness.start(t, {});
  const [c] = await connectAll(h.url, 1, () => ({}));
  t.after(() => c.close());
  c.send({ type: 'ping', ts: 123.5 });
  await c.until((x) => x.messages.some((m) => m.type === 'pong'));
  assert.deepEqual(
    c.messages.find((m) => m.type === 'pong'),
    { type: 'pong', ts: 123.5 },
  );
});
