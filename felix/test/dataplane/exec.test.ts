import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataplaneCommandError } from '../../src/dataplane/errors.js';
import { inNetns, processExec, type Exec } from '../../src/dataplane/exec.js';

test('processExec passes stdin and returns stdout, with an argument array (no shell)', async () => {
  const exec = processExec();
  const { stdout } = await exec(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)', '$(not a shell)'], 'nft text\n');
  assert.equal(stdout, 'nft text\n');
});

test('a failing command rejects with a DataplaneCommandError carrying argv and stderr', async () => {
  const exec = processExec();
  const err = await exec(process.execPath, ['-e', 'process.stderr.write("Error: bad thing"); process.exit(3)']).then(
    () => assert.fail('should have rejected'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DataplaneCommandError);
  assert.equal(err.code, 'FELIX_DATAPLANE_COMMAND');
  assert.equal(err.stderr, 'Error: bad thing');
  assert.equal(err.argv[0], process.execPath);
  assert.match(err.message, /failed: Error: bad thing/);
  assert.ok(err.cause instanceof Error);
});

test('inNetns prefixes every command with ip netns exec', async () => {
  const seen: string[][] = [];
  const fake: Exec = async (file, args) => {
    seen.push([file, ...args]);
    return { stdout: '', stderr: '' };
  };
  await inNetns(fake, 'cfx-x')('nft', ['-f', '-'], 'x');
  assert.deepEqual(seen, [['ip', 'netns', 'exec', 'cfx-x', 'nft', '-f', '-']]);
});
