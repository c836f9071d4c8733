// The shim ↔ daemon wire: requests decode or fail with CNI error 6 saying why; answers round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAnswer, decodeRequest, encodeAnswer, encodeRequest, MAX_REQUEST_BYTES } from '../src/daemon-protocol.js';
import { CniError } from '../src/errors.js';

function refused(bytes: string | Buffer, pattern: RegExp): void {
  assert.throws(
    () => decodeRequest(typeof bytes === 'string' ? Buffer.from(bytes) : bytes),
    (err: unknown) => err instanceof CniError && err.code === 6 && pattern.test(err.message),
  );
}

test('a request round-trips', () => {
  const req = { env: { CNI_COMMAND: 'ADD', CNI_NETNS: '/var/run/netns/p' }, stdin: '{"cniVersion":"1.0.0"}' };
  assert.deepEqual(decodeRequest(Buffer.from(encodeRequest(req))), req);
});

test('bad requests are CNI error 6 naming the problem', () => {
  refused('{"env":', /not JSON/);
  refused('[1]', /not a JSON object/);
  refused('{"env":{}}', /no "stdin" string/);
  refused('{"stdin":""}', /no "env" object/);
  refused('{"env":{"CNI_COMMAND":1},"stdin":""}', /env\.CNI_COMMAND is not a string/);
  refused(Buffer.alloc(MAX_REQUEST_BYTES + 1, 32), /larger than 1048576 bytes/);
});

test('answers: the plugin output, or fallback', () => {
  assert.deepEqual(decodeAnswer(encodeAnswer({ stdout: '{}\n', exitCode: 0 })), { stdout: '{}\n', exitCode: 0 });
  assert.deepEqual(decodeAnswer(encodeAnswer({ fallback: 'no netns' })), { fallback: 'no netns' });
  assert.ok(encodeAnswer({ fallback: 'x' }).endsWith('\n'));
  assert.throws(() => decodeAnswer('{"exitCode":0}'), /not a CNI daemon answer/);
});
