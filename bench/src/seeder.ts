/**
 * Writes generated resources to etcd as Calico stores them (`keyFor` + `encodeValue` from
 * `@cattail/api`), fast: transactions of up to 128 puts (etcd's default `--max-txn-ops`) with
 * several in flight. A put is a plain overwrite (no revision guard): seeding owns the prefix.
 *
 *   resources ─chunk(128)─▶ txn ─┐
 *                          txn ─┼─ at most `concurrency` in flight ─▶ etcd
 *                          txn ─┘
 */
import { encodeValue, keyFor, CALICO_PREFIX, type Resource } from '@cattail/api';
import { etcd } from '@cattail/datastore';
import { generateCluster, type GeneratedCluster } from './generator.js';

/** etcd's default `--max-txn-ops`. */
export const ETCD_MAX_TXN_OPS = 128;

export interface WriteOptions {
  /** Puts per transaction, 1..128. Default 128. */
  batchSize?: number;
  /** Transactions in flight. Default 8. */
  concurrency?: number;
}

export interface WriteResult {
  count: number;
  txns: number;
  bytes: number;
  ms: number;
  /** etcd revision after the last transaction. */
  revision: number;
}

export async function writeResources(client: etcd.EtcdClient, resources: readonly Resource[], opts: WriteOptions = {}): Promise<WriteResult> {
  const batchSize = opts.batchSize ?? ETCD_MAX_TXN_OPS;
  const concurrency = opts.concurrency ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > ETCD_MAX_TXN_OPS) {
    throw new RangeError(`batchSize must be 1..${ETCD_MAX_TXN_OPS}, got ${batchSize}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new RangeError(`concurrency must be 1..64, got ${concurrency}`);
  const start = performance.now();
  let next = 0;
  let txns = 0;
  let bytes = 0;
  let revision = 0;
  async function lane(): Promise<void> {
    while (next < resources.length) {
      const chunk = resources.slice(next, next + batchSize);
      next += chunk.length;
      const success = chunk.map((r) => {
        const value = encodeValue(r);
        bytes += value.length;
        return etcd.op.put(keyFor(r), value);
      });
      const res = await client.txn({ success });
      txns++;
      if (res.revision > revision) revision = res.revision;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(resources.length / batchSize)) }, lane));
  return { count: resources.length, txns, bytes, ms: performance.now() - start, revision };
}

export interface SeedOptions extends WriteOptions {
  resources: number;
  seed?: number;
  /** Delete everything under /calico/ first. Default false. */
  clear?: boolean;
}

export interface SeedResult {
  cluster: GeneratedCluster;
  write: WriteResult;
  /** Keys removed by `clear`. */
  deleted: number;
}

/** Generates a cluster of `resources` keys and writes it. */
export async function seedCluster(client: etcd.EtcdClient, opts: SeedOptions): Promise<SeedResult> {
  const cluster = generateCluster({ resources: opts.resources, seed: opts.seed });
  let deleted = 0;
  if (opts.clear) deleted = (await client.deleteRange(CALICO_PREFIX, { prefix: true })).deleted;
  const write = await writeResources(client, cluster.resources, opts);
  return { cluster, write, deleted };
}
