import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CloseCode,
  ProtocolError,
  UnsupportedVersionError,
  checkVersion,
  parseClientMessage,
  parseServerMessage,
  parseUpdate,
  truncateReason,
  type CloseCodeValue,
} from '../../src/protocol/index.js';
import { SAMPLES } from './sample-messages.js';

/** A deep copy of a sample with `patch` applied; a patch value of `undefined` deletes the field. */
function mutate(name: string, patch: (m: Record<string, any>) => void): unknown {
  const m = structuredClone(SAMPLES[name]) as Record<string, any>;
  patch(m);
  return m;
}

function expectError(fn: () => unknown, closeCode: CloseCodeValue, reason: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.message, reason);
    assert.equal(err.closeCode, closeCode);
    assert.ok(Buffer.byteLength(err.reason) <= 123);
    return true;
  });
}

const M = CloseCode.MalformedFrame;

describe('parseClientMessage', () => {
  const cases: Array<[string, unknown, CloseCodeValue, string]> = [
    ['not a map', 42, M, 'malformed frame: expected a map with a string "type"'],
    ['an array', [{ type: 'hello' }], M, 'malformed frame: expected a map with a string "type"'],
    ['no type', { ts: 1 }, M, 'malformed frame: expected a map with a string "type"'],
    ['a server-only type', SAMPLES.inSync, CloseCode.UnexpectedMessage, 'unexpected message type "in-sync" (a client sends hello, ping, pong)'],
    ['an unknown type', { type: 'subscribe' }, CloseCode.UnexpectedMessage, 'unexpected message type "subscribe" (a client sends hello, ping, pong)'],
    [
      'version too new',
      mutate('clientHello', (m) => {
        m.protocolVersion = 7;
      }),
      CloseCode.UnsupportedVersion,
      'unsupported protocol version 7 (this server speaks 1..1)',
    ],
    [
      'version not a number',
      mutate('clientHello', (m) => {
        m.protocolVersion = '1';
      }),
      M,
      'malformed frame: hello.protocolVersion must be a positive integer',
    ],
    [
      'version zero',
      mutate('clientHello', (m) => {
        m.protocolVersion = 0;
      }),
      M,
      'malformed frame: hello.protocolVersion must be a positive integer',
    ],
    [
      'version checked before the rest of a future hello',
      { type: 'hello', protocolVersion: 2, who: { node: 'x' } },
      CloseCode.UnsupportedVersion,
      'unsupported protocol version 2 (this server speaks 1..1)',
    ],
    [
      'unknown syncer',
      mutate('clientHello', (m) => {
        m.syncer = 'foo';
      }),
      CloseCode.UnknownSyncer,
      'unknown syncer type "foo" (expected felix, bgp, ipam, status)',
    ],
    [
      'syncer not a string',
      mutate('clientHello', (m) => {
        m.syncer = 3;
      }),
      M,
      'malformed frame: hello.syncer must be a string',
    ],
    [
      'missing node',
      mutate('clientHello', (m) => {
        delete m.node;
      }),
      M,
      'malformed frame: hello.node must be a non-empty string',
    ],
    [
      'empty node',
      mutate('clientHello', (m) => {
        m.node = '';
      }),
      M,
      'malformed frame: hello.node must be a non-empty string',
    ],
    [
      'node too long',
      mutate('clientHello', (m) => {
        m.node = 'n'.repeat(254);
      }),
      M,
      'malformed frame: hello.node is longer than 253 characters',
    ],
    [
      'client not a string',
      mutate('clientHello', (m) => {
        m.client = 1;
      }),
      M,
      'malformed frame: hello.client must be a string of at most 256 characters',
    ],
    [
      'features missing',
      mutate('clientHello', (m) => {
        delete m.features;
      }),
      M,
      'malformed frame: hello.features must be an array of strings',
    ],
    [
      'features not strings',
      mutate('clientHello', (m) => {
        m.features = ['resume', 1];
      }),
      M,
      'malformed frame: hello.features must be an array of strings',
    ],
    [
      'too many features',
      mutate('clientHello', (m) => {
        m.features = Array.from({ length: 65 }, (_, i) => `f${i}`);
      }),
      M,
      'malformed frame: hello.features has more than 64 entries',
    ],
    [
      'feature too long',
      mutate('clientHello', (m) => {
        m.features = ['x'.repeat(65)];
      }),
      M,
      'malformed frame: hello.features has an entry longer than 64 characters',
    ],
    [
      'resume not a map',
      mutate('clientHello', (m) => {
        m.resume = 5;
      }),
      M,
      'malformed frame: hello.resume must be a map',
    ],
    [
      'resume revision negative',
      mutate('clientHelloResume', (m) => {
        m.resume.revision = -1;
      }),
      M,
      'malformed frame: hello.resume.revision must be a non-negative integer',
    ],
    [
      'resume revision fractional',
      mutate('clientHelloResume', (m) => {
        m.resume.revision = 1.5;
      }),
      M,
      'malformed frame: hello.resume.revision must be a non-negative integer',
    ],
    [
      'resume without datastoreId',
      mutate('clientHelloResume', (m) => {
        delete m.resume.datastoreId;
      }),
      M,
      'malformed frame: hello.resume.datastoreId must be a non-empty string',
    ],
    ['ping without ts', { type: 'ping' }, M, 'malformed frame: ping.ts must be a finite number'],
    ['pong with NaN ts', { type: 'pong', ts: Number.NaN }, M, 'malformed frame: pong.ts must be a finite number'],
  ];
  for (const [name, value, code, reason] of cases) {
    it(`rejects ${name}`, () => expectError(() => parseClientMessage(value), code, reason));
  }

  it('treats a null resume as absent and removes it', () => {
    const m = mutate('clientHello', (x) => {
      x.resume = null;
    });
    const hello = parseClientMessage(m);
    assert.equal('resume' in hello, false);
  });

  it('ignores unknown fields (a newer client may add optional ones)', () => {
    const m = mutate('clientHello', (x) => {
      x.zone = 'eu-west-1a';
    });
    assert.equal((parseClientMessage(m) as unknown as { zone: string }).zone, 'eu-west-1a');
  });

  it('cuts a long peer-supplied syncer name so the reason fits a close frame', () => {
    const m = mutate('clientHello', (x) => {
      x.syncer = 'ü'.repeat(200);
    });
    assert.throws(
      () => parseClientMessage(m),
      (err: ProtocolError) => {
        assert.equal(err.closeCode, CloseCode.UnknownSyncer);
        assert.ok(Buffer.byteLength(err.reason) <= 123, err.reason);
        assert.match(err.reason, /^unknown syncer type "ü+…" \(expected felix, bgp, ipam, status\)$/);
        return true;
      },
    );
  });
});

