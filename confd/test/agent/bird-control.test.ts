// The real bird and birdc binaries, without a running BIRD: bird -p on good and bad files,
// birdc against a socket nobody listens on, and the reply parser on birdc -v output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BirdUnreachableError, ConfigCheckError, birdCommands, lastReply } from '../../src/index.js';
import { requireBinary } from '../helpers/binaries.js';

function control(dir: string) {
  return birdCommands({ bird: requireBinary('bird'), birdc: requireBinary('birdc'), socket: join(dir, 'no-bird.ctl'), timeoutMs: 5_000 });
}

test('check: bird -p accepts a valid file and reports BIRD’s own reason for an invalid one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctcd-birdp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.conf');
  writeFileSync(good, 'router id 10.0.0.1;\nprotocol device {}\n');
  await control(dir).check(good);
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, 'router id 10.0.0.1;\nprotocol bgp x { local as 1; neighbor 10.0.0.2 as 2; keepalive time 3600; ipv4 { import all; export none; }; }\n');
  await assert.rejects(control(dir).check(bad), (err: unknown) => {
    assert.ok(err instanceof ConfigCheckError);
    assert.equal(err.code, 'CONFD_CHECK_FAILED');
    assert.match(err.output, /bad\.conf:2:\d+ Keepalive time must be at most hold time/);
    return true;
  });
});

test('check: a missing bird binary says what to install', async () => {
  const c = birdCommands({ bird: '/nonexistent/bird', birdc: 'birdc', socket: '/x', timeoutMs: 1_000 });
  await assert.rejects(c.check('/x.conf'), /not found \(install BIRD 2/);
});

test('configure: no BIRD on the socket is "unreachable", not a refused configuration', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctcd-birdc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(control(dir).configure(), (err: unknown) => {
    assert.ok(err instanceof BirdUnreachableError);
    assert.match(err.message, /no-bird\.ctl/);
    return true;
  });
});

test('lastReply reads the final numbered line of birdc -v output', () => {
  const ok = '0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /etc/bird.cfg\n0003 Reconfigured\n';
  assert.deepEqual(lastReply(ok), { code: '0003', text: 'Reconfigured' });
  const refused = '0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x\n8002 /x:28:1 syntax error, unexpected GARBAGE\n';
  assert.deepEqual(lastReply(refused), { code: '8002', text: '/x:28:1 syntax error, unexpected GARBAGE' });
  assert.equal(lastReply('Unable to connect to server control socket (/x): No such file or directory\n'), undefined);
});
