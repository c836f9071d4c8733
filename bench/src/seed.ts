#!/usr/bin/env node
/**
 * `node bench/dist/src/seed.js --etcd URL --resources R [--seed S] [--clear] [--batch 128]
 * [--concurrency 8] [--json]`: writes a synthetic cluster of R resources (see generator.ts for
 * the mix) to an existing etcd. The k6 scenarios use it to prepare their datastore.
 */
import { parseArgs } from 'node:util';
import { etcd } from '@cattail/datastore';
import { intArg, UsageError } from './args.js';
import { seedCluster } from './seeder.js';

const USAGE = 'usage: seed.js --etcd http://127.0.0.1:2379 --resources 35000 [--seed 1] [--clear] [--batch 128] [--concurrency 8] [--json]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      etcd: { type: 'string' },
      resources: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      clear: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.etcd === undefined || values.resources === undefined) throw new UsageError(`--etcd and --resources are required\n${USAGE}`);
  const client = new etcd.EtcdClient({ endpoints: values.etcd.split(',') });
  try {
    const r = await seedCluster(client, {
      resources: intArg('resources', values.resources, 0, 16, 10_000_000),
      seed: intArg('seed', values.seed, 1, 0, 0xffff_ffff),
      batchSize: intArg('batch', values.batch, 128, 1, 128),
      concurrency: intArg('concurrency', values.concurrency, 8, 1, 64),
      clear: values.clear,
    });
    const out = { resources: r.write.count, mix: r.cluster.mix, seed: r.cluster.seed, deleted: r.deleted, ...r.write };
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      process.stdout.write(
        `wrote ${out.count} resources (${(out.bytes / 1e6).toFixed(1)} MB) in ${out.txns} txns, ${out.ms.toFixed(0)} ms, ` +
          `${Math.round(out.count / (out.ms / 1000))}/s; etcd revision ${out.revision}\n`,
      );
    }
    return 0;
  } finally {
    client.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
