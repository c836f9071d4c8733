import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import {
  CODECS,
  MAX_SERVER_FRAME_BYTES,
  MalformedFrameError,
  UnexpectedMessageError,
  compressFrame,
  decodeServerFrame,
  type SnapshotPage,
} from '../../src/protocol/index.js';

const msgpack = CODECS.msgpack;

function page(n: number): SnapshotPage {
  const updates = Array.from({ length: n }, (_, i) => ({
    kind: 'WorkloadEndpoint',
    namespace: 'shop',
    name: `node-${i % 7}-k8s-web--${i}-eth0`,
    revision: 100 + i,
    value: { labels: { app: 'web', 'projectcalico.org/namespace': 'shop' }, spec: { node: `node-${i % 7}`, ipNetworks: [`10.65.${i >> 8}.${i & 255}/32`] } },
  }));
  return { type: 'snapshot', revision: 500, page: 3, last: false, updates };
}

test('a compressed snapshot page decodes to the very page, and is much smaller', () => {
  const plain = msgpack.encode(page(400));
  const compressed = compressFrame(msgpack, plain);
  assert.ok(compressed.byteLength * 4 < plain.byteLength, `${compressed.byteLength} B compressed vs ${plain.byteLength} B plain`);
  assert.deepEqual(decodeServerFrame(msgpack, compressed, true), msgpack.decode(plain));
  // The envelope is plain MessagePack: any reader sees its type and bytes.
  const envelope = msgpack.decode(compressed) as { type: string; encoding: string; data: Uint8Array };
  assert.equal(envelope.type, 'compressed');
  assert.equal(envelope.encoding, 'deflate');
  assert.ok(envelope.data instanceof Uint8Array);
});

test('a plain frame passes through decodeServerFrame whether or not compression was accepted', () => {
  const msg = { type: 'in-sync', revision: 7 } as const;
  assert.deepEqual(decodeServerFrame(msgpack, msgpack.encode(msg), true), msg);
  assert.deepEqual(decodeServerFrame(msgpack, msgpack.encode(msg), false), msg);
});

test('a compressed frame the client did not accept is an unexpected message', () => {
  const compressed = compressFrame(msgpack, msgpack.encode(page(3)));
  assert.throws(() => decodeServerFrame(msgpack, compressed, false), UnexpectedMessageError);
});

test('bad compressed frames are refused with a reason, never inflated without bound', () => {
  const wrap = (fields: Record<string, unknown>) => msgpack.encode({ type: 'compressed', encoding: 'deflate', ...fields } as never);
  assert.throws(() => decodeServerFrame(msgpack, wrap({ encoding: 'zstd', data: Buffer.alloc(3) }), true), /compressed.encoding must be "deflate"/);
  assert.throws(() => decodeServerFrame(msgpack, wrap({ data: 'text' }), true), /compressed.data must be a byte string/);
  assert.throws(() => decodeServerFrame(msgpack, wrap({ data: Buffer.from('not deflate at all') }), true), /not raw DEFLATE/);
  // A bomb: 1 KB on the wire that would inflate past the frame limit.
  const bomb = deflateRawSync(Buffer.alloc(MAX_SERVER_FRAME_BYTES + 1024), { level: 9 });
  assert.ok(bomb.byteLength < 64 * 1024);
  const err = (() => {
    try {
      decodeServerFrame(msgpack, wrap({ data: bomb }), true);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof MalformedFrameError);
  assert.match(err.message, /inflates past 16777216 bytes/);
  // Only snapshot pages travel compressed; nothing nests.
  const inSync = compressFrame(msgpack, msgpack.encode({ type: 'in-sync', revision: 1 }));
  assert.throws(() => decodeServerFrame(msgpack, inSync, true), /holds "in-sync"; only snapshot pages are compressed/);
  const nested = compressFrame(msgpack, compressFrame(msgpack, msgpack.encode(page(2))));
  assert.throws(() => decodeServerFrame(msgpack, nested, true), UnexpectedMessageError);
});

test('the JSON codec cannot carry compressed frames', () => {
  assert.throws(() => compressFrame(CODECS.json, CODECS.json.encode(page(1))), /json codec cannot carry compressed frames/);
});
