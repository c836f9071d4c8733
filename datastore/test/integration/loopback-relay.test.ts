// The loopback relay with a real network namespace: a root-namespace TCP server on 127.0.0.1 is
// reached at the same address from inside the namespace, and unreachable again once the relay
// is closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { exposeLoopbackPorts } from '../../src/testing/index.js';

const run = promisify(execFile);

/** From inside `ns`: connect to 127.0.0.1:port, send `msg`, print what comes back. */
const CLIENT = `
const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
let got = '';
s.on('connect', () => s.end(process.argv[2]));
s.on('data', (d) => (got += d));
s.on('close', () => { process.stdout.write(got); });
s.on('error', (e) => { process.stderr.write(e.code || e.message); process.exit(3); });
`;

async function talk(ns: string, port: number, msg: string): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT, String(port), msg], { timeout: 10_000 });
  return stdout;
}

test('a root-namespace loopback port is reachable at the same address inside a namespace, until closed', { timeout: 60_000 }, async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test creates a network namespace: run it as root');
  const ns = `cdsr-${randomBytes(3).toString('hex')}`;
  await run('ip', ['netns', 'add', ns]);
  t.after(() => run('ip', ['netns', 'del', ns]).catch(() => undefined));
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);

  const server = createServer((c) => c.on('data', (d) => c.end(`echo:${d.toString()}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  // Before: nothing listens on that port inside the namespace.
  await assert.rejects(talk(ns, port, 'x'), /ECONNREFUSED/);

  const relay = await exposeLoopbackPorts(ns, [port]);
  t.after(() => relay.close());
  assert.equal(await talk(ns, port, 'hello'), 'echo:hello');
  const many = await Promise.all(Array.from({ length: 5 }, (_, i) => talk(ns, port, `m${i}`)));
  assert.deepEqual(many, ['echo:m0', 'echo:m1', 'echo:m2', 'echo:m3', 'echo:m4']);

  await relay.close();
  assert.throws(() => process.kill(relay.pid, 0), /ESRCH/);
  await assert.rejects(talk(ns, port, 'x'), /ECONNREFUSED/);
});

test('a relay into a namespace that does not exist fails with a clear message', { timeout: 30_000 }, async () => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root');
  await assert.rejects(exposeLoopbackPorts(`cdsr-missing-${randomBytes(3).toString('hex')}`, [1]), /inner relay in namespace cdsr-missing-\w+ exited/);
});
