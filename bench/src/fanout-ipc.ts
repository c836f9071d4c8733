#!/usr/bin/env node
/**
 * The per-frame cost of the fan-out workers' transport (typha/src/server/fanout-pool.ts): the
 * IPC channel of `child_process.fork` with `serialization: 'advanced'`, a Buffer per message as
 * Typha sends a `frame` command, alone or batched as the pool batches per event-loop turn.
 *
 *   node bench/dist/src/fanout-ipc.js [--messages 20000] [--json]
 *
 * For each payload size: sender CPU µs per frame (process.cpuUsage around the sends), and the
 * wall time until the child has received them all (its reply), per frame. The frames are distinct
 * Buffers, as Typha's are.
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { intArg } from './args.js';
import { machineInfo } from './machine.js';

interface Row {
  payloadBytes: number;
  batch: number;
  messages: number;
  senderCpuUsPerFrame: number;
  wallUsPerFrame: number;
}

if (process.argv[2] === 'child') {
  let frames = 0;
  process.on('message', (m: { end?: boolean; d?: Buffer }[] | { end: true }) => {
    if (Array.isArray(m)) frames += m.length;
    else if (m.end) {
      process.send?.({ frames });
      frames = 0;
    }
  });
} else {
  const { values } = parseArgs({ options: { messages: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const messages = intArg('messages', values.messages, 20_000, 100, 10_000_000);
  const child = fork(new URL(import.meta.url), ['child'], { serialization: 'advanced' });
  const rows: Row[] = [];
  const until = (): Promise<number> => new Promise((resolve) => child.once('message', (m: { frames: number }) => resolve(m.frames)));
  try {
    for (const payloadBytes of [200, 1024, 16 * 1024, 256 * 1024]) {
      for (const batch of [1, 32]) {
        const n = payloadBytes >= 256 * 1024 ? Math.max(100, Math.floor(messages / 40)) : messages;
        // Distinct Buffers: the serializer writes a Buffer repeated within one message only once.
        const pool = Array.from({ length: 64 }, (_, i) => Buffer.alloc(payloadBytes, i));
        const done = until();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < n; i += batch) {
          const msgs = [];
          for (let j = 0; j < batch && i + j < n; j++) msgs.push({ t: 'frame', id: i + j, data: pool[(i + j) % pool.length] });
          child.send(msgs);
        }
        const cpu = process.cpuUsage(cpu0);
        child.send({ end: true });
        const got = await done;
        const wall = performance.now() - t0;
        if (got !== n) throw new Error(`the child got ${got} of ${n} frames`);
        rows.push({
          payloadBytes,
          batch,
          messages: n,
          senderCpuUsPerFrame: Math.round(((cpu.user + cpu.system) / n) * 100) / 100,
          wallUsPerFrame: Math.round(((wall * 1000) / n) * 100) / 100,
        });
      }
    }
  } finally {
    child.kill();
  }
  const result = { bench: 'fanout-ipc', machine: machineInfo(), transport: "child_process.fork, serialization: 'advanced'", rows };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    for (const r of rows)
      process.stdout.write(
        `${String(r.payloadBytes).padStart(7)} B × batch ${String(r.batch).padStart(2)}: ${r.senderCpuUsPerFrame} µs sender CPU, ${r.wallUsPerFrame} µs wall per frame\n`,
      );
}
