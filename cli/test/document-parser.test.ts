import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseDocuments, type ParsedDocument } from '../src/document-parser.js';
import { InterruptedError } from '../src/errors.js';
import { INPUT_LIMITS, type InputLimits } from '../src/input-limits.js';
import { Pacer } from '../src/pacer.js';

/** Small limits, so each case is a few lines long; the real ones are tested end to end. */
const SMALL: InputLimits = { ...INPUT_LIMITS, documents: 3, depth: 4, keysPerMapping: 5, aliasesPerDocument: 2, sourceBytes: 2000 };

function parse(text: string, limits: InputLimits = SMALL): Promise<ParsedDocument[]> {
  return parseDocuments({ name: 'in.yaml', text }, limits, new Pacer(undefined));
}

function problemsOf(docs: readonly ParsedDocument[]): string[] {
  return docs.flatMap((d) => ('problems' in d ? d.problems : []));
}

function valuesOf(docs: readonly ParsedDocument[]): unknown[] {
  return docs.flatMap((d) => ('value' in d ? [d.value] : []));
}

function mapping(keys: number, indent = ''): string {
  return Array.from({ length: keys }, (_, i) => `${indent}k${i}: v${i}\n`).join('');
}

test('documents become values in order, empty ones null, each numbered from 1', async () => {
  const docs = await parse('a: 1\n---\n---\n[x, {y: 2}]\n');
  assert.deepEqual(
    docs.map((d) => d.origin),
    ['in.yaml: document 1', 'in.yaml: document 2', 'in.yaml: document 3'],
  );
  assert.deepEqual(valuesOf(docs), [{ a: 1 }, null, ['x', { y: 2 }]]);
});

test("a repeated key is the library's error, at the library's position", async () => {
  const cases = ['a: 1\nb: 2\na: 3\n', 'top:\n  x: 1\n  y: 2\n  "x": 3\n', '{a: 1, b: 2, a: 3}\n', 'list:\n  - {p: 1}\n  - p: 1\n    q: 2\n    p: 3\n'];
  for (const text of cases) {
    const lib = parseAllDocuments(text, { uniqueKeys: true })[0].errors.map((e) => `line ${e.linePos![0].line}, column ${e.linePos![0].col}`);
    assert.equal(lib.length, 1, text);
    assert.deepEqual(problemsOf(await parse(text)), [`in.yaml: document 1: ${lib[0]}: Map keys must be unique`], text);
  }
  // Equal values of different types are different keys, as in the library.
  assert.deepEqual(valuesOf(await parse('1: a\n"1": b\n')), [{ 1: 'b' }]);
  assert.deepEqual(problemsOf(await parse('1: a\n"1": b\n')), []);
});

test('syntax errors and repeated keys of one document are reported together, in file order', async () => {
  const problems = problemsOf(await parse('a: 1\na: 2\nb: [unclosed\n'));
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0], /^in\.yaml: document 1: line 2, column 1: Map keys must be unique$/);
  assert.match(problems[1], /^in\.yaml: document 1: line \d+, column \d+: \S/);
});

test('a mapping may have as many keys as the limit, and the key past it stops the file there', async () => {
  assert.deepEqual(problemsOf(await parse(mapping(5))), []);
  // Comments and blank lines between keys are not keys.
  assert.deepEqual(problemsOf(await parse(`# head\n${mapping(5).replace(/\n/g, '\n# c\n\n')}# tail\n`)), []);
  assert.deepEqual(problemsOf(await parse(`{${Array.from({ length: 5 }, (_, i) => `k${i}: 1`).join(', ')}}`)), []);

  const over = await parse(`${mapping(6)}---\nnext: 1\n`);
  assert.deepEqual(problemsOf(over), ['in.yaml: document 1: line 6, column 1: a mapping with more than 5 keys, over the limit per mapping']);
  assert.equal(over.length, 1, 'the documents after it are not read');
  const nested = await parse(`a: 1\n---\nmetadata:\n  labels:\n${mapping(7, '    ')}`);
  assert.deepEqual(problemsOf(nested), ['in.yaml: document 2: line 10, column 5: a mapping with more than 5 keys, over the limit per mapping']);
  const flow = await parse(`x: {${Array.from({ length: 6 }, (_, i) => `k${i}: 1`).join(', ')}}`);
  assert.match(problemsOf(flow)[0], /^in\.yaml: document 1: line 1, column \d+: a mapping with more than 5 keys/);
  // Sequences are bounded by the size of the file, not by this limit.
  assert.deepEqual(problemsOf(await parse(`- 1\n`.repeat(50))), []);
});

test('nesting as deep as the limit parses; one level more stops the file', async () => {
  assert.deepEqual(valuesOf(await parse('a:\n  b:\n    c:\n      d: 1\n')), [{ a: { b: { c: { d: 1 } } } }]);
  assert.deepEqual(valuesOf(await parse('[[[[1]]]]')), [[[[[1]]]]]);
  assert.deepEqual(problemsOf(await parse('a:\n  b:\n    c:\n      d:\n        e: 1\n')), [
    'in.yaml: document 1: line 5, column 9: nested more than 4 levels deep, over the limit',
  ]);
  assert.deepEqual(problemsOf(await parse('x: 1\n---\n[[[[[1]]]]]\n---\ny: 2\n')), [
    'in.yaml: document 2: line 3, column 5: nested more than 4 levels deep, over the limit',
  ]);
  assert.deepEqual(problemsOf(await parse('- - - - - x\n')), ['in.yaml: document 1: line 1, column 9: nested more than 4 levels deep, over the limit']);
});

