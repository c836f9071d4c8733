import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import {
  ConnectError,
  HandshakeTimeoutError,
  NoEndpointsError,
  ReadTimeoutError,
  ServerClosedError,
  SyncClient,
  staticDiscovery,
  type Discovery,
  type Endpoint,
  type Logger,
  type SyncClientOptions,
} from '../../src/client/index.js';
import { CloseCode, UnexpectedMessageError } from '../../src/protocol/index.js';
import { FakeClock, FakeTypha, Recorder, deadUrl, tick, upd } from './helpers.js';

const A = upd('IPPool', 'pool-a', 3, { cidr: '10.65.0.0/16' });
const B = upd('WorkloadEndpoint', 'web-0', 5, { node: 'node-1', ipNetworks: ['10.65.0.5/32'] }, 'default');
const C = upd('Node', 'node-2', 7, { bgp: { ipv4Address: '10.0.0.2/24' } });

function discoveryOf(...endpoints: Endpoint[]): Discovery {
  return { endpoints: () => Promise.resolve(endpoints.map((e) => ({ ...e }))) };
}

function makeClient(t: TestContext, opts: Partial<SyncClientOptions> & Pick<SyncClientOptions, 'discovery'>): { client: SyncClient; rec: Recorder } {
  const rec = new Recorder();
  const client = new SyncClient({ syncer: 'felix', node: 'node-1', callbacks: rec, random: () => 0.5, ...opts });
  t.after(() => client.close());
  return { client, rec };
}

async function startTypha(t: TestContext, opts?: Parameters<typeof FakeTypha.start>[0]): Promise<FakeTypha> {
  const typha = await FakeTypha.start(opts);
  t.after(() => typha.close());
  return typha;
}

/** Flattened list of updates delivered after batch `from`. */
function delivered(rec: Recorder, from = 0): Array<[string, number, boolean]> {
  return rec.batches.slice(from).flatMap((b) => b.updates.map((u): [string, number, boolean] => [u.name, u.revision, u.value !== undefined]));
}

