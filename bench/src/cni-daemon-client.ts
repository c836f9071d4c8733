#!/usr/bin/env node
/**
 * A thin CNI client of `cattail cni-daemon` in Node, for bench:cni's `daemon` variant (the
 * product's client is the Go shim, tools/cni-shim, variant `shim`): `node cni-daemon-client.js
 * SOCKET`, with the runtime's CNI_* environment and the config on stdin. It loads nothing but
 * `node:net`, speaks the daemon's protocol (cni/src/daemon-protocol.ts: the request, this side's
 * EOF, one answer), prints the daemon's stdout and exits with its code; no fallback. Its own cost
 * is Node's start-up, which the shim does not pay.
 */
import { connect } from 'node:net';

const socketPath = process.argv[2];
const chunks: Buffer[] = [];
process.stdin.on('data', (c: Buffer) => chunks.push(c));
process.stdin.on('end', () => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && (k.startsWith('CNI_') || k.startsWith('CATTAIL_'))) env[k] = v;
  const socket = connect(socketPath ?? '');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (answer += d));
  socket.on('error', (err) => {
    process.stderr.write(`cannot reach the CNI daemon at ${socketPath}: ${err.message}\n`);
    process.exitCode = 1;
  });
  socket.on('end', () => {
    const out = JSON.parse(answer) as { stdout: string; exitCode: number; error?: string };
    if (out.error) process.stderr.write(`${out.error}\n`);
    process.stdout.write(out.stdout);
    process.exitCode = out.exitCode;
  });
  socket.end(`${JSON.stringify({ env, stdin: Buffer.concat(chunks).toString('utf8') })}\n`);
});
