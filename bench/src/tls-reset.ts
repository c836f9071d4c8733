#!/usr/bin/env node
/**
 * What a TLS socket that never speaks costs Node's C heap, and what its reset costs: a bare
 * `tls.Server` (no Typha) behind our own `net.Server`, N silent TCP clients held, then torn
 * down by the clients (RST) or by the server. Each mode runs in a fresh child process (so one
 * mode's heap is not the next one's), which reports its `[heap]` mapping (glibc's main arena)
 * and RSS at each step, and finally after `malloc_trim(0)` called through gdb: what glibc gives
 * back then is memory it had kept although it was freed.
 *
 *   node bench/dist/src/tls-reset.js [--clients 2000] [--json]
 *
 *   modes: tls-reset-by-client  the server wraps at accept; the clients reset
 *          tls-closed-by-server the server wraps at accept, then destroys
 *          tls-after-first-bytes the server wraps only once bytes arrive (none do); the clients reset
 *          plain-reset-by-client no TLS at all; the clients reset
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { makeTestCertificates } from '@cattail/datastore/testing';
import { intArg } from './args.js';
import { machineInfo } from './machine.js';

const MODES = ['tls-reset-by-client', 'tls-closed-by-server', 'tls-after-first-bytes', 'plain-reset-by-client'] as const;
type Mode = (typeof MODES)[number];
interface Step {
  rssMB: number;
  heapMB: number;
}
type ModeResult = Record<'before' | 'held' | 'gone' | 'trimmed', Step>;

function step(): Step {
  let kb = 0;
  let inHeap = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
    else if (inHeap && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return { rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), heapMB: Math.round(kb / 1024) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function settle(gc: () => void): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(200);
  }
}

/** One mode, in this (child) process. */
async function runMode(mode: Mode, clients: number, certDir: string): Promise<ModeResult> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const read = (f: string): Buffer => readFileSync(join(certDir, f));
  const server = tls.createServer({ cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt'), requestCert: true, handshakeTimeout: 600_000 });
  server.on('tlsClientError', () => {});
  const accepted = new Set<net.Socket>();
  const front = net.createServer((s) => {
    accepted.add(s);
    s.on('close', () => accepted.delete(s));
    s.on('error', () => {});
    if (mode === 'tls-reset-by-client' || mode === 'tls-closed-by-server') server.emit('connection', s);
    else if (mode === 'tls-after-first-bytes') s.once('data', (chunk) => (s.pause(), s.unshift(chunk), server.emit('connection', s)));
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', 4096, r));
  const port = (front.address() as net.AddressInfo).port;
  await settle(gc);
  const before = step();
  const sockets: net.Socket[] = [];
  for (let i = 0; i < clients; i++) sockets.push(net.connect(port, '127.0.0.1').on('error', () => {}));
  for (let t = 0; accepted.size < clients && t < 600; t++) await sleep(50);
  await settle(gc);
  const held = step();
  if (mode === 'tls-closed-by-server') for (const s of accepted) s.destroy();
  else for (const s of sockets) s.destroy();
  for (let t = 0; accepted.size > 0 && t < 600; t++) await sleep(50);
  await settle(gc);
  const gone = step();
  execFileSync('gdb', ['-p', String(process.pid), '-batch', '-ex', 'call (int)malloc_trim(0)'], { stdio: 'ignore' });
  const trimmed = step();
  front.close();
  return { before, held, gone, trimmed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { clients: { type: 'string' }, json: { type: 'boolean', default: false }, mode: { type: 'string' }, certs: { type: 'string' } },
  });
  const clients = intArg('clients', values.clients, 2000, 1, 20_000);
  if (values.mode !== undefined) {
    // Child: one mode, one JSON line.
    process.stdout.write(`${JSON.stringify(await runMode(values.mode as Mode, clients, values.certs as string))}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tls-reset-'));
  try {
    await makeTestCertificates(dir);
    const modes: Partial<Record<Mode, ModeResult>> = {};
    for (const mode of MODES) {
      const child = spawnSync(process.execPath, ['--expose-gc', process.argv[1], '--mode', mode, '--clients', String(clients), '--certs', dir], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      if (child.status !== 0) throw new Error(`${mode}: exit ${child.status}: ${child.stderr}`);
      modes[mode] = JSON.parse(child.stdout.trim()) as ModeResult;
    }
    const rows = Object.entries(modes).map(
      ([m, r]) => `| ${m} | ${r.before.heapMB} | ${r.held.heapMB} | ${r.gone.heapMB} | ${r.trimmed.heapMB} | ${r.gone.rssMB} → ${r.trimmed.rssMB} |`,
    );
    process.stderr.write(
      `| mode (${clients} silent sockets) | [heap] MB before | held | gone | after malloc_trim | RSS gone → trimmed MB |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
    );
    if (values.json) process.stdout.write(`${JSON.stringify({ bench: 'tls-reset', clients, machine: machineInfo(), modes })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: Error) => {
  process.stderr.write(`tls-reset: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
