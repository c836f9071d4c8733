// The Go shim (tools/cni-shim, the binary setup.sh builds) against a fake daemon on a unix socket
// in this process, and a fake cattail-cni-direct (a shell script) beside a copy of it: what it
// forwards, what it prints, when it falls back and when it must not.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRequest, encodeAnswer, type DaemonAnswer, type DaemonRequest } from '../src/daemon-protocol.js';
import { findShimBinary } from '../src/shim-binary.js';

interface Setup {
  dir: string;
  shim: string;
  socket: string;
}

/** A copy of the shim beside a cattail-cni-direct that records its env and stdin, then answers. */
async function setup(t: TestContext): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'ccni-shim-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const shim = join(dir, 'cattail-cni');
  await copyFile(findShimBinary(), shim);
  await writeFile(
    join(dir, 'cattail-cni-direct'),
    `#!/bin/sh\ncat > '${dir}/direct.stdin'\necho "$CNI_COMMAND" > '${dir}/direct.cmd'\necho '{"direct":true}'\n`,
    { mode: 0o755 },
  );
  return { dir, shim, socket: join(dir, 'daemon.sock') };
}

/** A fake daemon: hands each request to `reply`, which answers (or closes without answering). */
async function fakeDaemon(t: TestContext, socketPath: string, reply: (req: DaemonRequest, socket: Socket) => void): Promise<DaemonRequest[]> {
  const seen: DaemonRequest[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const req = decodeRequest(Buffer.concat(chunks));
      seen.push(req);
      reply(req, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return seen;
}

function runShim(s: Setup, env: Record<string, string>, stdin: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(s.shim, [], { env: { PATH: '/usr/bin:/bin', CATTAIL_CNI_DAEMON_SOCKET: s.socket, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.on('error', () => undefined); // EPIPE: the shim refused an oversized stdin before reading it all
    child.stdin.end(stdin);
  });
}

const answer = (a: DaemonAnswer) => (_req: DaemonRequest, socket: Socket) => socket.end(encodeAnswer(a));
const CONF = '{"cniVersion":"0.4.0","name":"net"}';

test("the shim forwards CNI_* and CATTAIL_CNI_* and stdin, prints the daemon's stdout and exits with its code", async (t) => {
  const s = await setup(t);
  const seen = await fakeDaemon(t, s.socket, answer({ stdout: '{"code":7}\n', exitCode: 1 }));
  const r = await runShim(s, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CATTAIL_CNI_TIMING: '1', HOME: '/root', SECRET: 'x' }, CONF);
  assert.deepEqual(r, { code: 1, stdout: '{"code":7}\n' });
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0].env, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CATTAIL_CNI_TIMING: '1', CATTAIL_CNI_DAEMON_SOCKET: s.socket });
  assert.equal(seen[0].stdin, CONF);
});

test('no daemon: the shim runs cattail-cni-direct with the same stdin', async (t) => {
  const s = await setup(t);
  const r = await runShim(s, { CNI_COMMAND: 'ADD' }, CONF);
  assert.deepEqual(r, { code: 0, stdout: '{"direct":true}\n' });
  assert.equal(await readFile(join(s.dir, 'direct.stdin'), 'utf8'), CONF);
});

test('the daemon answers fallback: the direct plugin runs, a large stdin replayed whole', async (t) => {
  const s = await setup(t);
  await fakeDaemon(t, s.socket, answer({ fallback: 'cannot see the netns' }));
  const big = JSON.stringify({ cniVersion: '1.0.0', pad: 'x'.repeat(300_000) });
  const r = await runShim(s, { CNI_COMMAND: 'ADD' }, big);
  assert.deepEqual(r, { code: 0, stdout: '{"direct":true}\n' });
  assert.equal(await readFile(join(s.dir, 'direct.stdin'), 'utf8'), big);
});

test('the daemon goes away after an ADD or DEL was sent: CNI error 11, no second run; CHECK and VERSION fall back', async (t) => {
  const s = await setup(t);
  const seen = await fakeDaemon(t, s.socket, (_req, socket) => socket.destroy());
  for (const cmd of ['ADD', 'DEL']) {
    const r = await runShim(s, { CNI_COMMAND: cmd }, CONF);
    assert.equal(r.code, 1);
    const err = JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string; details: string };
    assert.equal(err.code, 11);
    assert.equal(err.cniVersion, '0.4.0', "the config's version");
    assert.match(err.msg, /went away during the call/);
    assert.ok(err.details.includes(s.socket));
  }
  await assert.rejects(readFile(join(s.dir, 'direct.cmd')), /ENOENT/, 'the direct plugin never ran');
  for (const cmd of ['CHECK', 'VERSION']) {
    const r = await runShim(s, { CNI_COMMAND: cmd }, CONF);
    assert.deepEqual(r, { code: 0, stdout: '{"direct":true}\n' }, cmd);
    assert.equal((await readFile(join(s.dir, 'direct.cmd'), 'utf8')).trim(), cmd);
  }
  assert.equal(seen.length, 4);
});

test('stdin over 1 MiB: CNI error 6 from the shim itself', async (t) => {
  const s = await setup(t);
  const seen = await fakeDaemon(t, s.socket, answer({ stdout: '', exitCode: 0 }));
  const r = await runShim(s, { CNI_COMMAND: 'ADD' }, 'x'.repeat(1024 * 1024 + 1));
  assert.equal(r.code, 1);
  assert.equal((JSON.parse(r.stdout) as { code: number }).code, 6);
  assert.equal(seen.length, 0);
});
