// The k6 scripts' bundled MessagePack codec (loadtest/k6/lib/msgpack.js) against Typha's own
// codec (msgpackr): every frame Typha sends decodes to the same value, readHeader stops before
// the updates, and the client messages it encodes are what Typha decodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { msgpackCodec, type Message } from '@cattail/typha/protocol';

interface K6Msgpack {
  decode(data: Uint8Array | ArrayBuffer): unknown;
  readHeader(data: Uint8Array | ArrayBuffer): Record<string, unknown> & { type: string; updatesCount: number };
  decodeUpdates(h: unknown): unknown[];
  encode(value: unknown): ArrayBuffer;
}
const mp = (await import(new URL('../../k6/lib/msgpack.js', import.meta.url).href)) as K6Msgpack;

const wep = (i: number, stamp?: string): Record<string, unknown> => ({
  kind: 'WorkloadEndpoint',
  name: `worker--0001-k8s-web--${i}-eth0`,
  namespace: 'ns-001',
  revision: 1000 + i,
  value: {
    labels: { app: 'web', 'projectcalico.org/namespace': 'ns-001', ...(stamp ? { 'bench.cattail/ts': stamp } : {}) },
    spec: { ipNetworks: [`10.0.0.${i}/32`], ports: [{ port: 8080, protocol: 'TCP' }], weight: 0.25, neg: -3, big: 2 ** 40, ünï: 'çødé ✓ 😀' },
  },
});

function bytes(msg: unknown): Uint8Array {
  return new Uint8Array(msgpackCodec.encode(msg as Message));
}

test('decodes every server message exactly as msgpackr does', () => {
  const msgs = [
    { type: 'hello', protocolVersion: 1, server: 'typha-a', datastoreId: 'etcd-1', features: ['resume'], mode: 'snapshot', revision: 2 ** 53 - 1 },
    { type: 'snapshot', revision: 42, page: 0, last: true, updates: Array.from({ length: 40 }, (_, i) => wep(i)) },
    { type: 'deltas', revision: 43, updates: [wep(1, '123456789012345'), { kind: 'Node', name: 'n1', revision: 43 }] },
    { type: 'in-sync', revision: 43 },
    { type: 'ping', ts: 58213.4 },
    { type: 'goodbye', code: 4007, reason: 'rebalance', reconnect: 'ws://10.0.0.2:5473', delayMs: 250 },
  ];
  for (const m of msgs) assert.deepEqual(mp.decode(bytes(m)), msgpackCodec.decode(Buffer.from(bytes(m))));
});

test('readHeader reads the scalars and the updates count without decoding the updates', () => {
  const page = { type: 'snapshot', revision: 7, page: 3, last: false, updates: Array.from({ length: 500 }, (_, i) => wep(i)) };
  const h = mp.readHeader(bytes(page));
  assert.equal(h.type, 'snapshot');
  assert.equal(h.revision, 7);
  assert.equal(h.page, 3);
  assert.equal(h.last, false);
  assert.equal(h.updatesCount, 500);
  assert.deepEqual(mp.decodeUpdates(h), page.updates);
  const ping = mp.readHeader(bytes({ type: 'ping', ts: 1.5 }));
  assert.equal(ping.ts, 1.5);
  assert.equal(ping.updatesCount, -1);
});

test('the hello and pong it encodes are what Typha decodes', () => {
  const hello = {
    type: 'hello',
    protocolVersion: 1,
    syncer: 'felix',
    node: 'k6-vu0001-s0001',
    client: 'cattail-k6/0.1.0',
    features: ['resume', 'goodbye'],
    resume: { revision: 123456789012, datastoreId: 'etcd-8e9e05c52164694d' },
  };
  assert.deepEqual(msgpackCodec.decode(Buffer.from(mp.encode(hello))), hello);
  const long = { type: 'pong', ts: 58213.4, pad: 'x'.repeat(300), list: Array.from({ length: 20 }, (_, i) => i * 1000) };
  assert.deepEqual(msgpackCodec.decode(Buffer.from(mp.encode(long))), long);
});

test('refuses truncated frames, trailing bytes and frames that are not a map', () => {
  const b = bytes({ type: 'in-sync', revision: 43 });
  assert.throws(() => mp.decode(b.subarray(0, b.length - 1)), /truncated/);
  assert.throws(() => mp.decode(new Uint8Array([...b, 0xc0])), /trailing/);
  assert.throws(() => mp.readHeader(new Uint8Array([0x92, 1, 2])), /not a map/);
  assert.throws(() => mp.decode(new Uint8Array([0xd4, 0, 0])), /unsupported type/);
});
