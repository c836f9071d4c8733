/**
 * The real binary against a real etcd, fed input over each of the limits of input-limits.ts:
 * every one is refused in one line naming the file, the document, the limit and the value, exit
 * 1, and etcd is left exactly as it was (its revision does not move), although each file also
 * holds a valid resource before the bad part.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCattail, type CattailResult } from './cattail-process.js';
import { cliEtcdFixture } from './etcd-fixture.js';

const fx = cliEtcdFixture();

const GOOD = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: limits-good
spec:
  cidr: 10.70.0.0/16
`;

function pool(name: string, extra = ''): string {
  return `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\n${extra}spec:\n  cidr: 10.71.0.0/16\n`;
}

/** Applies `text` (as a file, or on stdin for `-`) and checks the refusal and that etcd did not move. */
async function refused(name: string, text: string, firstLine: RegExp): Promise<CattailResult> {
  const before = await fx.revision();
  const viaStdin = name === '-';
  if (!viaStdin) await writeFile(join(fx.dir, name), text);
  const r = await runCattail(['apply', '-f', name], { cwd: fx.dir, env: fx.env() }, viaStdin ? text : '');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], firstLine);
  assert.equal(lines[1], 'Failed to apply resources: 1 problem(s) in the input; nothing was written');
  assert.equal(await fx.revision(), before, 'nothing was written to etcd');
  return r;
}

test('a document with 200,000 label keys is refused at the 10,001st key, in bounded time', async () => {
  const labels = Array.from({ length: 200_000 }, (_, i) => `    k${i}: v\n`).join('');
  const r = await refused(
    'labels.yaml',
    `${GOOD}---\n${pool('labels', `  labels:\n${labels}`)}`,
    /^labels\.yaml: document 2: line 10013, column 5: a mapping with more than 10000 keys, over the limit per mapping$/,
  );
  // Before the limit this did not finish in 60 s (the parser's O(n²) duplicate-key check).
  assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
});

test('nesting deeper than 100 levels is refused', async () => {
  await refused(
    'deep.json',
    `${JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'deep' } }).slice(0, -1)}, "spec": ${'['.repeat(200)}${']'.repeat(200)}}`,
    /^deep\.json: document 1: line 1, column \d+: nested more than 100 levels deep, over the limit$/,
  );
});

test('more than 10,000 documents in one file are refused', async () => {
  await refused(
    'many.yaml',
    `${GOOD}${'---\n'.repeat(10_000)}`,
    /^many\.yaml: document 10001: more than 10000 documents in one file \(each List item counts as one\), over the limit; split the file$/,
  );
});

test('more than 500,000 values in one file are refused where the count passes the limit', async () => {
  await refused(
    'values.yaml',
    `${GOOD}---\n${pool('values', '  annotations: {}\n')}  ports: [${'1,'.repeat(500_000)}1]\n`,
    /^values\.yaml: document 2: line 15, column \d+: more than 500000 values in one file, over the limit; split the file$/,
  );
});

test('more than 100 aliases, and aliases that expand past 3 MiB, are refused', async () => {
  const aliases = Array.from({ length: 101 }, (_, i) => `    k${i}: *v\n`).join('');
  await refused(
    'aliases.yaml',
    `${GOOD}---\n${pool('aliases', `  annotations:\n    base: &v x\n${aliases}`)}`,
    /^aliases\.yaml: document 2: line 114, column 11: 101 aliases in one document, over the limit of 100$/,
  );
  const laughs = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  await refused(
    'laughs.yaml',
    `${GOOD}---\n${laughs.join('\n')}\n`,
    /^laughs\.yaml: document 2: aliases expand the document to about \d{10} bytes of JSON, over the limit of 3145728 for one document$/,
  );
});

test('stdin past 3 MiB and a resource etcd would refuse are refused', async () => {
  await refused(
    '-',
    `${GOOD}# ${'x'.repeat(3 * 1024 * 1024)}\n`,
    /^<stdin>: more than 3145728 bytes, over the limit of 3 MiB \(3145728 bytes\) for one file or stdin; split it into several files in a directory$/,
  );
  const nets = Array.from({ length: 70_000 }, (_, i) => `    - 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32\n`).join('');
  await refused(
    'netset.yaml',
    `${GOOD}---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: huge\nspec:\n  nets:\n${nets}`,
    /^netset\.yaml: document 2: GlobalNetworkSet\(huge\): \d{7} bytes as stored, over the limit of 1 MiB \(1048576 bytes\) for one resource$/,
  );
});
