import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import { test } from 'node:test';
import { CloseCode } from '../../src/protocol/index.js';
import { FakeClock, Harness, TestClient, connectAll } from './helpers.js';

const quiet = { pingIntervalMs: 600_000, pongTimeoutMs: 1_200_000 };

test('over maxConnections a new client gets Goodbye(ServerOverloaded) with the hint', async (t) => {
  const h = await Harness.start(t, { ...quiet, maxConnections: 3, overloadHint: () => ({ reconnect: 'ws://typha-2:5473', delayMs: 250 }) });
  const clients = await connectAll(h.url, 3, (i) => ({ node: `n${i}` }));
  const extra = new TestClient(h.url, { node: 'extra' });
  t.after(() => [...clients, extra].forEach((c) => c.close()));
  const closed = await extra.untilClosed();
  assert.equal(closed.code, CloseCode.ServerOverloaded);
  assert.match(closed.reason, /connection limit \(3\)/);
  assert.deepEqual(
    { code: extra.goodbye?.code, reconnect: extra.goodbye?.reconnect, delayMs: extra.goodbye?.delayMs },
    { code: CloseCode.ServerOverloaded, reconnect: 'ws://typha-2:5473', delayMs: 250 },
  );
  assert.equal(extra.count('hello'), 0);
  assert.ok(clients.every((c) => c.closed === undefined));

  h.server.setMaxConnections(4);
  const fourth = new TestClient(h.url, { node: 'fourth' });
  t.after(() => fourth.close());
  await fourth.untilInSync();
  assert.equal(fourth.closed, undefined);
});

test('shed(n) sends Goodbye(Rebalance, hint) to the n most recently connected synced clients', async (t) => {
  const h = await Harness.start(t, quiet);
  const clients: TestClient[] = [];
  for (let i = 0; i < 8; i++) {
    const [c] = await connectAll(h.url, 1, () => ({ node: `n${i}` })); // one at a time: a known order
    clients.push(c);
  }
  t.after(() => clients.forEach((c) => c.close()));
  const hint = { reconnect: 'ws://typha-3:5473', delayMs: 100 };
  assert.equal(h.server.shed(3, hint), 3);
  const shed = clients.slice(5);
  await Promise.all(shed.map((c) => c.untilClosed()));
  for (const c of shed) {
    assert.equal(c.closed?.code, CloseCode.Rebalance);
    assert.equal(c.closed?.reason, 'rebalancing load across typha replicas');
    assert.deepEqual({ ...c.goodbye }, { type: 'goodbye', code: CloseCode.Rebalance, reason: 'rebalancing load across typha replicas', ...hint });
  }
  const rev = h.feedMany('felix', 1);
  await Promise.all(clients.slice(0, 5).map((c) => c.untilRevision(rev)));
  assert.ok(clients.slice(0, 5).every((c) => c.closed === undefined && c.goodbye === undefined));
  assert.equal(h.server.shed(0), 0);
});

test('drain() stops accepting and closes everyone with Goodbye(Shutdown), staggered over the period', async (t) => {
  const clock = new FakeClock();
  const h = await Harness.start(t, { ...quiet, clock });
  const clients = await connectAll(h.url, 6, (i) => ({ node: `n${i}` }));
  const handshaking = new TestClient(h.url, { noHello: true, node: 'slowpoke' });
  await handshaking.until((c) => c.opened);
  t.after(() => [...clients, handshaking].forEach((c) => c.close()));
  // With fan-out workers the server learns of the upgrade after the client does.
  await until(() => h.server.connections().total === 7, 'the server holds all 7 connections');

  let drained = false;
  const done = h.server.drain({ durationMs: 7000, hint: { reconnect: 'ws://typha-2:5473', delayMs: 500 } }).then(() => (drained = true));
  const closing = () => h.server.connections().clients.filter((c) => c.state === 'closing').length;
  // 7 connections over 7 s: one at once, then one per second.
  assert.equal(closing(), 1);
  for (let s = 1; s < 7; s++) {
    clock.advance(999);
    assert.equal(closing(), s, `just before ${s} s`);
    clock.advance(1);
    assert.equal(closing(), s + 1, `at ${s} s`);
  }
  assert.equal(h.server.connections().state, 'draining');

  const late = new TestClient(h.url, { node: 'late' });
  await late.until((c) => c.closed !== undefined || c.error !== undefined);
  assert.equal(late.opened, false, 'no new connections while draining');

  await done;
  assert.ok(drained);
  // The server's side of each close can be seen before the client's (fan-out workers).
  await Promise.all([...clients, handshaking].map((c) => c.untilClosed()));
  for (const c of [...clients, handshaking]) {
    assert.equal(c.closed?.code, CloseCode.Shutdown);
    assert.equal(c.goodbye?.code, CloseCode.Shutdown);
    assert.equal(c.goodbye?.reconnect, 'ws://typha-2:5473');
    assert.equal(c.goodbye?.delayMs, 500);
    assert.match(c.goodbye?.reason ?? '', /shutting down/);
  }
  assert.equal(h.server.connections().total, 0);
});

test('drain() with no clients resolves at once; stop() after it closes the listener', async (t) => {
  const h = await Harness.start(t, quiet);
  await h.server.drain({ durationMs: 60_000 });
  await h.server.stop();
  assert.equal(h.server.connections().state, 'stopped');
  const c = new TestClient(h.url);
  await c.until((x) => x.error !== undefined || x.closed !== undefined);
  assert.equal(c.opened, false);
});
