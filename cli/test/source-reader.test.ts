import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { InputLimitError } from '../src/errors.js';
import { INPUT_LIMITS, type InputLimits } from '../src/input-limits.js';
import { readSources } from '../src/source-reader.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cattail-reader-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function limitError(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof InputLimitError, String(err));
    assert.match(err.message, pattern);
    assert.equal(err.exitCode, 1);
    return true;
  };
}

test('a file over the size limit is refused from its size, naming it, the size and the limit', async (t) => {
  const dir = await tempDir(t);
  // Sparse: 1 GiB on paper, nothing on disk. Reading it would take seconds and a GiB of memory.
  await writeFile(join(dir, 'huge.yaml'), '');
  await truncate(join(dir, 'huge.yaml'), 1024 ** 3);
  const started = performance.now();
  await assert.rejects(
    readSources('huge.yaml', { cwd: dir, stdin: '', recursive: false }),
    limitError(/^huge\.yaml: 1073741824 bytes, over the limit of 3 MiB \(3145728 bytes\) for one file or stdin; split it into several files in a directory$/),
  );
  assert.ok(performance.now() - started < 1000, 'refused without reading');

  // At the limit exactly is fine.
  await writeFile(join(dir, 'full.yaml'), 'a'.repeat(INPUT_LIMITS.sourceBytes));
  const [full] = await readSources('full.yaml', { cwd: dir, stdin: '', recursive: false });
  assert.equal(full.text.length, INPUT_LIMITS.sourceBytes);
});

test('stdin is read up to the limit and no further', async () => {
  let pulled = 0;
  const endless: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        pulled++;
        yield new Uint8Array(64 * 1024).fill(0x61);
      }
    },
  };
  await assert.rejects(
    readSources('-', { cwd: '/', stdin: endless, recursive: false }),
    limitError(/^<stdin>: more than 3145728 bytes, over the limit of 3 MiB \(3145728 bytes\) for one file or stdin;/),
  );
  assert.equal(pulled, INPUT_LIMITS.sourceBytes / (64 * 1024) + 1, 'one chunk past the limit, then it stops');

  const text = 'é'.repeat(1000); // 2,000 bytes of UTF-8
  const small: InputLimits = { ...INPUT_LIMITS, sourceBytes: 1999 };
  await assert.rejects(readSources('-', { cwd: '/', stdin: text, recursive: false, limits: small }), limitError(/^<stdin>: more than 1999 bytes/));
  const [ok] = await readSources('-', { cwd: '/', stdin: text, recursive: false, limits: { ...small, sourceBytes: 2000 } });
  assert.equal(ok.text, text);
});

test('the files of a directory are bounded together as well as one by one', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'm'));
  for (const name of ['a.yaml', 'b.yaml', 'c.yaml']) await writeFile(join(dir, 'm', name), 'x'.repeat(400));
  const limits: InputLimits = { ...INPUT_LIMITS, sourceBytes: 500, totalBytes: 1000 };
  await assert.rejects(
    readSources('m', { cwd: dir, stdin: '', recursive: false, limits }),
    limitError(/^m: the files add up to more than 1000 bytes at m\/c\.yaml, over the limit for one command; apply them in several runs$/),
  );
  const two = await readSources('m', { cwd: dir, stdin: '', recursive: false, limits: { ...limits, totalBytes: 1200 } });
  assert.deepEqual(
    two.map((s) => s.name),
    ['m/a.yaml', 'm/b.yaml', 'm/c.yaml'],
  );
  await assert.rejects(
    readSources('m', { cwd: dir, stdin: '', recursive: false, limits: { ...limits, sourceBytes: 399 } }),
    limitError(/^m\/a\.yaml: 400 bytes, over the limit of 399 bytes for one file/),
  );
});
