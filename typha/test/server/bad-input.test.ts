import assert from 'node:assert/strict';
import { until } from '@cattail/datastore/testing';
import { test } from 'node:test';
import { CODECS, CloseCode, type Message } from '../../src/protocol/index.js';
import { FakeClock, Harness, TestClient, type ClientOptions } from './helpers.js';

interface Case {
  name: string;
  client: ClientOptions;
  act?: (c: TestClient) => void | Promise<void>;
  code: number;
  reason: RegExp;
}

test('each bad input gets its close code and reason, and the other clients notice nothing', async (t) => {
  const clock = new FakeClock();
  const h = await Harness.start(t, { clock, handshakeTimeoutMs: 2000, maxFrameBytes: 1024, pingIntervalMs: 600_000, pongTimeoutMs: 1_200_000, initialKeys: 5 });
  const bystander = new TestClient(h.url, { node: 'bystander' });
  t.after(() => bystander.close());
  await bystander.untilInSync();
  const published: number[] = [];

  const raw = (c: TestClient, bytes: Buffer | string): void => c.ws.send(bytes);
  const cases: Case[] = [
    {
      name: 'no hello',
      client: { noHello: true },
      // With fan-out workers the client sees its upgrade before the server's Connection (and its
      // handshake timer) exists: advance the clock once it does.
      act: async () => {
        await until(() => h.server.connections().handshaking > 0, 'the connection without a hello in the server');
        clock.advance(2000);
      },
      code: CloseCode.HandshakeTimeout,
      reason: /^no hello within 2000 ms$/,
    },
    {
      name: 'wrong protocol version',
      client: { hello: { protocolVersion: 99 } },
      code: CloseCode.UnsupportedVersion,
      reason: /unsupported protocol version 99 \(this server speaks 1\.\.1\)/,
    },
    {
      name: 'unknown syncer',
      client: { syncer: 'nope' },
      code: CloseCode.UnknownSyncer,
      reason: /unknown syncer type "nope" \(expected felix, bgp, ipam, status\)/,
    },
    {
      name: 'syncer not served here',
      client: { syncer: 'ipam' },
      code: CloseCode.UnknownSyncer,
      reason: /syncer "ipam" is not served by this typha \(it serves felix, bgp\)/,
    },
    {
      name: 'garbage bytes',
      client: { noHello: true },
      act: (c) => raw(c, Buffer.from([0xc1, 0xff, 0x00, 0x13])),
      code: CloseCode.MalformedFrame,
      reason: /malformed frame/,
    },
    {
      name: 'broken JSON',
      client: { noHello: true, codec: CODECS.json },
      act: (c) => raw(c, '{"type":'),
      code: CloseCode.MalformedFrame,
      reason: /malformed frame/,
    },
    {
      name: 'not a map',
      client: { noHello: true },
      act: (c) => raw(c, CODECS.msgpack.encode([1, 2, 3] as unknown as Message)),
      code: CloseCode.MalformedFrame,
      reason: /expected a map with a string "type"/,
    },
    { name: 'bad hello field', client: { hello: { node: '' } }, code: CloseCode.MalformedFrame, reason: /hello\.node must be a non-empty string/ },
    {
      name: 'a server message',
      client: { noHello: true },
      act: (c) => c.send({ type: 'deltas', revision: 1, updates: [] }),
      code: CloseCode.UnexpectedMessage,
      reason: /unexpected message type "deltas"/,
    },
    {
      name: 'ping before hello',
      client: { noHello: true },
      act: (c) => c.send({ type: 'ping', ts: 1 }),
      code: CloseCode.UnexpectedMessage,
      reason: /expected a hello first, got "ping"/,
    },
    { name: 'oversized frame', client: { noHello: true }, act: (c) => raw(c, Buffer.alloc(2000, 0x90)), code: CloseCode.MessageTooBig, reason: /^$/ },
  ];
  for (const k of cases) {
    const c = new TestClient(h.url, { ...k.client, node: k.name.replace(/ /g, '-') });
    await c.until((x) => x.opened || x.closed !== undefined);
    await k.act?.(c);
    const closed = await c.untilClosed();
    assert.equal(closed.code, k.code, `${k.name}: close code (reason "${closed.reason}")`);
    assert.match(closed.reason, k.reason, k.name);
    assert.equal(c.count('hello'), 0, `${k.name}: no ServerHello`);
    published.push(h.feedMany('felix', 2, 10, 'p'));
  }

  // A second hello after the sync.
  const twice = new TestClient(h.url, { node: 'twice' });
  await twice.untilInSync();
  twice.sendHello();
  const closed = await twice.untilClosed();
  assert.deepEqual(closed, { code: CloseCode.UnexpectedMessage, reason: 'a second hello on the same connection' });

  // Refused at the HTTP level, before any WebSocket exists.
  const http = [
    {
      client: new TestClient(h.url, { protocols: ['cattail.v9.cbor'] }),
      status: 400,
      body: /no supported WebSocket subprotocol offered \(offered: "cattail\.v9\.cbor"\); offer one of: cattail\.v1\.msgpack, cattail\.v1\.json/,
    },
    { client: new TestClient(h.url, { protocols: [] }), status: 400, body: /offered: none/ },
    {
      client: new TestClient(`ws://127.0.0.1:${h.port}/elsewhere`),
      status: 404,
      body: /no WebSocket endpoint at "\/elsewhere": the Typha sync stream is at \/sync/,
    },
  ];
  for (const x of http) {
    await x.client.untilClosed();
    assert.equal(x.client.httpStatus, x.status);
    assert.match(x.client.httpBody, x.body);
    assert.equal(x.client.opened, false);
  }
  const plain = await fetch(`http://127.0.0.1:${h.port}/sync`);
  assert.equal(plain.status, 426);
  assert.match(await plain.text(), /connect with a WebSocket to \/sync/);

  // The bystander got every batch, once, in order, and is still live.
  published.push(h.feedMany('felix', 1, 10, 'end'));
  await bystander.untilRevision(published.at(-1) as number);
  assert.equal(bystander.closed, undefined);
  assert.deepEqual(bystander.liveRevisions, published);
  const logged = h.logs.find((r) => r.msg === 'protocol error from client; closing' && (r.obj as { node?: string }).node === undefined);
  assert.ok(logged && 'conn' in logged.obj && 'remote' in logged.obj, 'logged through the per-connection child logger');
  await h.untilServer(() => h.server.connections().total === 1);
  const open = h.server.connections().clients.filter((c) => c.state !== 'closing');
  assert.deepEqual(
    open.map((c) => [c.node, c.state]),
    [['bystander', 'live']],
  );
});
