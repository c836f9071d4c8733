// The bundle loader in real Node processes: the first run compiles and writes V8's code cache at
// exit, the next one is compiled from it, and a changed bundle's stale cache is rejected and
// rewritten; a cache that cannot be written only means none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOADER = fileURLToPath(new URL('../src/bundle-loader.js', import.meta.url));

function run(bundle: string, cachePath?: string): { cache: string; answer: unknown } {
  const script = `import { loadBundle } from ${JSON.stringify(LOADER)};
const r = loadBundle(${JSON.stringify(bundle)}${cachePath ? `, { cachePath: ${JSON.stringify(cachePath)} }` : ''});
process.stdout.write(JSON.stringify({ cache: r.cache, answer: r.exports.main(require_ok()) }));
function require_ok() { return typeof r.exports.req === 'function'; }`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { cache: string; answer: unknown };
}

test('miss, then hit from the cache written at exit; a changed bundle rejects the stale cache and rewrites it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cattail-bundle-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'b.cjs');
  writeFileSync(bundle, "const os = require('node:os'); exports.req = require; exports.main = (ok) => ({ ok, dir: __dirname, platform: os.platform() });\n");
  const first = run(bundle);
  assert.equal(first.cache, 'miss');
  assert.deepEqual(first.answer, { ok: true, dir, platform: process.platform }, 'require, __dirname and exports work as in a CommonJS module');
  assert.ok(existsSync(`${bundle}.cache`), 'the cache is written at exit');
  assert.equal(run(bundle).cache, 'hit');
  writeFileSync(bundle, "exports.main = () => 'changed, and longer than before, so V8 cannot take the old cache';\n");
  const changed = run(bundle);
  assert.deepEqual(changed, { cache: 'rejected', answer: 'changed, and longer than before, so V8 cannot take the old cache' });
  assert.equal(run(bundle).cache, 'hit', 'the rejected cache was rewritten');
});

test('a cache directory that cannot be written: the bundle still runs, every time without a cache', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cattail-bundle-test-'));
  const ro = join(dir, 'ro');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'b.cjs');
  writeFileSync(bundle, 'exports.main = () => 7;\n');
  execFileSync('mkdir', [ro]);
  writeFileSync(join(ro, 'cache'), ''); // a file where the cache's directory should be
  chmodSync(ro, 0o500);
  const cachePath = join(ro, 'cache', 'b.cjs.cache');
  assert.deepEqual(run(bundle, cachePath), { cache: 'miss', answer: 7 });
  assert.deepEqual(run(bundle, cachePath), { cache: 'miss', answer: 7 });
});
