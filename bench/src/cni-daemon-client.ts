#!/usr/bin/env node
/**
 * The thin CNI binary of the per-node daemon prototype (cni-daemon.ts): `node
 * cni-daemon-client.js SOCKET`, with the runtime's CNI_* environment and the config on stdin.
 * It loads nothing but `node:net`, forwards both, prints the daemon's stdout and exits with its
 * code. Its own cost is Node's start-up: a client in C or Go would start in about a millisecond,
 * which bench:cni's `floorMs.ipNetnsExecTrue` approximates.
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
