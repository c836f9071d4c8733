import type { Codec } from '../../src/protocol/codec.js';
import type { Message, Update } from '../../src/protocol/messages.js';
import type { Scheduler } from '../../src/cache/delta-batcher.js';

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

export function fakeClock(start = 10_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** Timers that fire only when the test advances time. */
export function fakeScheduler(): Scheduler & { advance(ms: number): void; readonly pending: number } {
  let t = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout(fn, ms) {
      timers.set(++nextId, { at: t + ms, fn });
      return nextId;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms: number) {
      t += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= t) {
          timers.delete(id);
          timer.fn();
        }
      }
    },
    get pending() {
      return timers.size;
    },
  };
}

/** Name of an update for compact assertions: `name@revision` or `name@revision(deleted)`. */
export function brief(u: Update): string {
  return `${u.name}@${u.revision}${u.value === undefined ? '(deleted)' : ''}`;
}
