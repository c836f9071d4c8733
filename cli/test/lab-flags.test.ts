// `cattail lab up`'s flag checks for the kubernetes engine: a bad value is a usage error before
// anything is made (no state dir appears).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliHarness } from './cli-harness.js';

for (const [flags, message] of [
  [['--engine', 'docker'], /--engine must be netns or kubernetes, got "docker"/],
  [['--engine', 'kubernetes', '--cni', 'flannel'], /--cni must be bridge or none, got "flannel"/],
  [['--engine', 'kubernetes', '--datastore', 'etcdv3'], /--datastore must be kubernetes or left out/],
  [['--engine', 'kubernetes', '--mode', 'ipip'], /--mode must be bgp or vxlan, got "ipip"/],
] as const) {
  test(`lab up ${flags.join(' ')}: a usage error, nothing made`, async (t) => {
    const h = await CliHarness.create(t);
    const parent = mkdtempSync(join(tmpdir(), 'cattail-lab-flags-'));
    t.after(() => rmSync(parent, { recursive: true, force: true }));
    const dir = join(parent, 'lab');
    const r = await h.run(['lab', 'up', ...flags, '--name', 'flags', '--dir', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, message);
    assert.equal(existsSync(dir), false);
  });
}
