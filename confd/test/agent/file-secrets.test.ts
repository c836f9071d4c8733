import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSecretReader } from '../../src/index.js';

test('passwords are read from <dir>/<secret>/<key>, one trailing newline dropped', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctcd-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bgp-secrets'));
  writeFileSync(join(dir, 'bgp-secrets', 'tor'), 's3cret\n');
  writeFileSync(join(dir, 'bgp-secrets', 'raw'), 'two\n\n');
  const read = fileSecretReader(dir);
  assert.deepEqual(read({ name: 'bgp-secrets', key: 'tor' }), { value: 's3cret' });
  assert.deepEqual(read({ name: 'bgp-secrets', key: 'raw' }), { value: 'two\n' });
  const missing = read({ name: 'bgp-secrets', key: 'nope' });
  assert.ok('error' in missing && /ENOENT/.test(missing.error));
});

test('secret names and keys cannot walk out of the directory', () => {
  const read = fileSecretReader('/nonexistent');
  for (const ref of [
    { name: '..', key: 'passwd' },
    { name: 'a/b', key: 'k' },
    { name: 's', key: '../k' },
    { name: undefined, key: 'k' },
  ]) {
    const r = read(ref);
    assert.ok('error' in r && /plain names/.test(r.error), JSON.stringify(ref));
  }
});