describe('parseServerMessage', () => {
  it('keeps the reason for a long unknown type within a close frame', () => {
    assert.throws(
      () => parseServerMessage({ type: 'x'.repeat(500) }),
      (err: ProtocolError) => {
        assert.equal(err.reason, `unexpected message type "${'x'.repeat(17)}…" (a server sends hello, snapshot, in-sync, deltas, ping, pong, goodbye)`);
        assert.ok(Buffer.byteLength(err.reason) <= 123);
        return true;
      },
    );
  });

  const cases: Array<[string, unknown, CloseCodeValue, string]> = [
    [
      'a client-only message type',
      { type: 'subscribe' },
      CloseCode.UnexpectedMessage,
      'unexpected message type "subscribe" (a server sends hello, snapshot, in-sync, deltas, ping, pong, goodbye)',
    ],
    [
      'server version too new',
      mutate('serverHello', (m) => {
        m.protocolVersion = 3;
      }),
      CloseCode.UnsupportedVersion,
      'unsupported protocol version 3 (this client speaks 1..1)',
    ],
    ['a client hello where a server hello belongs', SAMPLES.clientHello, M, 'malformed frame: hello.server must be a non-empty string'],
    [
      'empty datastoreId',
      mutate('serverHello', (m) => {
        m.datastoreId = '';
      }),
      M,
      'malformed frame: hello.datastoreId must be a non-empty string',
    ],
    [
      'bad mode',
      mutate('serverHello', (m) => {
        m.mode = 'full';
      }),
      M,
      'malformed frame: hello.mode must be "snapshot" or "resume"',
    ],
    [
      'hello revision a string',
      mutate('serverHello', (m) => {
        m.revision = '1042';
      }),
      M,
      'malformed frame: hello.revision must be a non-negative integer',
    ],
    [
      'hello features not an array',
      mutate('serverHello', (m) => {
        m.features = 'resume';
      }),
      M,
      'malformed frame: hello.features must be an array of strings',
    ],
    [
      'snapshot page negative',
      mutate('snapshotPage', (m) => {
        m.page = -1;
      }),
      M,
      'malformed frame: snapshot.page must be a non-negative integer',
    ],
    [
      'snapshot last not boolean',
      mutate('snapshotPage', (m) => {
        m.last = 1;
      }),
      M,
      'malformed frame: snapshot.last must be a boolean',
    ],
    [
      'snapshot updates not an array',
      mutate('snapshotPage', (m) => {
        m.updates = {};
      }),
      M,
      'malformed frame: snapshot.updates must be an array',
    ],
    [
      'snapshot revision missing',
      mutate('snapshotPage', (m) => {
        delete m.revision;
      }),
      M,
      'malformed frame: snapshot.revision must be a non-negative integer',
    ],
    ['in-sync revision unsafe', { type: 'in-sync', revision: 2 ** 53 }, M, 'malformed frame: in-sync.revision must be a non-negative integer'],
    [
      'update not a map',
      mutate('deltas', (m) => {
        m.updates[1] = 'x';
      }),
      M,
      'malformed frame: deltas.updates[1] must be a map',
    ],
    [
      'update kind empty',
      mutate('deltas', (m) => {
        m.updates[1].kind = '';
      }),
      M,
      'malformed frame: deltas.updates[1].kind must be a non-empty string',
    ],
    [
      'update name missing',
      mutate('deltas', (m) => {
        delete m.updates[0].name;
      }),
      M,
      'malformed frame: deltas.updates[0].name must be a non-empty string',
    ],
    [
      'update namespace a number',
      mutate('deltas', (m) => {
        m.updates[0].namespace = 1;
      }),
      M,
      'malformed frame: deltas.updates[0].namespace must be a non-empty string',
    ],
    [
      'update revision missing',
      mutate('snapshotPage', (m) => {
        delete m.updates[0].revision;
      }),
      M,
      'malformed frame: snapshot.updates[0].revision must be a non-negative integer',
    ],
    [
      'update value an array',
      mutate('snapshotPage', (m) => {
        m.updates[1].value = [];
      }),
      M,
      'malformed frame: snapshot.updates[1].value must be a map (or absent for a deletion)',
    ],
    [
      'labels with a number',
      mutate('snapshotPage', (m) => {
        m.updates[0].value.labels.replicas = 3;
      }),
      M,
      'malformed frame: snapshot.updates[0].value.labels must map strings to strings',
    ],
    [
      'spec a string',
      mutate('snapshotPage', (m) => {
        m.updates[1].value.spec = 'cidr';
      }),
      M,
      'malformed frame: snapshot.updates[1].value.spec must be a map',
    ],
    [
      'deltas revision negative',
      mutate('deltas', (m) => {
        m.revision = -5;
      }),
      M,
      'malformed frame: deltas.revision must be a non-negative integer',
    ],
    [
      'goodbye code out of range',
      mutate('goodbye', (m) => {
        m.code = 999;
      }),
      M,
      'malformed frame: goodbye.code must be an integer in 1000..4999',
    ],
    [
      'goodbye reason missing',
      mutate('goodbye', (m) => {
        delete m.reason;
      }),
      M,
      'malformed frame: goodbye.reason must be a string',
    ],
    [
      'goodbye reconnect http',
      mutate('goodbye', (m) => {
        m.reconnect = 'http://10.0.0.1:5473';
      }),
      M,
      'malformed frame: goodbye.reconnect must be a ws:// or wss:// URL',
    ],
    [
      'goodbye reconnect garbage',
      mutate('goodbye', (m) => {
        m.reconnect = 'typha-2';
      }),
      M,
      'malformed frame: goodbye.reconnect must be a ws:// or wss:// URL',
    ],
    [
      'goodbye delay negative',
      mutate('goodbye', (m) => {
        m.delayMs = -1;
      }),
      M,
      'malformed frame: goodbye.delayMs must be a non-negative integer',
    ],
    ['ping ts a string', { type: 'ping', ts: 'now' }, M, 'malformed frame: ping.ts must be a finite number'],
  ];
  for (const [name, value, code, reason] of cases) {
    it(`rejects ${name}`, () => expectError(() => parseServerMessage(value), code, reason));
  }

  it('turns null optional fields into absent ones (nil from other MessagePack writers)', () => {
    const m = mutate('deltas', (x) => {
      x.updates[0].value = null;
      x.updates[0].namespace = null;
      x.updates[1].value.labels = null;
    }) as { updates: Array<Record<string, any>> };
    parseServerMessage(m);
    assert.equal('value' in m.updates[0], false);
    assert.equal('namespace' in m.updates[0], false);
    assert.equal('labels' in m.updates[1].value, false);
    assert.deepEqual(m.updates[1].value.spec, (SAMPLES.deltas as any).updates[1].value.spec);
  });

  it('returns the same object it was given (validated in place)', () => {
    const m = structuredClone(SAMPLES.snapshotPage);
    assert.equal(parseServerMessage(m), m);
  });

  it('accepts a map with a null prototype', () => {
    const m = Object.assign(Object.create(null), { type: 'in-sync', revision: 3 });
    assert.equal(parseServerMessage(m), m);
  });
});

