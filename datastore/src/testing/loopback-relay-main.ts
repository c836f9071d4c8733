#!/usr/bin/env node
/**
 * The loopback relay as a process (see `loopback-relay.ts` for the picture).
 *
 *   node loopback-relay-main.js --netns NS --ports 2379,5473 [--dir DIR] [--exit-with-stdin]
 *       the outer half, in the root namespace: unix sockets DIR/<port>.sock → 127.0.0.1:<port>,
 *       and the inner half started in NS. Prints `ready {json}` once both listen; runs until
 *       SIGTERM/SIGINT (or, with --exit-with-stdin, until its stdin closes), then ends the inner
 *       half and removes the sockets it made.
 *   node loopback-relay-main.js --inner --dir DIR --ports 2379,5473
 *       the inner half, inside NS: 127.0.0.1:<port> → DIR/<port>.sock; ends when its stdin
 *       (a pipe from the outer half) closes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Server } from 'node:net';
import { LOOPBACK_RELAY_MAIN, awaitReady, listenRelay } from './loopback-relay.js';

function fail(message: string): never {
  process.stderr.write(`loopback-relay: ${message}\n`);
  process.exit(1);
}

function parsePorts(text: string | undefined): number[] {
  const ports = (text ?? '').split(',').filter(Boolean).map(Number);
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    fail(`--ports must be a comma-separated list of TCP ports, got ${JSON.stringify(text ?? '')}`);
  }
  return ports;
}

const sockPath = (dir: string, port: number): string => join(dir, `${port}.sock`);

async function listenAll(make: (port: number) => Promise<Server>, ports: number[]): Promise<Server[]> {
  try {
    return await Promise.all(ports.map(make));
  } catch (err) {
    fail((err as Error).message);
  }
}

async function inner(dir: string, ports: number[]): Promise<void> {
  await listenAll((p) => listenRelay({ host: '127.0.0.1', port: p }, { path: sockPath(dir, p) }), ports);
  process.stdin
    .on('end', () => process.exit(0))
    .on('error', () => process.exit(0))
    .resume();
  process.stdout.write('ready\n');
}

async function outer(netns: string, ports: number[], givenDir: string | undefined, exitWithStdin: boolean): Promise<void> {
  const dir = givenDir ?? mkdtempSync(join(tmpdir(), 'cattail-relay-'));
  const ownsDir = givenDir === undefined;
  for (const p of ports) rmSync(sockPath(dir, p), { force: true });
  const servers = await listenAll((p) => listenRelay({ path: sockPath(dir, p) }, { host: '127.0.0.1', port: p }), ports);
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, LOOPBACK_RELAY_MAIN, '--inner', '--dir', dir, '--ports', ports.join(',')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.on('error', (err) => fail(`cannot start the inner relay with ip netns exec: ${err.message}`));
  const cleanup = (): void => {
    child.kill('SIGTERM');
    for (const s of servers) s.close();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    else for (const p of ports) rmSync(sockPath(dir, p), { force: true });
  };
  try {
    await awaitReady(child, `the inner relay in namespace ${netns}`, 10_000);
  } catch (err) {
    cleanup();
    fail((err as Error).message);
  }
  child.stderr.pipe(process.stderr);
  child.once('exit', (code, signal) => {
    cleanup();
    fail(`the inner relay in namespace ${netns} exited (${signal ?? code})`);
  });
  const stop = (): void => {
    child.removeAllListeners('exit');
    cleanup();
    process.exit(0);
  };
  process.on('SIGTERM', stop).on('SIGINT', stop);
  if (exitWithStdin) process.stdin.on('end', stop).on('error', stop).resume();
  process.stdout.write(`ready ${JSON.stringify({ pid: process.pid, innerPid: child.pid, netns, ports, dir })}\n`);
}

const { values } = parseArgs({
  options: {
    netns: { type: 'string' },
    ports: { type: 'string' },
    dir: { type: 'string' },
    inner: { type: 'boolean', default: false },
    'exit-with-stdin': { type: 'boolean', default: false },
  },
});
const ports = parsePorts(values.ports);
if (values.inner) {
  if (!values.dir) fail('--inner needs --dir');
  await inner(values.dir, ports);
} else {
  if (!values.netns) fail('--netns NAME is required');
  await outer(values.netns, ports, values.dir, values['exit-with-stdin']);
}
