#!/usr/bin/env node
/**
 * `node bench/dist/src/delta-compression.js [--resources 35000] [--batches 2000] [--batch 2] [--json]`
 *
 * How small a live delta batch gets when compressed ONCE for every client (the
 * `deflate-deltas` feature), by candidate, on the fan-out benchmark's own churn: WorkloadEndpoint
 * label changes stamped with a nanosecond time (`churn.ts`), projected for felix as Typha does,
 * `--batch` updates per batch (the fan-out bench at 50 writes/s and a 10 ms window averages ~2).
 * Candidates, all on the same batches in the same run:
 *
 *   plain            the msgpack Deltas frame
 *   deflate          raw DEFLATE of each frame on its own, in a Deflated envelope
 *   dictionary       raw DEFLATE with the syncer's preset dictionary (what Typha ships)
 *   shared-stream    one DEFLATE stream per syncer, flushed per batch (Z_SYNC_FLUSH): frames
 *                    decode only in order from the stream's start, so a client must receive
 *                    every batch from the same point (no resume, replay, catch-up or snapshot
 *                    tail); measured for comparison only
 *
 * Bytes are per update (frame bytes ÷ updates); compress µs is paid once per batch by Typha,
 * inflate µs once per batch by every client.
 */
import { constants, createDeflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { decodeValue, encodeValue, keyFor, parseKey, validateResource, type Resource } from '@cattail/api';
import { projectUpdate } from '@cattail/typha';
import { buildDeltaDictionary, deflateDeltasFrame, DELTA_DEFLATE_LEVEL, msgpackCodec, type Update } from '@cattail/typha/protocol';
import { intArg } from './args.js';
import { generateCluster, withTimestamp } from './generator.js';
import { machineInfo } from './machine.js';
import { createRng } from './rng.js';

function project(r: Resource, revision: number): Update | undefined {
  const key = keyFor(r);
  const parsed = parseKey(key);
  if (!parsed) return undefined;
  const res = decodeValue(key, encodeValue(r), revision);
  if (validateResource(res).length > 0) return undefined;
  return projectUpdate('felix', { key, kind: parsed.kind.kind, name: parsed.name, namespace: parsed.namespace, revision, resource: res }) ?? undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      resources: { type: 'string' },
      batches: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const resources = intArg('resources', values.resources, 35_000, 16, 2_000_000);
  const nBatches = intArg('batches', values.batches, 2000, 1, 1_000_000);
  const perBatch = intArg('batch', values.batch, 2, 1, 1000);
  const seed = intArg('seed', values.seed, 1, 0, 0xffff_ffff);
  const cluster = generateCluster({ resources, seed });
  const state: Update[] = [];
  cluster.resources.forEach((r, i) => {
    const u = project(r, i + 2);
    if (u) state.push(u);
  });
  const dict = buildDeltaDictionary(msgpackCodec, state);

  // The churn: a random endpoint's label stamped with a monotonic-ns-like time, per update.
  const rng = createRng(seed ^ 0x5eed);
  const weps = [...cluster.workloadEndpoints];
  let revision = cluster.resources.length + 2;
  let stamp = 5_000_000_000_000n;
  const frames: Buffer[] = [];
  let updates = 0;
  for (let b = 0; b < nBatches; b++) {
    const batch: Update[] = [];
    revision++;
    for (let j = 0; j < perBatch; j++) {
      const i = rng.int(weps.length);
      stamp += BigInt(15_000_000 + rng.int(10_000_000));
      weps[i] = withTimestamp(weps[i], stamp.toString());
      const u = project(weps[i], revision);
      if (u) batch.push(u);
    }
    updates += batch.length;
    frames.push(msgpackCodec.encode({ type: 'deltas', revision, updates: batch }));
  }

  const envelope = (data: Buffer): Buffer => msgpackCodec.encode({ type: 'deflated', dict: dict.id, data });
  const time = (f: () => void): number => {
    const t = performance.now();
    f();
    return ((performance.now() - t) * 1000) / frames.length;
  };
  const results: Array<{
    candidate: string;
    bytesPerUpdate: number;
    ratio: number;
    compressUsPerBatch: number;
    inflateUsPerBatch: number | null;
    note?: string;
  }> = [];
  const plainBytes = frames.reduce((a, f) => a + f.length, 0);
  const add = (candidate: string, out: Buffer[], compressUs: number, inflateUs: number | null, note?: string): void => {
    const bytes = out.reduce((a, f) => a + f.length, 0);
    results.push({
      candidate,
      bytesPerUpdate: Math.round((bytes / updates) * 10) / 10,
      ratio: Math.round((bytes / plainBytes) * 1000) / 1000,
      compressUsPerBatch: Math.round(compressUs * 10) / 10,
      inflateUsPerBatch: inflateUs === null ? null : Math.round(inflateUs * 10) / 10,
      ...(note ? { note } : {}),
    });
  };
  add('plain', frames, 0, 0);

  let out: Buffer[] = [];
  let us = time(() => (out = frames.map((f) => envelope(deflateRawSync(f, { level: DELTA_DEFLATE_LEVEL })))));
  const raw = out.map((f) => (msgpackCodec.decode(f) as { data: Uint8Array }).data);
  add(
    'deflate',
    out,
    us,
    time(() => raw.forEach((d) => inflateRawSync(d))),
  );

  us = time(() => (out = frames.map((f) => deflateDeltasFrame(msgpackCodec, f, dict) ?? f)));
  const withDict = out.map((f) => (msgpackCodec.decode(f) as { data?: Uint8Array }).data);
  add(
    'dictionary',
    out,
    us,
    time(() => withDict.forEach((d) => d && inflateRawSync(d, { dictionary: dict.data }))),
    `${dict.data.length} B dictionary sent once per connection`,
  );

  // One stream for the whole syncer, flushed per batch.
  const stream = createDeflateRaw({ level: DELTA_DEFLATE_LEVEL });
  let pending: Buffer[] = [];
  stream.on('data', (c: Buffer) => pending.push(c));
  const streamed: Buffer[] = [];
  const t0 = performance.now();
  for (const f of frames) {
    stream.write(f);
    await new Promise<void>((resolve) => stream.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    streamed.push(envelope(Buffer.concat(pending)));
    pending = [];
  }
  us = ((performance.now() - t0) * 1000) / frames.length;
  stream.close();
  add(
    'shared-stream',
    streamed,
    us,
    null,
    'decodes only in order from the stream start: not usable with resume, replay, catch-up or snapshot tails; compress time includes an event-loop turn per batch',
  );

  const report = {
    bench: 'delta-compression',
    machine: machineInfo(),
    resources,
    keys: state.length,
    batches: nBatches,
    updatesPerBatch: perBatch,
    updates,
    results,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  const o = values.json ? process.stderr : process.stdout;
  o.write(`felix deltas, R=${resources}: ${nBatches} batches of ${perBatch} WorkloadEndpoint label changes\n`);
  for (const r of results) {
    o.write(
      `  ${r.candidate.padEnd(14)} ${String(r.bytesPerUpdate).padStart(7)} B/update  ×${r.ratio}  compress ${r.compressUsPerBatch} µs/batch  inflate ${r.inflateUsPerBatch ?? '-'} µs/batch\n`,
    );
  }
}

await main();