describe('parseUpdate', () => {
  it('names the given path', () => {
    expectError(() => parseUpdate({ kind: 'Node', name: 'n', revision: 'x' }, 'row 3'), M, 'malformed frame: row 3.revision must be a non-negative integer');
  });
});

describe('checkVersion', () => {
  it('returns a supported version and names the side and range otherwise', () => {
    assert.equal(checkVersion(1), 1);
    assert.throws(
      () => checkVersion(2, 'client'),
      (e: UnsupportedVersionError) => {
        assert.equal(e.code, 'TYPHA_UNSUPPORTED_VERSION');
        assert.deepEqual([e.version, e.min, e.max], [2, 1, 1]);
        assert.equal(e.reason, 'unsupported protocol version 2 (this client speaks 1..1)');
        return true;
      },
    );
    assert.equal(checkVersion(3, 'server', { min: 2, max: 4 }), 3);
    expectError(() => checkVersion(1, 'server', { min: 2, max: 4 }), CloseCode.UnsupportedVersion, 'unsupported protocol version 1 (this server speaks 2..4)');
  });
});

describe('truncateReason', () => {
  it('keeps short reasons and cuts long ones on a character boundary', () => {
    assert.equal(truncateReason('ok'), 'ok');
    const cut = truncateReason('€'.repeat(100));
    assert.ok(Buffer.byteLength(cut) <= 123);
    assert.equal(cut, `${'€'.repeat(40)}…`);
  });
});