describe('SyncClient', { timeout: 10_000 }, () => {
  it('takes a snapshot, reports in-sync, then applies live deltas that change something', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]) });
    assert.equal(client.state, 'idle');
    client.start();
    const peer = await typha.nextPeer();

    assert.equal(peer.protocol, 'cattail.v1.msgpack');
    assert.equal(peer.path, '/sync');
    assert.deepEqual(peer.frameBinary, [true]);
    assert.deepEqual(peer.hello, {
      type: 'hello',
      protocolVersion: 1,
      syncer: 'felix',
      node: 'node-1',
      client: 'cattail-typha-client',
      features: ['resume', 'goodbye', 'deflate-snapshot', 'deflate-deltas'],
    });

    peer.serveSnapshot(10, [[A, B], [C]]);
    const detail = await rec.nth('in-sync');
    assert.deepEqual(rec.names(), ['connecting', 'resync', 'in-sync']);
    assert.equal(rec.statuses[1].detail.mode, 'snapshot');
    assert.equal(detail.server, 'typha-a');
    assert.equal(detail.revision, 10);
    assert.deepEqual(
      rec.batches.map((b) => [b.updates.map((u) => u.name), b.revision]),
      [
        [['pool-a', 'web-0'], 10],
        [['node-2'], 10],
      ],
    );
    assert.equal(client.state, 'in-sync');
    assert.equal(client.revision, 10);
    assert.equal(client.connectedTo, typha.url);
    assert.deepEqual(
      client.snapshot().map((u) => `${u.kind}/${u.namespace ?? ''}/${u.name}`),
      ['IPPool//pool-a', 'Node//node-2', 'WorkloadEndpoint/default/web-0'],
    );

    const B2 = upd('WorkloadEndpoint', 'web-0', 11, { node: 'node-1', ipNetworks: ['10.65.0.9/32'] }, 'default');
    const sameA = { ...A, revision: 11, value: { spec: { cidr: '10.65.0.0/16' } } };
    const goneUnknown = upd('Node', 'never-seen', 11);
    peer.send({ type: 'deltas', revision: 11, updates: [sameA, B2, goneUnknown] });
    await rec.until(() => rec.batches.length === 3);
    assert.deepEqual(rec.batches[2], { updates: [B2], revision: 11 });
    assert.equal(client.revision, 11);
  });

  it('reconnects after the server closes and resumes from the last revision it applied', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]) });
    client.start();
    const p1 = await typha.nextPeer();
    assert.equal(p1.hello.resume, undefined, 'no resume before the first in-sync');
    p1.serveSnapshot(10, [[A, B, C]]);
    await rec.nth('in-sync');
    p1.send({ type: 'deltas', revision: 12, updates: [upd('Node', 'node-2', 12, { bgp: { ipv4Address: '10.0.0.22/24' } })] });
    await rec.until(() => rec.batches.length === 2);
    p1.close(CloseCode.GoingAway, 'restarting');

    const p2 = await typha.nextPeer();
    assert.deepEqual(p2.hello.resume, { revision: 12, datastoreId: 'ds-1' });
    const gone = await rec.nth('disconnected');
    assert.equal(gone.code, CloseCode.GoingAway);
    assert.equal(gone.reason, 'restarting');
    assert.equal(gone.retryInMs, 0, 'first retry after in-sync is immediate');

    const B3 = upd('WorkloadEndpoint', 'web-0', 14, { node: 'node-1', ipNetworks: ['10.65.0.7/32'] }, 'default');
    p2.serveResume(15, [{ ...A, revision: 15 }, B3, upd('Node', 'node-2', 15)]);
    await rec.nth('in-sync', 2);
    assert.equal(rec.statuses.findLast((s) => s.status === 'resync')?.detail.mode, 'resume');
    assert.deepEqual(delivered(rec, 2), [
      ['web-0', 14, true],
      ['node-2', 15, false],
    ]);
    assert.equal(client.revision, 15);
    assert.deepEqual(
      client.snapshot().map((u) => u.name),
      ['pool-a', 'web-0'],
    );
  });

  it('reconciles a full snapshot after a reconnect: changes and new keys, deletions synthesised, unchanged keys silent', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]) });
    client.start();
    const p1 = await typha.nextPeer();
    p1.serveSnapshot(10, [[A, B, C]]);
    await rec.nth('in-sync');
    p1.close(CloseCode.Normal);

    // The server decides revision 10 is too old: a full snapshot at 20. A unchanged (newer
    // revision, same value, labels in another order), B changed, C gone, D new.
    const p2 = await typha.nextPeer();
    assert.deepEqual(p2.hello.resume, { revision: 10, datastoreId: 'ds-1' });
    const A2 = { ...A, revision: 18 };
    const B2 = upd('WorkloadEndpoint', 'web-0', 19, { node: 'node-1', ipNetworks: ['10.65.0.6/32'] }, 'default');
    const D = upd('IPPool', 'pool-d', 20, { cidr: '10.66.0.0/16' });
    p2.serveSnapshot(20, [[A2, B2], [D]], { server: 'typha-b' });
    await rec.nth('in-sync', 2);

    assert.deepEqual(delivered(rec, 1), [
      ['web-0', 19, true],
      ['pool-d', 20, true],
      ['node-2', 20, false],
    ]);
    const deletion = rec.batches.at(-1)!.updates[0];
    assert.deepEqual(deletion, { kind: 'Node', name: 'node-2', revision: 20 });
    assert.deepEqual(
      client.snapshot().map((u) => u.name),
      ['pool-a', 'pool-d', 'web-0'],
    );
    assert.equal(client.snapshot()[0].revision, 18, 'unchanged key keeps the newer revision');
  });

  it('does not synthesise deletions from a snapshot cut off mid-way, and then never goes below what it holds', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), backoff: { delaysMs: [0], jitter: 0, maxMs: 0 } });
    client.start();
    const p1 = await typha.nextPeer();
    p1.serveSnapshot(10, [[A, B, C]]);
    await rec.nth('in-sync');
    p1.close(CloseCode.Normal);

    const p2 = await typha.nextPeer();
    const B2 = upd('WorkloadEndpoint', 'web-0', 19, { node: 'node-1', ipNetworks: ['10.65.0.6/32'] }, 'default');
    p2.send({ type: 'hello', protocolVersion: 1, server: 'typha-b', datastoreId: 'ds-1', features: [], mode: 'snapshot', revision: 20 });
    p2.send({ type: 'snapshot', revision: 20, page: 0, last: false, updates: [B2] });
    await rec.until(() => rec.batches.length === 2);
    p2.close(CloseCode.Shutdown, 'bye');

    // Its state is now part 10, part 20: no revision to resume from, but nothing below 20.
    const p3 = await typha.nextPeer();
    assert.equal(p3.hello.resume, undefined);
    assert.deepEqual(p3.hello.floor, { revision: 20, datastoreId: 'ds-1' });
    assert.equal(client.revision, 0);
    assert.deepEqual(delivered(rec, 1), [['web-0', 19, true]], 'no deletions for keys the cut snapshot did not reach');
    assert.deepEqual(
      client.snapshot().map((u) => u.name),
      ['pool-a', 'node-2', 'web-0'],
    );

    // A server that ignores the floor (an older one) and offers revision 15 is refused.
    p3.send({ type: 'hello', protocolVersion: 1, server: 'typha-old', datastoreId: 'ds-1', features: [], mode: 'snapshot', revision: 15 });
    const refused = await p3.closed;
    assert.equal(refused.code, CloseCode.UnexpectedMessage);
    assert.match(refused.reason, /revision 15 would roll this client back from 20/);

    // The next full snapshot at or past the floor reconciles everything.
    const p4 = await typha.nextPeer();
    assert.deepEqual(p4.hello.floor, { revision: 20, datastoreId: 'ds-1' });
    p4.serveSnapshot(21, [[A, B2]]);
    await rec.nth('in-sync', 2);
    assert.deepEqual(
      client.snapshot().map((u) => u.name),
      ['pool-a', 'web-0'],
    );
    assert.equal(client.revision, 21);
  });

  it('a resume cut off half-way keeps its point and raises its floor to what the server announced', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), backoff: { delaysMs: [0], jitter: 0, maxMs: 0 } });
    client.start();
    const p1 = await typha.nextPeer();
    p1.serveSnapshot(10, [[A, B, C]]);
    await rec.nth('in-sync');
    p1.close(CloseCode.Normal);

    const p2 = await typha.nextPeer();
    assert.deepEqual(p2.hello.floor, { revision: 10, datastoreId: 'ds-1' });
    p2.send({ type: 'hello', protocolVersion: 1, server: 'typha-b', datastoreId: 'ds-1', features: ['resume'], mode: 'resume', revision: 30 });
    p2.send({ type: 'deltas', revision: 10, updates: [upd('IPPool', 'pool-a', 25, { cidr: '10.99.0.0/16' })] });
    await rec.until(() => rec.batches.length === 2);
    p2.close(CloseCode.Shutdown, 'bye');

    const p3 = await typha.nextPeer();
    assert.deepEqual(p3.hello.resume, { revision: 10, datastoreId: 'ds-1' }, 'every update it got was newer than 10: replaying from 10 is exact');
    assert.deepEqual(p3.hello.floor, { revision: 30, datastoreId: 'ds-1' });
  });

  it('follows a goodbye hint to another replica after delayMs', async (t) => {
    const clock = new FakeClock();
    const a = await startTypha(t);
    const b = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([a.url]), clock });
    client.start();
    const pa = await a.nextPeer();
    pa.serveSnapshot(10, [[A]]);
    await rec.nth('in-sync');
    pa.send({ type: 'goodbye', code: CloseCode.Rebalance, reason: 'rebalancing', reconnect: b.url, delayMs: 30 });

    const gone = await rec.nth('disconnected');
    assert.equal(gone.code, CloseCode.Rebalance);
    assert.equal(gone.reason, 'rebalancing');
    assert.equal(gone.retryInMs, 30);
    assert.equal(gone.goodbye?.reconnect, b.url);
    assert.equal(gone.fatal, undefined);
    assert.equal((await pa.closed).code, CloseCode.Normal, 'the client closes its side after a goodbye');
    assert.equal(client.state, 'backoff');
    assert.deepEqual(clock.dueIn(), [30]);
    clock.advance(29);
    await tick();
    assert.equal(client.state, 'backoff');
    clock.advance(1);

    const pb = await b.nextPeer();
    assert.deepEqual(pb.hello.resume, { revision: 10, datastoreId: 'ds-1' });
    assert.equal(rec.statuses.findLast((s) => s.status === 'connecting')?.detail.endpoint, b.url);
    assert.equal(a.peers.length, 1, 'the hinted replica is tried before the discovered one');
  });

  it('follows a goodbye that comes instead of a server hello (overloaded replica)', async (t) => {
    const busy = await startTypha(t);
    const free = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([busy.url]) });
    client.start();
    const p1 = await busy.nextPeer();
    p1.send({ type: 'goodbye', code: CloseCode.ServerOverloaded, reason: 'at 2000 connections', reconnect: free.url, delayMs: 0 });
    const p2 = await free.nextPeer();
    assert.equal(p2.hello.resume, undefined);
    const gone = await rec.nth('disconnected');
    assert.equal(gone.code, CloseCode.ServerOverloaded);
    assert.equal(gone.retryInMs, 0);
    p2.serveSnapshot(2, [[A]]);
    await rec.nth('in-sync');
    assert.equal(client.connectedTo, free.url);
  });

  it('detects a half-open connection by the read timeout and reconnects', async (t) => {
    const clock = new FakeClock();
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), clock, readTimeoutMs: 1000, pingIntervalMs: 400 });
    client.start();
    const p1 = await typha.nextPeer();
    p1.serveSnapshot(10, [[A]]);
    await rec.nth('in-sync');

    clock.advance(999); // the client pings at 400 and 800; this server never answers
    await p1.until((p) => p.count('ping') === 2);
    assert.equal(client.state, 'in-sync');

    p1.send({ type: 'ping', ts: 42 }); // any frame resets the deadline
    await p1.until((p) => p.count('pong') === 1);
    assert.deepEqual(
      p1.received.find((m) => m.type === 'pong'),
      { type: 'pong', ts: 42 },
    );
    clock.advance(999);
    await tick();
    assert.equal(client.state, 'in-sync', '999 ms after the last frame is not yet a timeout');
    assert.equal(rec.count('disconnected'), 0);

    clock.advance(1);
    const gone = await rec.nth('disconnected');
    assert.ok(gone.error instanceof ReadTimeoutError, String(gone.error));
    assert.equal(gone.code, CloseCode.PingTimeout);
    assert.equal((await p1.closed).code, 1006, 'terminated without a close handshake');
    clock.advance(gone.retryInMs ?? 0);
    const p2 = await typha.nextPeer();
    assert.deepEqual(p2.hello.resume, { revision: 10, datastoreId: 'ds-1' });
  });

  it('answers server pings, even before the server hello', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]) });
    client.start();
    const p = await typha.nextPeer();
    p.send({ type: 'ping', ts: 1.5 }); // before the server hello: still answered
    await p.until((x) => x.count('pong') === 1);
    assert.deepEqual(p.received, [{ type: 'pong', ts: 1.5 }]);
    assert.equal(rec.count('disconnected'), 0);
  });

  it('prefers a replica on its own node and moves on to the next endpoint when one is down', async (t) => {
    const typha = await startTypha(t);
    const dead = await deadUrl();
    const { client, rec } = makeClient(t, {
      discovery: discoveryOf({ url: typha.url, node: 'node-7' }, { url: dead, node: 'node-1' }),
      random: () => 0,
    });
    client.start();
    const p = await typha.nextPeer();
    assert.deepEqual(
      rec.statuses.filter((s) => s.status === 'connecting').map((s) => s.detail.endpoint),
      [dead, typha.url],
    );
    const failed = rec.statuses.find((s) => s.status === 'disconnected')!.detail;
    assert.ok(failed.error instanceof ConnectError, String(failed.error));
    assert.match(failed.error.message, /ECONNREFUSED/);
    assert.equal(failed.retryInMs, 0, 'the next endpoint is tried at once');
    p.serveSnapshot(1, [[A]]);
    await rec.nth('in-sync');
  });

  it('gives up on a replica that accepts but never says hello (handshake timeout)', async (t) => {
    const clock = new FakeClock();
    const silent = await startTypha(t);
    const good = await startTypha(t);
    const { client, rec } = makeClient(t, {
      discovery: discoveryOf({ url: silent.url, node: 'node-1' }, { url: good.url }),
      clock,
      handshakeTimeoutMs: 5000,
    });
    client.start();
    await silent.nextPeer();
    clock.advance(4999);
    await tick();
    assert.equal(rec.count('disconnected'), 0);
    clock.advance(1);
    const gone = await rec.nth('disconnected');
    assert.ok(gone.error instanceof HandshakeTimeoutError);
    assert.equal(gone.code, CloseCode.HandshakeTimeout);
    const p = await good.nextPeer();
    p.serveSnapshot(1, [[A]]);
    await rec.nth('in-sync');
    assert.equal(client.connectedTo, good.url);
  });

  it('waits fatalDelayMs after a refusal that retrying will not fix, and reports it', async (t) => {
    const clock = new FakeClock();
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), clock, fatalDelayMs: 60_000 });
    client.start();
    const p1 = await typha.nextPeer();
    p1.close(CloseCode.UnknownSyncer, 'unknown syncer type "felix" (expected bgp)');
    const gone = await rec.nth('disconnected');
    assert.equal(gone.fatal, true);
    assert.equal(gone.retryInMs, 60_000);
    assert.equal(gone.code, CloseCode.UnknownSyncer);
    assert.ok(gone.error instanceof ServerClosedError);
    assert.equal(client.state, 'backoff');
    clock.advance(59_999);
    await tick();
    assert.equal(client.state, 'backoff');
    assert.equal(typha.peers.length, 1);
    clock.advance(1);
    await typha.nextPeer();
  });

  it('tries the other replicas after a refusal, and a later good session is not slowed by it', async (t) => {
    const clock = new FakeClock();
    const old = await startTypha(t);
    const good = await startTypha(t);
    const { client, rec } = makeClient(t, {
      discovery: discoveryOf({ url: old.url, node: 'node-1' }, { url: good.url }),
      clock,
      fatalDelayMs: 60_000,
    });
    client.start();
    (await old.nextPeer()).close(CloseCode.UnsupportedVersion, 'unsupported protocol version 1 (this server speaks 2..2)');
    const refused = await rec.nth('disconnected');
    assert.equal(refused.fatal, true);
    assert.equal(refused.retryInMs, 0, 'the next replica is tried at once');
    const p = await good.nextPeer();
    p.serveSnapshot(3, [[A]]);
    await rec.nth('in-sync');
    p.close(CloseCode.GoingAway);
    const lost = await rec.nth('disconnected', 2);
    assert.equal(lost.fatal, undefined);
    assert.equal(lost.retryInMs, 0);
  });

  it('treats an upgrade refused with HTTP 403 as unauthorized', async (t) => {
    const clock = new FakeClock();
    const typha = await startTypha(t, { rejectStatus: 403 });
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), clock, fatalDelayMs: 1000, random: () => 0 });
    client.start();
    const gone = await rec.nth('disconnected');
    assert.ok(gone.error instanceof ConnectError);
    assert.equal(gone.error.status, 403);
    assert.equal(gone.fatal, true);
    assert.equal(gone.retryInMs, 500, 'fatal delay with jitter 0.5 and random 0');
    await client.close();
    assert.equal(client.state, 'closed');
    assert.deepEqual(clock.dueIn(), [], 'close() cancels the backoff timer');
  });

  it('closes with UnexpectedMessage when the server breaks the message order', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), backoff: { delaysMs: [60_000], jitter: 0, maxMs: 60_000 } });
    client.start();
    const p = await typha.nextPeer();
    p.send({ type: 'deltas', revision: 3, updates: [A] });
    assert.deepEqual(await p.closed, { code: CloseCode.UnexpectedMessage, reason: '"deltas" before the server hello' });
    const gone = await rec.nth('disconnected');
    assert.ok(gone.error instanceof UnexpectedMessageError);
    assert.equal(rec.batches.length, 0);
  });

  it('refuses a resume the client did not ask for', async (t) => {
    const typha = await startTypha(t);
    const { client } = makeClient(t, { discovery: staticDiscovery([typha.url]), backoff: { delaysMs: [60_000], jitter: 0, maxMs: 60_000 } });
    client.start();
    const p = await typha.nextPeer();
    p.serveResume(5, [A]);
    assert.equal((await p.closed).code, CloseCode.UnexpectedMessage);
  });

  it('drops its resume point when the server reports a datastore mismatch', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), backoff: { delaysMs: [0], jitter: 0, maxMs: 0 } });
    client.start();
    const p1 = await typha.nextPeer();
    p1.serveSnapshot(10, [[A]]);
    await rec.nth('in-sync');
    p1.close(CloseCode.Normal);
    const p2 = await typha.nextPeer();
    assert.ok(p2.hello.resume);
    p2.close(CloseCode.DatastoreMismatch, 'datastore ds-1 is not ours');
    const p3 = await typha.nextPeer();
    assert.equal(p3.hello.resume, undefined);
  });

  it('speaks JSON in text frames when asked', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), codec: 'json' });
    client.start();
    const p = await typha.nextPeer();
    assert.equal(p.protocol, 'cattail.v1.json');
    assert.deepEqual(p.frameBinary, [false]);
    p.serveSnapshot(4, [[A, B]]);
    await rec.nth('in-sync');
    assert.equal(client.snapshot().length, 2);
  });

  it('refuses plaintext endpoints when TLS is configured', async (t) => {
    const clock = new FakeClock();
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]), clock, tls: {} });
    client.start();
    const gone = await rec.nth('disconnected');
    assert.ok(gone.error instanceof NoEndpointsError);
    assert.match(gone.error.message, /wss:/);
    assert.equal(typha.connectionCount, 0);
  });

  it('survives a callback that throws and logs it through the injected logger', async (t) => {
    const typha = await startTypha(t);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger: Logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const rec = new Recorder();
    const client = new SyncClient({
      syncer: 'bgp',
      node: 'node-1',
      discovery: staticDiscovery([typha.url]),
      logger,
      callbacks: {
        onStatus: (s, d) => rec.onStatus(s, d),
        onUpdates: (u, r) => {
          rec.onUpdates(u, r);
          throw new Error('felix bug');
        },
      },
    });
    t.after(() => client.close());
    client.start();
    const p = await typha.nextPeer();
    p.serveSnapshot(4, [[A]]);
    await rec.nth('in-sync');
    p.send({ type: 'deltas', revision: 5, updates: [upd('Node', 'n9', 5, { x: 1 })] });
    await rec.until(() => rec.batches.length === 2);
    await tick();
    assert.equal(client.state, 'in-sync');
    assert.equal(client.revision, 5);
    assert.ok(lines.some((l) => l.msg === 'onUpdates callback threw'));
  });

  it('keeps retrying with backoff when discovery finds nothing', async (t) => {
    const clock = new FakeClock();
    let calls = 0;
    const discovery: Discovery = {
      endpoints: () => {
        calls++;
        return Promise.resolve([]);
      },
    };
    const { client, rec } = makeClient(t, { discovery, clock, backoff: { delaysMs: [100, 200], jitter: 0, maxMs: 1000 } });
    client.start();
    const first = await rec.nth('disconnected');
    assert.ok(first.error instanceof NoEndpointsError);
    assert.equal(first.retryInMs, 100);
    clock.advance(100);
    const second = await rec.nth('disconnected', 2);
    assert.equal(second.retryInMs, 200);
    assert.equal(calls, 2);
  });

  it('close() does not wait for a discovery that hangs', async (t) => {
    const discovery: Discovery = { endpoints: () => new Promise(() => {}) };
    const { client } = makeClient(t, { discovery });
    client.start();
    await tick();
    assert.equal(client.state, 'connecting');
    await client.close();
    assert.equal(client.state, 'closed');
  });

  it('closes the socket with 1000 on close() and reports the disconnect', async (t) => {
    const typha = await startTypha(t);
    const { client, rec } = makeClient(t, { discovery: staticDiscovery([typha.url]) });
    client.start();
    const p = await typha.nextPeer();
    p.serveSnapshot(3, [[A]]);
    await rec.nth('in-sync');
    await client.close();
    assert.deepEqual(await p.closed, { code: CloseCode.Normal, reason: 'client closing' });
    const gone = rec.statuses.at(-1)!;
    assert.equal(gone.status, 'disconnected');
    assert.equal(gone.detail.retryInMs, undefined);
    assert.equal(client.connectedTo, undefined);
    assert.equal(typha.peers.length, 1, 'no reconnect after close()');
  });

  it('rejects start() twice and start() after close()', async (t) => {
    const { client } = makeClient(t, { discovery: discoveryOf(), clock: new FakeClock() });
    client.start();
    assert.throws(() => client.start(), /start\(\) called when/);
    await client.close();
    assert.equal(client.state, 'closed');
    assert.throws(() => client.start(), /closed/);
  });
});