test('the real depth limit stops input the YAML library would overflow its stack on', async () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.deepEqual(problemsOf(await parse(deep, { ...INPUT_LIMITS })), [
    `in.yaml: document 1: line 1, column ${INPUT_LIMITS.depth + 1}: nested more than ${INPUT_LIMITS.depth} levels deep, over the limit`,
  ]);
});

test('documents up to the limit parse; the one past it stops the file', async () => {
  assert.equal((await parse('a: 1\n---\nb: 2\n---\nc: 3\n')).length, 3);
  const over = await parse('---\n---\n---\n---\n---\n');
  assert.deepEqual(problemsOf(over), ['in.yaml: document 4: more than 3 documents in one file (each List item counts as one), over the limit; split the file']);
});

test('values up to the limit parse, counted across the documents of a file; the one past it stops the file', async () => {
  const limits = { ...SMALL, valuesPerSource: 10 };
  // Keys, plain, quoted and block scalars, and aliases are values; a block scalar is one.
  const ten = 'a: &x 1\nb: "two"\nc: |\n  three\nd: *x\n---\ne: [\'4\']\n';
  assert.deepEqual(problemsOf(await parse(ten, limits)), []);
  assert.deepEqual(problemsOf(await parse(`${ten}---\n[1, 2, 3]\n`, limits)), [
    'in.yaml: document 3: line 9, column 2: more than 10 values in one file, over the limit; split the file',
  ]);
});

test('aliases resolve to shared values; more than the limit in one document is refused', async () => {
  assert.deepEqual(valuesOf(await parse('base: &b {x: 1}\none: *b\ntwo: *b\n')), [{ base: { x: 1 }, one: { x: 1 }, two: { x: 1 } }]);
  assert.deepEqual(problemsOf(await parse('base: &b 1\none: *b\ntwo: *b\nthree: *b\n')), [
    'in.yaml: document 1: line 4, column 8: 3 aliases in one document, over the limit of 2',
  ]);
  // Per document: the next one starts from zero.
  assert.deepEqual(problemsOf(await parse('a: &b 1\nc: *b\n---\na: &b 1\nc: *b\n')), []);
});

test('aliases that expand past the size limit (billion laughs) or into themselves are refused', async () => {
  const laughs = 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n';
  const limits = { ...SMALL, aliasesPerDocument: 100 };
  assert.deepEqual(problemsOf(await parse(laughs, limits)), []);
  const more = `${laughs}c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n`;
  // The size reported is the JSON's, when nothing in it needs escaping.
  const bytes = JSON.stringify(valuesOf(await parse(more, { ...limits, sourceBytes: 1e6 }))[0]).length;
  assert.deepEqual(problemsOf(await parse(more, limits)), [
    `in.yaml: document 1: aliases expand the document to about ${bytes} bytes of JSON, over the limit of 2000 for one document`,
  ]);
  assert.deepEqual(problemsOf(await parse('a: &x [1, *x]\n', limits)), [
    'in.yaml: document 1: an alias refers to a node that contains it, so the document never ends',
  ]);
  assert.deepEqual(problemsOf(await parse('a: &x [1]\nb: &y [*x, [*x]]\nc: [*y, [*y]]\n', { ...limits, depth: 5 })), [
    'in.yaml: document 1: aliases nest the document 6 levels deep, over the limit of 5',
  ]);
});

test("a signal stops parsing at the next pause with the signal's exit code", async () => {
  const controller = new AbortController();
  const text = mapping(5).concat('---\n').repeat(2000);
  setImmediate(() => controller.abort('SIGTERM'));
  await assert.rejects(
    parseDocuments({ name: 'in.yaml', text }, { ...SMALL, documents: 10_000 }, new Pacer(controller.signal, { sliceMs: 0 })),
    (err: unknown) => err instanceof InterruptedError && err.exitCode === 143,
  );
});

/**
 * CPU time of one call of `fn`, in ms: this process's own work, which other processes on a
 * shared machine do not stretch the way they stretch wall time.
 */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

test('parse time grows linearly with the keys of a mapping, and a huge mapping is refused at the limit', async () => {
  const doc = (keys: number): string => `metadata:\n  labels:\n${mapping(keys, '    ')}`;
  const small = doc(500);
  const large = doc(10_000); // 20x the keys, at the real limit
  const run = (text: string) => () => parseDocuments({ name: 'in.yaml', text }, INPUT_LIMITS, new Pacer(undefined));
  await run(large)(); // warm up the JIT on the same code paths
  await run(small)();
  // Interleaved, best of seven.
  let tSmall = Infinity;
  let tLarge = Infinity;
  for (let i = 0; i < 7; i++) {
    tSmall = Math.min(tSmall, await timed(run(small)));
    tLarge = Math.min(tLarge, await timed(run(large)));
  }
  // Linear is 20x (19-22x measured quiet, CPU time; 35x once with both cores busy). With the
  // library's duplicate-key check: 46-58x quiet. The bound sits between the two.
  assert.ok(tLarge / tSmall < 42, `500 keys: ${tSmall.toFixed(1)} ms, 10,000 keys: ${tLarge.toFixed(1)} ms (CPU)`);

  let problems: string[] = [];
  const tHuge = await timed(async () => {
    problems = problemsOf(await run(doc(200_000))());
  });
  assert.deepEqual(problems, [`in.yaml: document 1: line 10003, column 5: a mapping with more than 10000 keys, over the limit per mapping`]);
  // It stops at the 10,001st key: no dearer than parsing a mapping at the limit.
  assert.ok(tHuge < 3 * tLarge + 50, `10,000 keys: ${tLarge.toFixed(1)} ms, refusing 200,000: ${tHuge.toFixed(1)} ms`);
});
