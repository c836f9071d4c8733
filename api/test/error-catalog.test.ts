// The error catalog: every stable code of every package is listed once, with one line saying
// what it means, and docs/ERRORS.md is that table. (That a class raises only listed codes is
// checked by the compiler: each package's error base is typed by its row.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG, renderErrorCatalog } from '../src/error-catalog.js';

const root = new URL('../../../', import.meta.url).pathname;

test('every code is unique across packages and has a one-line meaning', () => {
  const owner = new Map<string, string>();
  for (const [pkg, codes] of Object.entries(ERROR_CATALOG)) {
    for (const [code, meaning] of Object.entries(codes)) {
      assert.equal(owner.get(code), undefined, `${code} is listed by both ${owner.get(code)} and ${pkg}`);
      owner.set(code, pkg);
      assert.match(code, pkg === 'cni' ? /^[0-9]+$/ : /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/, `${pkg}: ${code}`);
      assert.ok(meaning.trim().length > 0 && !meaning.includes('\n'), `${code}: one line, not empty`);
    }
  }
  assert.ok(owner.size > 80, `only ${owner.size} codes`);
});

test('docs/ERRORS.md is the catalog rendered (node scripts/error-catalog.mjs writes it)', () => {
  assert.equal(readFileSync(join(root, 'docs/ERRORS.md'), 'utf8'), renderErrorCatalog());
});

test('every listed code is raised somewhere: the catalog keeps no retired code', () => {
  const packages = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces as string[];
  let source = '';
  for (const pkg of packages) source += readSources(join(root, pkg, 'src'));
  for (const [pkg, codes] of Object.entries(ERROR_CATALOG)) {
    if (pkg === 'cni') continue; // the integers are raised through CNI_ERR's names
    for (const code of Object.keys(codes)) assert.ok(source.includes(`'${code}'`), `${pkg}: ${code} is listed but raised nowhere`);
  }
});

function readSources(dir: string): string {
  if (!existsSync(dir)) return '';
  let text = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) text += readSources(p);
    else if (name.endsWith('.ts') && name !== 'error-catalog.ts') text += readFileSync(p, 'utf8');
  }
  return text;
}
