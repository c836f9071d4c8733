// The daemon's socket path at start: nothing there, or a socket a dead daemon left (nobody
// answers): taken; a live daemon's socket, or anything but a socket: refused, named, untouched.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimSocketPath } from '../src/daemon.js';
import { DaemonSocketError } from '../src/errors.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ccni-sock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a free path, and a stale socket nobody answers on, are taken', async (t) => {
  const dir = await tempDir(t);
  await claimSocketPath(join(dir, 'none.sock'));
  // A daemon killed without cleaning up: its socket file stays, with no listener.
  const stale = join(dir, 'stale.sock');
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await exited;
  assert.ok((await lstat(stale)).isSocket(), 'left behind');
  await claimSocketPath(stale);
  assert.equal(existsSync(stale), false);
});

test("a live daemon's socket, or a file that is not a socket, is refused and kept", async (t) => {
  const dir = await tempDir(t);
  const live = join(dir, 'live.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(live, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await assert.rejects(claimSocketPath(live), (err: unknown) => err instanceof DaemonSocketError && /another CNI daemon is serving/.test(err.message));
  assert.ok(existsSync(live));
  const file = join(dir, 'file.sock');
  await writeFile(file, 'not a socket');
  await assert.rejects(claimSocketPath(file), (err: unknown) => err instanceof DaemonSocketError && /is not a socket/.test(err.message));
  assert.ok(existsSync(file));
});
