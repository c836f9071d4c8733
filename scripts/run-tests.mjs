#!/usr/bin/env node
// Runs every compiled test file with node's test runner. A dist file whose TypeScript source no
// longer exists is ignored, so a stale build cannot run deleted tests.
//   node scripts/run-tests.mjs            all tests
//   node scripts/run-tests.mjs --unit     skip test/integration/
//   node scripts/run-tests.mjs PATTERN    only files whose path contains PATTERN
// A whole run (no PATTERN) also runs the linter and the formatter check, uncached: a type-aware
// rule's finding in one file can change with an edit to another, which eslint's cache misses.
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
// The lab's end-to-end tests each run a whole cluster (etcd, two Typhas, Felix, confd and BIRD
// per node) and assert timings such as "a policy is enforced within 2 s"; the CNI plugin's run
// dozens of plugin processes at once. Next to other integration tests on two cores they would
// measure the machine, and slow the tests that assert their own deadlines. They run after the
// rest, one file at a time. So do Typha's fault tests (two Typha processes, etcd restarts and
// 50 clients, with convergence deadlines), and Felix's end-to-end test (a policy enforced within
// 2 s of the write, through etcd, Typha and Felix).
const ALONE = /\/(lab|cni)\/dist\/test\/integration\/|\/typha\/dist\/test\/integration\/fault-|\/felix\/dist\/test\/integration\/felix-e2e/;
const phases = [
  { files: files.filter((f) => !ALONE.test(`/${f}`)), concurrency: 3 },
  { files: files.filter((f) => ALONE.test(`/${f}`)), concurrency: 1 },
].filter((ph) => ph.files.length > 0);

// Spec output for people, TAP to a file for the closing summary line.
const tmp = mkdtempSync(join(tmpdir(), 'cattail-tests-'));
const totals = { pass: 0, failed: 0, skipped: 0 };
let status = 0;
for (const [i, phase] of phases.entries()) {
  const tapFile = join(tmp, `results-${i}.tap`);
  const res = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-concurrency=${phase.concurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...phase.files,
    ],
    { stdio: 'inherit', cwd: root },
  );
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  totals.pass += count('pass');
  totals.failed += count('fail') + count('cancelled');
  totals.skipped += count('skipped') + count('todo');
  if (res.status !== 0) status = res.status || 1;
}
if (filters.length === 0) {
  for (const [name, cmd] of [
    ['eslint', ['eslint', '.']],
    ['prettier', ['prettier', '--check', '--log-level', 'warn', '.']],
  ]) {
    console.log(`\n# ${name}`);
    const res = spawnSync('npx', ['--no-install', ...cmd], { stdio: 'inherit', cwd: root });
    if (res.status === 0) console.log(`${name}: clean`);
    else {
      console.log(`${name}: FAILED (npm run lint:fix mends what it can)`);
      status = res.status || 1;
    }
  }
}
console.log(`\n${files.length} test files`);
console.log(`${totals.pass} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(status === 0 && totals.failed === 0 ? 0 : status || 1);
