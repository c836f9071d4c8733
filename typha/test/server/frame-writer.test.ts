import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { SharedFrame, directWriter, frameHeader, wireFrame } from '../../src/server/index.js';
import { supportsDirectWrites } from '../../src/server/frame-writer.js';

const require = createRequire(import.meta.url);
const Sender = (require('ws') as { Sender: { frame(data: Buffer, o: object): Buffer[] } }).Sender;

test('frameHeader is byte for byte the header ws writes for a server frame', () => {
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70_000, 16 * 1024 * 1024]) {
    for (const binary of [true, false]) {
      const payload = Buffer.alloc(n, 7);
      const [wsHeader] = Sender.frame(payload, { fin: true, opcode: binary ? 2 : 1, mask: false, readOnly: true, rsv1: false });
      assert.deepEqual(frameHeader(n, binary), wsHeader, `length ${n}, binary ${binary}`);
      const wire = wireFrame(payload, binary);
      assert.equal(wire.length, wsHeader.length + n);
      assert.deepEqual(wire.subarray(0, wsHeader.length), wsHeader);
      assert.ok(wire.subarray(wsHeader.length).equals(payload));
    }
  }
});

test('a SharedFrame builds its wire bytes once and hands out the same Buffer', () => {
  const f = new SharedFrame(Buffer.from('hello'), false);
  assert.equal(f.wire, f.wire);
  assert.deepEqual([...f.wire], [0x81, 5, ...Buffer.from('hello')]);
});

test('direct writes are used on a plain server socket, and refused when ws would queue (permessage-deflate)', async (t) => {
  for (const deflate of [false, true]) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate });
    t.after(() => wss.close());
    await once(wss, 'listening');
    const port = (wss.address() as { port: number }).port;
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: deflate });
    t.after(() => client.close());
    const [[serverSide]] = await Promise.all([accepted, once(client, 'open')]);
    assert.equal(supportsDirectWrites(serverSide), !deflate);
    if (!deflate) {
      // And a frame written directly arrives intact, between frames ws.send wrote.
      const got: string[] = [];
      client.on('message', (d) => got.push(d.toString()));
      serverSide.send('one');
      directWriter.write(serverSide, Buffer.from('two'), false);
      directWriter.writeShared(serverSide, new SharedFrame(Buffer.from('three'), true));
      serverSide.send('four');
      await new Promise<void>((resolve) => client.on('message', () => got.length === 4 && resolve()));
      assert.deepEqual(got, ['one', 'two', 'three', 'four']);
    }
  }
});
