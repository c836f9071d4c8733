/**
 * Benchmark of the fan-out write path: directWriter (one shared header+payload Buffer written
 * to each socket) against wsSendWriter (ws.send per socket). Not a test (the runner only picks
 * `*.test.js`); it belongs in `typha/bench/` once that folder exists.
 *
 *   npx tsc -b typha && node typha/dist/test/server/fan-out.bench.js [clients=2000] [batches=200] [payloads=200,2000,20000]
 *
 * The server runs in this process; the clients run in a child process (so the figures are the
 * server's CPU only) and just count frames. For each writer and payload size it publishes
 * `batches` batches to every client through the real SyncServer/FanOut and reports:
 *   fanout_us    mean wall time of one publish() (the synchronous loop over all sockets)
 *   per_sock_ns  fanout_us / clients
 *   cpu_ms       server process CPU (user+sys) from the first publish until every client has
 *                received every batch: includes the kernel's share of the socket writes
 * and prints JSON and a table.
 */
import { fork } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SyncCache } from '../../src/cache/sync-cache.js';
import { CODECS, Features, PROTOCOL_VERSION, type Deltas, type Update } from '../../src/protocol/index.js';
import { SyncServer, directWriter, wsSendWriter, type FrameWriter } from '../../src/server/index.js';

interface Row {
  writer: string;
  clients: number;
  payloadBytes: number;
  batches: number;
  fanout_us: number;
  per_sock_ns: number;
  cpu_ms: number;
}

if (process.argv[2] === 'client') await runClients(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
else await main();

async function main(): Promise<void> {
  const clients = Number(process.argv[2] ?? 2000);
  const batches = Number(process.argv[3] ?? 200);
  const rows: Row[] = [];
  const payloads = (process.argv[4] ?? '200,2000,20000').split(',').map(Number);
  for (const payloadBytes of payloads) {
    for (const writer of [wsSendWriter, directWriter, wsSendWriter, directWriter]) {
      rows.push(await runOnce(writer, clients, batches, payloadBytes));
    }
  }
  process.stdout.write(`${JSON.stringify(rows)}\n\n`);
  process.stdout.write('| writer  | clients | payload B | fan-out µs/batch | ns/socket | server CPU ms |\n|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(
      `| ${r.writer.padEnd(7)} | ${r.clients} | ${r.payloadBytes} | ${r.fanout_us.toFixed(0)} | ${r.per_sock_ns.toFixed(0)} | ${r.cpu_ms.toFixed(0)} |\n`,
    );
  }
}

async function runOnce(writer: FrameWriter, clients: number, batches: number, payloadBytes: number): Promise<Row> {
  const cache = new SyncCache({ syncer: 'felix' });
  cache.onStatus('in-sync', 1);
  const server = new SyncServer({
    caches: { felix: cache },
    serverId: 'bench',
    datastoreId: () => 'bench',
    host: '127.0.0.1',
    port: 0,
    frameWriter: writer,
    maxConnections: clients + 10,
    highWaterMarkBytes: 256 * 1024 * 1024,
    pingIntervalMs: 600_000,
    pongTimeoutMs: 1_200_000,
  });
  const port = await server.start();
  const child = fork(fileURLToPath(import.meta.url), ['client', String(port), String(clients), String(batches)], { stdio: 'inherit' });
  await message(child, 'ready');
  const publish = server.publisher('felix');
  const update: Update = { kind: 'WorkloadEndpoint', name: 'w', namespace: 'ns', revision: 0, value: { spec: { pad: 'x'.repeat(payloadBytes) } } };
  const done = message(child, 'done');
  const cpu0 = process.cpuUsage();
  let fanoutMs = 0;
  for (let i = 0; i < batches; i++) {
    const deltas: Deltas = { type: 'deltas', revision: 2 + i, updates: [{ ...update, revision: 2 + i }] };
    const frames = new Map([['msgpack' as const, CODECS.msgpack.encode(deltas)]]);
    const t0 = performance.now();
    publish(frames, deltas);
    fanoutMs += performance.now() - t0;
    await nextTurn();
  }
  await done;
  const cpu = process.cpuUsage(cpu0);
  child.kill();
  await server.stop();
  cache.close();
  const fanout_us = (fanoutMs * 1000) / batches;
  return { writer: writer.name, clients, payloadBytes, batches, fanout_us, per_sock_ns: (fanout_us * 1000) / clients, cpu_ms: (cpu.user + cpu.system) / 1000 };
}

function message(child: ReturnType<typeof fork>, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on('message', (m) => m === what && resolve());
    child.once('exit', (code) => reject(new Error(`bench client exited (${code}) before "${what}"`)));
  });
}

async function runClients(port: number, n: number, batches: number): Promise<void> {
  let synced = 0;
  let finished = 0;
  const hello = CODECS.msgpack.encode({ type: 'hello', protocolVersion: PROTOCOL_VERSION, syncer: 'felix', node: 'bench', features: [Features.Resume] });
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/sync`, [CODECS.msgpack.subprotocol], { perMessageDeflate: false });
    let frames = 0;
    ws.on('open', () => ws.send(hello));
    ws.on('message', () => {
      frames++;
      if (frames === 3 && ++synced === n) process.send?.('ready'); // hello, snapshot page, in-sync
      if (frames === 3 + batches && ++finished === n) process.send?.('done');
    });
    ws.on('error', (err) => {
      process.stderr.write(`bench client: ${err.message}\n`);
      process.exit(1);
    });
    if (i % 200 === 199) await nextTurn();
  }
}
