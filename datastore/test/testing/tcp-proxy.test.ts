// The test proxy's controls, against a plain TCP echo server: bytes flow both ways; cutAll
// and cutSome reset live connections only; cut() also refuses new ones until heal(); freeze()
// holds bytes, new connections and closes until thaw(), then delivers them in order;
// setTarget() moves later connections.
//
// Asserting that nothing passes a frozen link needs a window of time: those checks watch for
// 300 ms (ample for a loopback round trip), and every positive check waits on the event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { startTcpProxy, type TcpProxy } from '../../src/testing/tcp-proxy.js';

const QUIET_MS = 300;

interface Echo {
  server: Server;
  port: number;
  accepted: Socket[];
  received: string[];
}

async function echoServer(tag = ''): Promise<Echo> {
  const echo: Echo = { server: createServer(), port: 0, accepted: [], received: [] };
  echo.server.on('connection', (s) => {
    echo.accepted.push(s);
    s.on('error', () => undefined);
    s.on('data', (d) => {
      echo.received.push(d.toString());
      s.write(`${tag}${d.toString()}`);
    });
  });
  echo.server.listen(0, '127.0.0.1');
  await once(echo.server, 'listening');
  echo.port = (echo.server.address() as { port: number }).port;
  return echo;
}

async function connect(proxy: TcpProxy): Promise<Socket> {
  const s = createConnection({ host: '127.0.0.1', port: proxy.port });
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

async function roundTrip(s: Socket, text: string): Promise<string> {
  s.write(text);
  const [data] = (await once(s, 'data')) as [Buffer];
  return data.toString();
}

/** Resolves 'closed' if the socket closes within ms, else 'open'. */
function closesWithin(s: Socket, ms: number): Promise<'closed' | 'open'> {
  if (s.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('open'), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}

/** Data received on `s` within ms (empty when none). */
function dataWithin(s: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
    };
    s.on('data', onData);
    setTimeout(() => {
      s.off('data', onData);
      resolve(got);
    }, ms);
  });
}

async function withProxy(fn: (proxy: TcpProxy, echo: Echo) => Promise<void>): Promise<void> {
  const echo = await echoServer();
  const proxy = await startTcpProxy('127.0.0.1', echo.port);
  try {
    await fn(proxy, echo);
  } finally {
    await proxy.close();
    for (const s of echo.accepted) s.destroy();
    echo.server.close();
  }
}

test('bytes flow both ways; cutAll resets live connections and new ones still work', () =>
  withProxy(async (proxy) => {
    const a = await connect(proxy);
    assert.equal(await roundTrip(a, 'hello'), 'hello');
    assert.equal(proxy.connections, 1);
    proxy.cutAll();
    assert.equal(await closesWithin(a, 5000), 'closed');
    const b = await connect(proxy);
    assert.equal(await roundTrip(b, 'again'), 'again');
    b.destroy();
  }));

test('cutSome resets exactly the number asked, chosen by the given random source', () =>
  withProxy(async (proxy) => {
    const sockets = await Promise.all([1, 2, 3, 4, 5].map(() => connect(proxy)));
    for (const s of sockets) assert.equal(await roundTrip(s, 'x'), 'x');
    assert.equal(
      proxy.cutSome(2, () => 0),
      2,
    ); // always the oldest remaining: the first two
    const states = await Promise.all(sockets.map((s, i) => closesWithin(s, i < 2 ? 5000 : QUIET_MS)));
    assert.deepEqual(states, ['closed', 'closed', 'open', 'open', 'open']);
    assert.equal(proxy.connections, 3);
    assert.equal(
      proxy.cutSome(10, () => 0.99),
      3,
    );
    for (const s of sockets) s.destroy();
  }));

test('cut resets live connections and refuses new ones until heal', () =>
  withProxy(async (proxy, echo) => {
    const a = await connect(proxy);
    assert.equal(await roundTrip(a, 'before'), 'before');
    proxy.cut();
    assert.equal(proxy.state, 'cut');
    assert.equal(await closesWithin(a, 5000), 'closed');
    const accepted = echo.accepted.length;
    const refused = createConnection({ host: '127.0.0.1', port: proxy.port });
    const err = await new Promise<Error | undefined>((resolve) => {
      refused.once('error', resolve);
      refused.once('close', () => resolve(undefined));
    });
    assert.ok(err === undefined || /ECONNRESET|EPIPE/.test(String((err as NodeJS.ErrnoException).code)), String(err));
    assert.equal(echo.accepted.length, accepted, 'nothing reached the target while cut');
    proxy.heal();
    assert.equal(proxy.state, 'open');
    const b = await connect(proxy);
    assert.equal(await roundTrip(b, 'after'), 'after');
    b.destroy();
  }));

test('freeze holds bytes both ways and new connections; thaw delivers them in order', () =>
  withProxy(async (proxy, echo) => {
    const a = await connect(proxy);
    assert.equal(await roundTrip(a, 'one'), 'one');
    proxy.freeze();
    assert.equal(proxy.state, 'frozen');
    a.write('two');
    const late = createConnection({ host: '127.0.0.1', port: proxy.port });
    late.on('error', () => undefined);
    await once(late, 'connect'); // the proxy accepts: the hang is beyond it
    late.write('three');
    const [seenA, seenLate] = await Promise.all([dataWithin(a, QUIET_MS), dataWithin(late, QUIET_MS)]);
    assert.equal(seenA, '');
    assert.equal(seenLate, '');
    assert.deepEqual(echo.received, ['one'], 'the target got nothing while frozen');
    assert.equal(echo.accepted.length, 1, 'the new connection did not reach the target while frozen');
    assert.equal(proxy.connections, 2);
    const echoes = Promise.all([once(a, 'data'), once(late, 'data')]);
    proxy.thaw();
    const [[fromA], [fromLate]] = (await echoes) as [[Buffer], [Buffer]];
    assert.equal(fromA.toString(), 'two');
    assert.equal(fromLate.toString(), 'three');
    a.destroy();
    late.destroy();
  }));

test('a close on the far side while frozen reaches the client only at thaw', () =>
  withProxy(async (proxy, echo) => {
    const a = await connect(proxy);
    assert.equal(await roundTrip(a, 'hi'), 'hi');
    proxy.freeze();
    echo.accepted[0].destroy();
    assert.equal(await closesWithin(a, QUIET_MS), 'open');
    proxy.thaw();
    assert.equal(await closesWithin(a, 5000), 'closed');
  }));

test('setTarget sends later connections to another server; earlier ones stay where they are', () =>
  withProxy(async (proxy) => {
    const other = await echoServer('other:');
    try {
      const a = await connect(proxy);
      proxy.setTarget(other.port);
      const b = await connect(proxy);
      assert.equal(await roundTrip(a, 'x'), 'x');
      assert.equal(await roundTrip(b, 'y'), 'other:y');
      a.destroy();
      b.destroy();
    } finally {
      for (const s of other.accepted) s.destroy();
      other.server.close();
    }
  }));
