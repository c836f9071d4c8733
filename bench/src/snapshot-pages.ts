#!/usr/bin/env node
/**
 * `node bench/dist/src/snapshot-pages.js [--resources 35000] [--syncer felix] [--page 500] [--json]`
 *
 * How big one client's snapshot is, and how much smaller it would be if each page were
 * compressed ONCE per revision (the same compressed bytes to every client, so encode-once
 * still holds; this is not permessage-deflate, whose per-connection context the protocol
 * rejects). The snapshot is built as Typha builds it: generated cluster → etcd value
 * (encodeValue) → decodeValue → validateResource → projectUpdate(syncer) → pages of --page
 * updates, msgpack-encoded. Baseline and candidates are measured in the same run: bytes,
 * compression time (paid once per revision by the server) and decompression time (paid by
 * every client).
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { decodeValue, encodeValue, keyFor, parseKey, validateResource } from '@cattail/api';
import { projectUpdate } from '@cattail/typha';
import { msgpackCodec, SYNCER_TYPES, type SyncerType, type Update } from '@cattail/typha/protocol';
import { intArg, UsageError } from './args.js';
import { generateCluster } from './generator.js';
import { machineInfo } from './machine.js';

interface Codec {
  name: string;
  compress(b: Buffer): Buffer;
  decompress(b: Buffer): Buffer;
}

const CODECS: Codec[] = [
  { name: 'deflate-1', compress: (b) => deflateRawSync(b, { level: 1 }), decompress: (b) => inflateRawSync(b) },
  { name: 'deflate-6', compress: (b) => deflateRawSync(b, { level: 6 }), decompress: (b) => inflateRawSync(b) },
  {
    name: 'brotli-4',
    compress: (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
    decompress: (b) => brotliDecompressSync(b),
  },
];

function main(): void {
  const { values } = parseArgs({
    options: {
      resources: { type: 'string' },
      syncer: { type: 'string' },
      page: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const resources = intArg('resources', values.resources, 35_000, 16, 2_000_000);
  const pageSize = intArg('page', values.page, 500, 1, 100_000);
  const syncer = (values.syncer ?? 'felix') as SyncerType;
  if (!(SYNCER_TYPES as readonly string[]).includes(syncer)) throw new UsageError(`--syncer must be one of ${SYNCER_TYPES.join(', ')}`);
  const cluster = generateCluster({ resources, seed: intArg('seed', values.seed, 1, 0, 0xffff_ffff) });

  const updates: Update[] = [];
  cluster.resources.forEach((r, i) => {
    const key = keyFor(r);
    const parsed = parseKey(key);
    if (!parsed) return;
    const res = decodeValue(key, encodeValue(r), i + 2);
    if (validateResource(res).length > 0) return;
    const u = projectUpdate(syncer, { key, kind: parsed.kind.kind, name: parsed.name, namespace: parsed.namespace, revision: i + 2, resource: res });
    if (u) updates.push(u);
  });
  const revision = cluster.resources.length + 1;
  const pages: Buffer[] = [];
  for (let p = 0; p * pageSize < updates.length; p++) {
    const chunk = updates.slice(p * pageSize, (p + 1) * pageSize);
    pages.push(msgpackCodec.encode({ type: 'snapshot', revision, page: p, last: (p + 1) * pageSize >= updates.length, updates: chunk }));
  }
  const raw = pages.reduce((a, b) => a + b.length, 0);
  const results = CODECS.map((c) => {
    let t = performance.now();
    const packed = pages.map((p) => c.compress(p));
    const compressMs = performance.now() - t;
    t = performance.now();
    for (const p of packed) c.decompress(p);
    const decompressMs = performance.now() - t;
    const bytes = packed.reduce((a, b) => a + b.length, 0);
    return {
      codec: c.name,
      bytes,
      ratio: Math.round((bytes / raw) * 1000) / 1000,
      compressMsOnce: Math.round(compressMs),
      decompressMsPerClient: Math.round(decompressMs),
    };
  });
  const out = {
    bench: 'snapshot-pages',
    machine: machineInfo(),
    resources,
    syncer,
    keys: updates.length,
    pages: pages.length,
    pageSize,
    bytes: raw,
    bytesPer10kClients: raw * 10_000,
    compressed: results,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  const o = values.json ? process.stderr : process.stdout;
  o.write(
    `${syncer} snapshot of R=${resources}: ${updates.length} keys, ${pages.length} pages, ${(raw / 1e6).toFixed(2)} MB per client (${((raw * 10_000) / 1e9).toFixed(0)} GB for 10,000 clients)\n`,
  );
  for (const r of results) {
    o.write(
      `  ${r.codec.padEnd(10)} ${(r.bytes / 1e6).toFixed(2)} MB (×${r.ratio}), compress once ${r.compressMsOnce} ms, decompress per client ${r.decompressMsPerClient} ms\n`,
    );
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`snapshot-pages: ${(err as Error).message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
}
