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

test('deflate-deltas frames: decoded with the connection’s dictionary, refused without it or holding anything but Deltas', async () => {
  const {
    buildDeltaDictionary,
    deflateDeltasFrame,
    deltaDictionaryFrame,
    decodeServerFrame: decode,
    msgpackCodec: mp,
  } = await import('../../src/protocol/index.js');
  const state = Array.from({ length: 200 }, (_, i) => ({
    kind: 'WorkloadEndpoint',
    name: `wep-${i}`,
    namespace: 'ns',
    revision: i + 1,
    value: { labels: { app: 'a' }, spec: { node: `n${i % 9}`, ipNetworks: [`10.0.0.${i % 250}/32`] } },
  }));
  const dict = buildDeltaDictionary(mp, state);
  assert.ok(dict.data.length > 1000 && dict.data.length <= 32 * 1024);
  const deltas = mp.encode({ type: 'deltas', revision: 300, updates: [{ ...state[7], revision: 300 }] });
  const z = deflateDeltasFrame(mp, deltas, dict);
  assert.ok(z !== undefined && z.length < deltas.length / 2, `${z?.length} of ${deltas.length}`);
  const accept = { snapshots: false, deltas: { dictionary: undefined as undefined | { id: number; data: Buffer } } };
  assert.throws(() => decode(mp, z, accept), /dictionary \d+, which this connection has not received/);
  assert.equal(decode(mp, deltaDictionaryFrame(mp, dict), accept).type, 'dictionary');
  const msg = decode(mp, z, accept);
  assert.equal(msg.type, 'deltas');
  assert.deepEqual(msg.type === 'deltas' && msg.updates[0].name, 'wep-7');
  assert.throws(() => decode(mp, z, { snapshots: true }), /unexpected message type "deflated"/, 'not accepted: unexpected');
  assert.throws(() => decode(mp, deltaDictionaryFrame(mp, dict), true), /unexpected message type "dictionary"/);
  const page = mp.encode({ type: 'snapshot', revision: 1, page: 0, last: true, updates: [] });
  const wrapped = mp.encode({ type: 'deflated', dict: dict.id, data: deflateRawSync(page, { dictionary: dict.data }) });
  assert.throws(() => decode(mp, wrapped, accept), /only delta batches are deflated/);
  const garbage = mp.encode({ type: 'deflated', dict: dict.id, data: Buffer.from('not deflate at all') });
  assert.throws(() => decode(mp, garbage, accept), /deflated\.data is not raw DEFLATE/);
});
