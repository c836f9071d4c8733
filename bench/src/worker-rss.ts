#!/usr/bin/env node
/**
 * `node bench/dist/src/worker-rss.js [--workers 1,2,4] [--resources 0] [--samples 8] [--json]`
 *
 * What a Typha replica's fan-out workers cost in memory before any client connects: for each K
 * in --workers, a real `cattail typha` with TYPHA_FANOUTWORKERS=K (all K started at once) on a
 * real etcd seeded with --resources of the synthetic cluster, until it is ready and every worker
 * listens; then its main process's and each worker's resident set, sampled --samples times 250 ms
 * apart (the last sample is reported, the largest beside it). This is the price the automatic
 * number avoids by starting one worker and another per 1,000 sockets held (docs/DESIGN.md,
 * *Fan-out workers*, *How many*), against the in-process replica (K = 1) in the same run.
 */
import { parseArgs } from 'node:util';
import { etcd } from '@cattail/datastore';
import { startEtcd, until, type EtcdServer } from '@cattail/datastore/testing';
import { intArg, UsageError } from './args.js';
import { round } from './fanout/round.js';
import { machineInfo } from './machine.js';
import { seedCluster } from './seeder.js';
import { childPids, oneProcStats, sleep, TyphaProcess } from './typha-process.js';

interface Sample {
  mainRssMB: number;
  workerRssMB: number[];
}

interface RunResult {
  fanoutWorkers: number;
  readyMs: number;
  mainRssMB: number;
  workerRssMB: number[];
  totalRssMB: number;
  /** The largest total over the samples. */
  maxTotalRssMB: number;
}

function sample(pid: number): Sample {
  const main = oneProcStats(pid);
  if (main === undefined) throw new Error(`typha (pid ${pid}) is gone`);
  const workerRssMB = childPids(pid)
    .map((c) => oneProcStats(c)?.rssMB)
    .filter((x): x is number => x !== undefined);
  return { mainRssMB: main.rssMB, workerRssMB };
}

async function measure(k: number, endpoints: string[], samples: number): Promise<RunResult> {
  const typha = await TyphaProcess.start({ etcdEndpoints: endpoints, maxConnections: 10_000, env: { TYPHA_FANOUTWORKERS: String(k) } });
  try {
    const readyMs = await typha.waitReady(120_000);
    if (k > 1) {
      // Every worker started and listening (answered its `listen`), as /status shows.
      await until(
        async () => {
          const s = await typha.status();
          const w = (s.fanoutWorkers as { accepting: boolean; pid?: number }[] | undefined) ?? [];
          return w.length === k && w.every((x) => x.accepting && x.pid !== undefined) ? true : undefined;
        },
        `${k} fan-out workers listening`,
        60_000,
      );
    }
    const got: Sample[] = [];
    for (let i = 0; i < samples; i++) {
      if (i > 0) await sleep(250);
      got.push(sample(typha.pid));
    }
    const last = got[got.length - 1];
    if (last.workerRssMB.length !== (k > 1 ? k : 0)) throw new Error(`expected ${k > 1 ? k : 0} worker processes, found ${last.workerRssMB.length}`);
    const total = (s: Sample): number => s.mainRssMB + s.workerRssMB.reduce((a, b) => a + b, 0);
    return {
      fanoutWorkers: k,
      readyMs: Math.round(readyMs),
      mainRssMB: round(last.mainRssMB, 1),
      workerRssMB: last.workerRssMB.map((x) => round(x, 1)),
      totalRssMB: round(total(last), 1),
      maxTotalRssMB: round(Math.max(...got.map(total)), 1),
    };
  } finally {
    await typha.stop().catch(() => typha.killNow());
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '1,2,4' },
      resources: { type: 'string' },
      samples: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const workers = (values.workers ?? '').split(',').map((w) => intArg('workers', w.trim(), 1, 1, 64));
  const resources = intArg('resources', values.resources, 0, 0, 2_000_000);
  const samples = intArg('samples', values.samples, 8, 1, 1000);
  const seed = intArg('seed', values.seed, 1, 0, 0xffff_ffff);
  let server: EtcdServer | undefined;
  let client: etcd.EtcdClient | undefined;
  try {
    server = await startEtcd();
    client = new etcd.EtcdClient({ endpoints: server.endpoints });
    if (resources > 0) await seedCluster(client, { resources, seed, clear: false });
    const runs: RunResult[] = [];
    for (const k of workers) {
      const r = await measure(k, server.endpoints, samples);
      runs.push(r);
      if (!values.json) {
        process.stdout.write(
          `K=${k}: main ${r.mainRssMB} MB, workers [${r.workerRssMB.join(', ')}] MB, total ${r.totalRssMB} MB (max ${r.maxTotalRssMB}), ready in ${r.readyMs} ms\n`,
        );
      }
    }
    const base = runs.find((r) => r.fanoutWorkers === 1);
    const out = {
      bench: 'typha-worker-rss',
      command: `node bench/dist/src/worker-rss.js ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(),
      params: { workers, resources, samples, seed },
      runs,
      // Each run's total over the in-process replica's, when K = 1 ran.
      ...(base !== undefined
        ? { ratiosOverInProcess: Object.fromEntries(runs.map((r) => [String(r.fanoutWorkers), round(r.totalRssMB / base.totalRssMB, 2)])) }
        : {}),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    client?.close();
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-rss: ${(err as Error).message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
