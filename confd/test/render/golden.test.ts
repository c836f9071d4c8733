// Golden files: each scenario's rendering is compared byte for byte with
// test/fixtures/golden/<name>.conf, and every golden file must pass the real `bird -p`.
// Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BgpModelStore, renderBirdConfig } from '../../src/index.js';
import { bgpUpdates } from '../helpers/resources.js';
import { requireBinary } from '../helpers/binaries.js';
import { SCENARIOS, secretsFrom } from './scenarios.js';

const run = promisify(execFile);
// dist/test/render → the source tree's test/fixtures/golden
const GOLDEN = fileURLToPath(new URL('../../../test/fixtures/golden/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

for (const sc of SCENARIOS) {
  test(`golden: ${sc.name}`, async (t) => {
    const store = new BgpModelStore();
    store.apply(bgpUpdates(sc.resources));
    const r = renderBirdConfig(store.model(), sc.node, secretsFrom(sc.secrets));
    assert.deepEqual(r.problems, []);
    const file = join(GOLDEN, `${sc.name}.conf`);
    if (UPDATE) writeFileSync(file, r.text);
    assert.equal(r.text, readFileSync(file, 'utf8'), `${sc.name}: rendering differs from ${file} (UPDATE_GOLDEN=1 to regenerate)`);

    const bird = requireBinary('bird');
    const dir = mkdtempSync(join(tmpdir(), 'ctcd-golden-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const copy = join(dir, 'bird.conf');
    writeFileSync(copy, r.text);
    await run(bird, ['-p', '-c', copy]).catch((err: { stderr?: string }) => {
      assert.fail(`bird -p rejected golden ${sc.name}: ${err.stderr ?? String(err)}`);
    });
  });
}

test('rendering is deterministic: the order updates arrive in does not change the text', () => {
  for (const sc of SCENARIOS) {
    const forward = new BgpModelStore();
    forward.apply(bgpUpdates(sc.resources));
    const backward = new BgpModelStore();
    backward.apply(bgpUpdates([...sc.resources].reverse()));
    const secrets = secretsFrom(sc.secrets);
    assert.equal(renderBirdConfig(backward.model(), sc.node, secrets).text, renderBirdConfig(forward.model(), sc.node, secrets).text, sc.name);
  }
});
