/**
 * `cattail node status` against real BIRD 2 daemons: two BIRDs in a temp directory peer over
 * 127.0.0.1 (distinct ports, so nothing else on the host is touched) and reach Established; the
 * first also has a disabled Calico peer, an IPv6 peer nobody answers, and a hand-written BGP
 * protocol that is not Calico's. Felix is a `sleep` started as `calico-felix` (what calicoctl
 * looks for). Every process here is our child and is ended by its own handle.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { until } from '@cattail/datastore/testing';
import { birdCommand, parseBirdPeers } from '../../src/bird-status.js';
import { isFelixCommand } from '../../src/commands/node-status.js';
import { run } from '../../src/run.js';

let dir = '';
const children: ChildProcess[] = [];
let portA = 0;
let portB = 0;

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

function start(cmd: string, args: string[], argv0?: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(argv0 ? { argv0 } : {}) });
  children.push(child);
  return child;
}

function birdConfig(routerId: string, localPort: number, peerPort: number, extra = ''): string {
  return `router id ${routerId};
protocol device { }
protocol bgp Mesh_127_0_0_1_port_${peerPort} {
  local 127.0.0.1 port ${localPort} as 64512;
  neighbor 127.0.0.1 port ${peerPort} as 64512;
  ipv4 { import all; export none; };
}
${extra}`;
}

const socketA = (): string => join(dir, 'a.ctl');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cattail-node-status-'));
  portA = await freePort();
  portB = await freePort();
  const extraA = `protocol bgp Global_10_0_0_3 {
  local as 64512;
  neighbor 10.0.0.3 as 64512;
  ipv4 { import all; export none; };
  disabled;
}
protocol bgp Node_fd00__2 {
  local as 64512;
  neighbor fd00::2 as 64513;
  ipv6 { import all; export none; };
}
protocol bgp upstream {
  local as 64512;
  neighbor 10.0.0.9 as 65000;
  ipv4 { import all; export none; };
  disabled;
}
`;
  await writeFile(join(dir, 'a.conf'), birdConfig('127.0.0.1', portA, portB, extraA));
  await writeFile(join(dir, 'b.conf'), birdConfig('127.0.0.2', portB, portA));
  for (const n of ['a', 'b']) start('bird', ['-f', '-c', join(dir, `${n}.conf`), '-s', join(dir, `${n}.ctl`)]);
  start('sleep', ['600'], 'calico-felix');
  await until(
    async () => {
      const lines = await birdCommand(socketA(), 'show protocols').catch(() => []);
      return parseBirdPeers(lines).some((p) => p.info === 'Established');
    },
    'the two BIRDs to establish their session over 127.0.0.1',
    30_000,
    200,
  );
});

after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await once(c, 'exit');
    }
  }
  await rm(dir, { recursive: true, force: true });
});

async function cattail(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: { write: (s) => void (stdout += s) }, stderr: { write: (s) => void (stderr += s) }, env: {}, cwd: dir });
  return { code, stdout, stderr };
}

test("node status: calicoctl's tables, one per family, from a real BIRD's show protocols", async () => {
  const r = await cattail('node', 'status', '--bird-socket', socketA());
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  // BIRD's "since" is the time of day the protocol last changed state: the same width every time.
  const out = r.stdout.replace(/\d\d:\d\d:\d\d\.\d\d\d/g, 'hh:mm:ss.fff');
  const peer = `127.0.0.1:${portB}`;
  const w = peer.length;
  const [head, v6] = out.split('\nIPv6 BGP status\n');
  assert.equal(
    head,
    [
      'Calico process is running.',
      '',
      'IPv4 BGP status',
      `+-${'-'.repeat(w)}-+-------------------+-------+--------------+-------------+`,
      `| ${' '.repeat(Math.floor((w - 12) / 2))}PEER ADDRESS${' '.repeat(Math.ceil((w - 12) / 2))} |     PEER TYPE     | STATE |    SINCE     |    INFO     |`,
      `+-${'-'.repeat(w)}-+-------------------+-------+--------------+-------------+`,
      `| ${peer} | node-to-node mesh | up    | hh:mm:ss.fff | Established |`,
      `| ${'10.0.0.3'.padEnd(w)} | global            | down  | hh:mm:ss.fff |             |`,
      `+-${'-'.repeat(w)}-+-------------------+-------+--------------+-------------+`,
      '',
    ].join('\n'),
  );
  // Nobody answers fd00::2: BIRD says start and Idle, Connect or Active (with a socket error).
  assert.match(
    v6,
    /^\+[-+]+\n\| PEER ADDRESS \| {3}PEER TYPE {3}\| STATE \| {4}SINCE {5}\| +INFO +\|\n\+[-+]+\n\| fd00::2 {6}\| node specific \| start \| hh:mm:ss\.fff \| (Idle|Connect|Active)\b[^\n]*\|\n\+[-+]+\n\n$/,
  );
  assert.doesNotMatch(r.stdout, /upstream|10\.0\.0\.9/, "a BGP protocol not named as Calico's is not a Calico peer");
});

test('node status: a BIRD with no Calico peers, an absent socket, a socket that is not BIRD', async () => {
  const b = await cattail('node', 'status', '--bird-socket', join(dir, 'b.ctl'));
  assert.equal(b.code, 0);
  assert.match(b.stdout, /^Calico process is running\.\n\nIPv4 BGP status\n\+/);
  assert.match(b.stdout, /\nIPv6 BGP status\nNo IPv6 peers found\.\n\n$/);

  const missing = await cattail('node', 'status', '--bird-socket', join(dir, 'nope.ctl'));
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, 'Calico process is running.\n');
  assert.equal(missing.stderr, `Error querying BIRD: unable to connect to BIRD socket ${join(dir, 'nope.ctl')} (ENOENT); is BIRD running?\n`);

  const notBird: Server = createServer((c) => c.end('hello\n'));
  const path = join(dir, 'not-bird.ctl');
  notBird.listen(path);
  await once(notBird, 'listening');
  try {
    const r = await cattail('node', 'status', '--bird-socket', path);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error executing command: ${path} is not a BIRD control socket (it said "hello")\n`);
  } finally {
    notBird.close();
  }

  const bad = await cattail('node', 'status', 'extra');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^unexpected argument "extra"\n/);
});

test("parseBirdPeers refuses a table of another shape; isFelixCommand knows calicoctl's and our Felix", () => {
  assert.throws(() => parseBirdPeers(['2002-Name Proto Table State Since']), /unknown BIRD table output format/);
  assert.throws(() => parseBirdPeers(['garbage']), /unexpected output line from BIRD: garbage/);
  assert.deepEqual(parseBirdPeers(['2002-name proto table state since info', '1002-Node_fd00__2_port_1790 BGP master up 2016-11-21 Established']), [
    { family: 6, address: '[fd00::2]:1790', ip: 'fd00::2', source: 'Node', type: 'node specific', state: 'up', since: '2016-11-21', info: 'Established' },
  ]);

  assert.equal(isFelixCommand(['/usr/bin/calico-felix']), true);
  assert.equal(isFelixCommand(['calico-node', '-felix']), true);
  assert.equal(isFelixCommand(['calico-node', '-confd']), false);
  assert.equal(isFelixCommand(['/usr/bin/node', '/opt/cattail/cli/bin/cattail.js', '-l', 'debug', 'felix']), true);
  assert.equal(isFelixCommand(['cattail', 'felix', '--config', 'x']), true);
  assert.equal(isFelixCommand(['cattail', 'get', 'node', 'felix']), false);
  assert.equal(isFelixCommand(['cattail', 'node', 'status']), false);
  assert.equal(isFelixCommand(['sleep', 'felix']), false);
});
