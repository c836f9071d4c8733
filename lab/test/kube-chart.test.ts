import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabUsageError, isFullyQualified, splitRef } from '../src/index.js';

test('image references: which ones the CRI resolves as they are, and repository/tag', () => {
  for (const ref of ['cattail.local/cattail/cattail:0.1.0', 'localhost/x:1', 'registry:5000/x:1', 'my.registry.example/team/app:2']) {
    assert.ok(isFullyQualified(ref), ref);
  }
  for (const ref of ['cattail/cattail:0.1.0', 'busybox:1', 'team/app:2']) assert.ok(!isFullyQualified(ref), ref);
  assert.deepEqual(splitRef('cattail.local/cattail/cattail:0.1.0'), { repository: 'cattail.local/cattail/cattail', tag: '0.1.0' });
  assert.deepEqual(splitRef('registry:5000/x:1'), { repository: 'registry:5000/x', tag: '1' });
  assert.throws(() => splitRef('registry:5000/x'), LabUsageError);
  assert.throws(() => splitRef('cattail/cattail'), /has no tag/);
});
