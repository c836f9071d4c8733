import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Writable } from 'node:stream';
import { CorruptValueError } from '@cattail/api';
import { createValidationStage } from '../../src/pipeline/validation-stage.js';
import type { KVUpdate } from '../../src/pipeline/sync-callbacks.js';
import { del, fakeClock, put, recordingLogger, recordingSink, res } from './helpers.js';

const pool = (name: string) => res('IPPool', name, { cidr: '10.0.0.0/16' });
const rejectAll = () => [{ path: 'spec.cidr', message: 'bad' }];

test('a valid batch is passed on as the same array', () => {
  const sink = recordingSink<KVUpdate>();
  const stage = createValidationStage(sink);
  const batch = [put(pool('a'), 5), del('IPPool', 'b', 6)];
  stage.onUpdates(batch, 6);
  assert.equal(sink.calls.length, 1);
  const call = sink.calls[0];
  assert.equal(call.type, 'updates');
  assert.equal(call.type === 'updates' && call.updates, batch);
  assert.equal(call.revision, 6);
  assert.equal(stage.stats().invalidUpdates, 0);
});

test('an invalid resource becomes a delete of its key and is counted', () => {
  const sink = recordingSink<KVUpdate>();
  const seen: string[] = [];
  const stage = createValidationStage(sink, {
    validate: (r) => (r.metadata.name === 'bad' ? rejectAll() : []),
    onInvalid: (u, reason) => seen.push(`${u.name}:${reason.type}`),
  });
  const good = put(pool('good'), 7);
  const bad = put(res('NetworkPolicy', 'bad', { selector: 'x' }, { namespace: 'ns1' }), 8);
  stage.onUpdates([good, bad], 8);
  const out = sink.updates();
  assert.equal(out.length, 2);
  assert.equal(out[0], good);
  assert.deepEqual(out[1], { key: bad.key, kind: 'NetworkPolicy', name: 'bad', namespace: 'ns1', revision: 8 });
  assert.deepEqual(stage.stats(), { invalidUpdates: 1, decodeErrors: 0 });
  assert.deepEqual(seen, ['bad:invalid']);
  // The input batch is not modified: other syncers' stages may share it.
  assert.equal(bad.resource?.metadata.name, 'bad');
});

test('the real validateResource is called (an unknown kind fails it)', () => {
  const sink = recordingSink<KVUpdate>();
  const stage = createValidationStage(sink);
  stage.onUpdates([put(res('Bogus', 'x', {}), 3)], 3);
  assert.equal(sink.updates()[0].resource, undefined);
  assert.equal(stage.stats().invalidUpdates, 1);
});

test('a value that failed to decode becomes a delete and counts as a decode error', () => {
  const sink = recordingSink<KVUpdate>();
  const stage = createValidationStage(sink);
  const u: KVUpdate = { key: '/calico/x', kind: 'IPPool', name: 'p', revision: 9, error: new CorruptValueError('/calico/x', 'value is not JSON') };
  stage.onUpdates([u], 9);
  assert.deepEqual(sink.updates(), [{ key: '/calico/x', kind: 'IPPool', name: 'p', revision: 9 }]);
  assert.deepEqual(stage.stats(), { invalidUpdates: 1, decodeErrors: 1 });
});

test('a resource whose kind disagrees with its key is invalid', () => {
  const sink = recordingSink<KVUpdate>();
  const stage = createValidationStage(sink, { validate: () => [] });
  const u = put(pool('a'), 4);
  u.kind = 'Profile';
  stage.onUpdates([u], 4);
  assert.equal(sink.updates()[0].resource, undefined);
  assert.equal(stage.stats().invalidUpdates, 1);
});

test('never throws: a throwing validator or hook counts as invalid', () => {
  const sink = recordingSink<KVUpdate>();
  const stage = createValidationStage(sink, {
    validate: () => {
      throw new Error('boom');
    },
    onInvalid: () => {
      throw new Error('hook');
    },
  });
  assert.doesNotThrow(() => stage.onUpdates([put(pool('a'), 2)], 2));
  assert.equal(sink.updates()[0].resource, undefined);
  assert.equal(stage.stats().invalidUpdates, 1);
});

test('logs are rate limited and report how many were suppressed', () => {
  const clock = fakeClock();
  const logger = recordingLogger();
  const stage = createValidationStage(recordingSink<KVUpdate>(), {
    validate: rejectAll,
    logger,
    clock,
    logsPerInterval: 3,
    logIntervalMs: 1_000,
  });
  const batch = Array.from({ length: 10 }, (_, i) => put(pool(`p${i}`), 100 + i));
  stage.onUpdates(batch, 109);
  assert.equal(stage.stats().invalidUpdates, 10);
  assert.equal(logger.lines.length, 3);
  assert.match(logger.lines[0].msg ?? '', /IPPool\(p0\): invalid value; passing it on as a delete/);
  assert.deepEqual(logger.lines[0].obj.issues, ['spec.cidr: bad']);
  clock.advance(1_000);
  stage.onUpdates([put(pool('late'), 200)], 200);
  assert.equal(logger.lines.length, 4);
  assert.equal(logger.lines[3].obj.suppressed, 7);
});

test('status passes through, and a pino logger plugs in', () => {
  const sink = recordingSink<KVUpdate>();
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const stage = createValidationStage(sink, { logger: pino({ level: 'warn' }, dest), validate: rejectAll });
  stage.onStatus('in-sync', 12);
  stage.onUpdates([put(pool('a'), 13)], 13);
  assert.deepEqual(sink.calls[0], { type: 'status', status: 'in-sync', revision: 12 });
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]).key, '/test/IPPool//a');
});
