// Assertions shared by the conversion tests: a converted resource is exactly the expected one
// and passes @cattail/api's full check (strict decoding, defaults, validation), as a document
// applied by the CLI would.
import assert from 'node:assert/strict';
import { checkResource, type Resource } from '@cattail/api';
import type { kdd } from '../../src/index.js';

export function assertConverted(result: kdd.ConversionResult, expected: Resource, warnings: readonly string[] = []): Resource {
  assert.equal(result.outcome, 'converted', JSON.stringify(result));
  if (result.outcome !== 'converted') throw new Error('unreachable');
  assert.deepEqual(result.resource, expected);
  assert.deepEqual(result.warnings, warnings);
  const checked = checkResource(structuredClone(result.resource));
  assert.ok(checked.ok, JSON.stringify(checked));
  return result.resource;
}

export function assertSkipped(result: kdd.ConversionResult, skip: kdd.SkipReason): void {
  assert.equal(result.outcome, 'skipped', JSON.stringify(result));
  if (result.outcome === 'skipped') assert.equal(result.skip, skip);
}

export function assertFailed(result: kdd.ConversionResult, pattern: RegExp): void {
  assert.equal(result.outcome, 'failed', JSON.stringify(result));
  if (result.outcome === 'failed') assert.match(result.error, pattern);
}
