import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Unpackr } from 'msgpackr';
import {
  CODECS,
  CloseCode,
  MalformedFrameError,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
  codecForSubprotocol,
  jsonCodec,
  msgpackCodec,
  parseClientMessage,
  parseServerMessage,
  selectSubprotocol,
  type Codec,
  type Message,
} from '../../src/protocol/index.js';
import { CLIENT_SAMPLES, SAMPLES, SERVER_SAMPLES, wep } from './sample-messages.js';

for (const codec of [msgpackCodec, jsonCodec]) {
  describe(`${codec.name} codec`, () => {
    for (const name of CLIENT_SAMPLES) {
      it(`round-trips ${name} as a client message`, () => {
        const msg = SAMPLES[name];
        const back = parseClientMessage(codec.decode(codec.encode(msg)));
        assert.deepEqual(back, msg);
      });
    }
    for (const name of SERVER_SAMPLES) {
      it(`round-trips ${name} as a server message`, () => {
        const msg = SAMPLES[name];
        const back = parseServerMessage(codec.decode(codec.encode(msg)));
        assert.deepEqual(back, msg);
      });
    }

    it('drops an undefined optional field instead of inventing a value', () => {
      const msg = { type: 'deltas', revision: 5, updates: [{ kind: 'Node', name: 'n1', revision: 5, value: undefined }] } as Message;
      const back = parseServerMessage(codec.decode(codec.encode(msg))) as { updates: object[] };
      assert.equal('value' in back.updates[0], false);
    });

    it('rejects an empty or garbage frame as malformed', () => {
      for (const frame of [Buffer.alloc(0), Buffer.from([0xc1]), Buffer.from('{"type":')]) {
        assert.throws(
          () => parseServerMessage(codec.decode(frame)),
          (err: unknown) => {
            assert.ok(err instanceof MalformedFrameError);
            assert.equal(err.closeCode, CloseCode.MalformedFrame);
            return true;
          },
        );
      }
    });
  });
}

describe('msgpack frames', () => {
  it('are plain MessagePack that a fresh decoder without shared state reads', () => {
    for (const msg of Object.values(SAMPLES)) {
      const frame = msgpackCodec.encode(msg);
      // A decoder with default options and no history: records or shared structures would fail here.
      const fresh = new Unpackr({ mapsAsObjects: true });
      assert.deepEqual(fresh.unpack(frame), msg);
    }
  });

  it('start with a fixmap header and contain no msgpackr record extension', () => {
    const frame = msgpackCodec.encode(SAMPLES.inSync);
    assert.deepEqual([...frame], [0x82, 0xa4, ...Buffer.from('type'), 0xa7, ...Buffer.from('in-sync'), 0xa8, ...Buffer.from('revision'), 0xcd, 0x04, 0x12]);
  });

  it('decode the same regardless of what was encoded before (no state between frames)', () => {
    const a = msgpackCodec.encode(SAMPLES.snapshotPage);
    msgpackCodec.encode(SAMPLES.deltas);
    const b = msgpackCodec.encode(SAMPLES.snapshotPage);
    assert.deepEqual(a, b);
    assert.deepEqual(msgpackCodec.decode(b), msgpackCodec.decode(a));
  });

  it('keeps revisions beyond 32 bits exact', () => {
    const msg = { type: 'in-sync', revision: 2 ** 53 - 1 } as Message;
    assert.deepEqual(parseServerMessage(msgpackCodec.decode(msgpackCodec.encode(msg))), msg);
  });

  it('does not pin a large encoder slab with a small frame', () => {
    const big = { type: 'snapshot', revision: 1, page: 0, last: true, updates: Array.from({ length: 2000 }, (_, i) => ({ ...wep, name: `w${i}` })) } as Message;
    msgpackCodec.encode(big);
    const small = msgpackCodec.encode(SAMPLES.inSync);
    assert.ok(small.buffer.byteLength < 64 * 1024, `small frame backed by ${small.buffer.byteLength} bytes`);
  });

  it('earlier frames stay intact after later encodes', () => {
    const first = msgpackCodec.encode(SAMPLES.deltas);
    const copy = Buffer.from(first);
    for (let i = 0; i < 100; i++) msgpackCodec.encode(SAMPLES.snapshotPage);
    assert.deepEqual(first, copy);
  });
});

describe('json frames', () => {
  it('are UTF-8 JSON text', () => {
    const frame = jsonCodec.encode(SAMPLES.snapshotPage);
    assert.deepEqual(JSON.parse(frame.toString('utf8')), SAMPLES.snapshotPage);
    assert.match(frame.toString('utf8'), /fröntend ✓/);
  });
});

describe('codecs do not mix', () => {
  it('a msgpack frame is not JSON', () => {
    for (const msg of Object.values(SAMPLES)) {
      assert.throws(() => jsonCodec.decode(msgpackCodec.encode(msg)), MalformedFrameError);
    }
  });

  it('a JSON frame does not parse as msgpack', () => {
    for (const msg of Object.values(SAMPLES)) {
      const frame = jsonCodec.encode(msg);
      assert.throws(() => parseServerMessage(msgpackCodec.decode(frame)), MalformedFrameError);
      assert.throws(() => parseClientMessage(msgpackCodec.decode(frame)), MalformedFrameError);
    }
  });
});

describe('codec registry', () => {
  it('maps subprotocols to codecs', () => {
    assert.equal(codecForSubprotocol(SUBPROTOCOL_MSGPACK), msgpackCodec);
    assert.equal(codecForSubprotocol(SUBPROTOCOL_JSON), jsonCodec);
    assert.equal(codecForSubprotocol('cattail.v2.msgpack'), undefined);
    assert.equal(CODECS.msgpack, msgpackCodec);
    assert.equal(CODECS.json, jsonCodec);
  });

  it('declares frame types and names consistently', () => {
    const all: Codec[] = Object.values(CODECS);
    assert.deepEqual(
      all.map((c) => [c.name, c.binary]),
      [
        ['msgpack', true],
        ['json', false],
      ],
    );
  });

  it('selects the first offered subprotocol it knows', () => {
    assert.equal(selectSubprotocol(['cattail.v2.msgpack', SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK]), jsonCodec);
    assert.equal(selectSubprotocol(new Set(['chat'])), undefined);
  });
});
