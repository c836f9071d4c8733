import type { Codec } from '../../src/protocol/codec.js';
import type { Message, Update } from '../../src/protocol/messages.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

/** A JSON codec that counts its encodes; `name` lets a test have two "codecs". */
export interface CountingCodec extends Codec {
  encodes: number;
  messages: Message[];
}

export function testCodec(name: Codec['name'] = 'json'): CountingCodec {
  const codec: CountingCodec = {
    name,
    subprotocol: `test.${name}`,
    binary: name === 'msgpack',
    encodes: 0,
    messages: [],
    encode(msg: Message): Buffer {
      codec.encodes++;
      codec.messages.push(msg);
      return Buffer.from(`${name}:${JSON.stringify(msg)}`);
    },
    decode(frame: Buffer): unknown {
      const text = frame.toString('utf8');
      return JSON.parse(text.slice(text.indexOf(':') + 1));
    },
  };
  return codec;
}

export function upd(name: string, revision: number, spec?: Record<string, unknown>, kind = 'WorkloadEndpoint', namespace: string | undefined = 'ns'): Update {
  const u: Update = { kind, name, revision };
  if (namespace) u.namespace = namespace;
  if (spec !== undefined) u.value = { spec };
  return u;
}

/** The cache's clock in these tests: the shared FakeClock, started at 10 s. */
export function fakeClock(start = 10_000): FakeClock {
  return new FakeClock(start);
}

/** The batcher's window timers, on their own FakeClock (they fire only when the test advances it). */
export function fakeScheduler(): FakeClock {
  return new FakeClock();
}

/** Name of an update for compact assertions: `name@revision` or `name@revision(deleted)`. */
export function brief(u: Update): string {
  return `${u.name}@${u.revision}${u.value === undefined ? '(deleted)' : ''}`;
}
