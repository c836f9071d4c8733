import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findK6, K6MissingError } from '../src/index.js';

test('a missing k6 is reported with how to install it', () => {
  assert.throws(
    () => findK6('/nonexistent/k6'),
    (err: unknown) => err instanceof K6MissingError && err.code === 'LOADTEST_K6_MISSING' && /go install go\.k6\.io\/k6@v1\.8\.1/.test(err.message),
  );
});
