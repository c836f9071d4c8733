#!/usr/bin/env node
// Runs every compiled test file with node's test runner. A dist file whose TypeScript source no
// longer exists is ignored, so a stale build cannot run deleted tests.
//   node scripts/run-tests.mjs            all tests
//   node scripts/run-tests.mjs --unit     skip test/integration/
//   node scripts/run-tests.mjs PATTERN    only files whose path contains PATTERN
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

const packages = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = [];
for (const pkg of packages) {
  for (const f of walk(join(root, pkg, 'dist', 'test'), [])) {
    const rel = relative(join(root, pkg, 'dist'), f); // test/.../x.test.js
    if (!existsSync(join(root, pkg, rel.replace(/\.js$/, '.ts')))) continue;
    if (unitOnly && rel.includes('/integration/')) continue;
    if (filters.length && !filters.some((flt) => f.includes(flt))) continue;
    files.push(relative(root, f));
  }
}
if (files.length === 0) {
  console.error('no test files found: did the build run? (npx tsc -b)');
  process.exit(1);
}
// Spec output for people, TAP to a file for the closing summary line.
const tapFile = join(mkdtempSync(join(tmpdir(), 'cattail-tests-')), 'results.tap');
const res = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=3',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
const failed = count('fail') + count('cancelled');
console.log(`\n${files.length} test files`);
console.log(`${count('pass')} passed, ${failed} failed, ${count('skipped') + count('todo')} skipped`);
process.exit(res.status === 0 && failed === 0 ? 0 : res.status || 1);
