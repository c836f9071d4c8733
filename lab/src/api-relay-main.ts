#!/usr/bin/env node
/**
 * The way into a `--engine kubernetes` lab's API server from this machine: the API server
 * listens inside the control-plane namespace (on the fabric, where the kubelets and pods reach
 * it), and this relay makes it reachable at 127.0.0.1:<port> of the root namespace for kubectl,
 * helm and the tests. It is the loopback relay of @cattail/datastore/testing the other way round:
 *
 *   root namespace                                       control-plane namespace NS
 *   client ──▶ 127.0.0.1:<port> ──▶ <sock> (a file) ──▶ inner half ──▶ 127.0.0.1:6443 (kube-apiserver)
 *              (this process)                            (`ip netns exec NS node api-relay-main.js --inner`)
 *
 *   node api-relay-main.js --netns NS --port P --sock PATH --target-port 6443
 *   node api-relay-main.js --inner --sock PATH --target-port 6443     (started by the outer half)
 *
 * Prints `ready` once both halves listen; runs until SIGTERM, then ends the inner half (its stdin
 * is a pipe from here and it exits when that closes). TLS passes through untouched: the serving
 * certificate names 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listenRelay } from '@cattail/datastore/testing';

const SELF = fileURLToPath(import.meta.url);

function fail(message: string): never {
  process.stderr.write(`api-relay: ${message}\n`);
  process.exit(1);
}

function port(text: string | undefined, flag: string): number {
  const p = Number(text);
  if (!Number.isInteger(p) || p < 1 || p > 65535) fail(`${flag} must be a TCP port, got ${JSON.stringify(text ?? '')}`);
  return p;
}

async function inner(sock: string, targetPort: number): Promise<void> {
  rmSync(sock, { force: true });
  await listenRelay({ path: sock }, { host: '127.0.0.1', port: targetPort }).catch((err: Error) => fail(err.message));
  process.stdin
    .on('end', () => process.exit(0))
    .on('error', () => process.exit(0))
    .resume();
  process.stdout.write('ready\n');
}

async function outer(netns: string, listenPort: number, sock: string, targetPort: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, SELF, '--inner', '--sock', sock, '--target-port', String(targetPort)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.on('exit', (code) => fail(`inner half in ${netns} exited (${String(code)})`));
  await new Promise<void>((resolve) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('ready\n')) resolve();
    });
  });
  await listenRelay({ host: '127.0.0.1', port: listenPort }, { path: sock }).catch((err: Error) => fail(err.message));
  const stop = (): void => {
    child.removeAllListeners('exit');
    child.stdin.end();
    rmSync(sock, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop).on('SIGINT', stop);
  process.stdout.write('ready\n');
}

const { values } = parseArgs({
  options: {
    inner: { type: 'boolean' },
    netns: { type: 'string' },
    port: { type: 'string' },
    sock: { type: 'string' },
    'target-port': { type: 'string' },
  },
});
if (!values.sock) fail('--sock is required');
const target = port(values['target-port'], '--target-port');
if (values.inner) await inner(values.sock, target);
else {
  if (!values.netns) fail('--netns is required');
  await outer(values.netns, port(values.port, '--port'), values.sock, target);
}
