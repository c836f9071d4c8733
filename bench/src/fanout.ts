#!/usr/bin/env node
/**
 * The Typha fan-out benchmark.
 *
 *   npm run bench:fanout -- --clients 10000 --resources 35000 --rate 50 --duration 30 --json
 *
 *   etcd (startEtcd, or --etcd URL) ◀─seed R resources (txns of 128, 8 in flight)
 *     │ one watch
 *   Typha child (node cli/bin/cattail.js typha; TYPHA_* env; ports 0 → "listening" log line)
 *     │ WebSocket, msgpack
 *   swarm: W worker processes × (N/W LiteClients + 1 SyncClient)         floor server (ws, here)
 *                                                                               │ raw ws
 *                                                       the same workers: N raw clients
 *
 * Phases, each bounded in time:
 *   1. storm      every client connects at once (≤ --max-pending upgrades in flight per worker);
 *                 inSyncAllMs = storm start → the last client's first InSync
 *   2. churn      --rate WEP label writes/s for --duration s, each stamped with its write time;
 *                 deltaLatencyMs = stamp → receipt, every update × every client;
 *                 per revision, the first and last receipt over all clients (fan-out spread)
 *   3. resume     --resume-sample clients disconnect, --resume-gap s more churn, reconnect with
 *                 their resume token; resumeBytesRatio = bytes of that session ÷ bytes of the
 *                 same client's first (full snapshot) session
 *   4. floor      a plain ws server here writes a delta-sized buffer to N raw sockets held by the
 *                 same workers; floorRatio = Typha fan-out spread ÷ floor spread (medians)
 *   5. converge   wait for every client to reach the last write's revision; compare the digest of
 *                 every client with the digest of etcd projected by Typha's projectUpdate and
 *                 with a fresh reference SyncClient's
 *
 * Typha's CPU seconds and memory come from /proc/<pid>; everything started here (etcd, Typha,
 * workers) is ended by its pid on success, error and SIGINT/SIGTERM.
 *
 * Each phase is a module in fanout/ that runs it and turns its outcome into its figures
 * (storm.ts, steady-churn.ts, resume.ts, batches.ts + floor.ts, converge.ts; rig.ts starts the
 * parts, costs.ts reads what the run cost, result.ts assembles the JSON). This file is the CLI.
 */
import { UsageError } from './args.js';
import { machineInfo } from './machine.js';
import { printTable } from './report.js';
import { installSignalHandlers } from './signals.js';
import { withTimeout } from './swarm.js';
import { collectBatches, medianPayloadBytes } from './fanout/batches.js';
import { converge, targetRevision } from './fanout/converge.js';
import { finalCounts } from './fanout/costs.js';
import { floorRounds } from './fanout/floor.js';
import { FANOUT_USAGE, parseFanoutArgs, type FanoutParams } from './fanout/params.js';
import { compareFanoutWorkers, fanoutResult, type FanoutResult } from './fanout/result.js';
import { resumeAfterGap } from './fanout/resume.js';
import { checkFileLimit, killParts, startRig, stopParts, type RunningParts } from './fanout/rig.js';
import { steadyChurn } from './fanout/steady-churn.js';
import { connectStorm } from './fanout/storm.js';

/** Everything started, for cleanup by pid on every exit path. */
const running: RunningParts = {};

function log(msg: string): void {
  process.stderr.write(`[fanout +${(performance.now() / 1000).toFixed(1)}s] ${msg}\n`);
}

async function run(p: FanoutParams): Promise<FanoutResult> {
  const machine = machineInfo();
  checkFileLimit(p, machine);
  const rig = await startRig(p, running, log);
  const storm = await connectStorm(rig);
  const churn = await steadyChurn(rig);
  const resume = await resumeAfterGap(rig, churn.seesChurn);
  const batches = await collectBatches(rig);
  const floor = await floorRounds(rig, medianPayloadBytes(batches));
  const convergence = await converge(rig, targetRevision(rig, churn, resume));
  const final = await finalCounts(rig);
  return fanoutResult({ machine, rig, storm, churn, resume, batches, floor, convergence, final });
}

async function main(): Promise<number> {
  const args = parseFanoutArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${FANOUT_USAGE}\n`);
    return 0;
  }
  const { json } = args;
  const cleanup = (): Promise<void> => stopParts(running);
  installSignalHandlers({ cleanup, killNow: () => killParts(running), log });
  const results: FanoutResult[] = [];
  for (const k of args.fanoutWorkers) {
    const params: FanoutParams = { ...args.params, fanoutWorkers: k, typhaEnv: { ...args.params.typhaEnv, TYPHA_FANOUTWORKERS: String(k) } };
    log(`run ${results.length + 1} of ${args.fanoutWorkers.length}: TYPHA_FANOUTWORKERS=${k}`);
    let result: FanoutResult;
    try {
      result = await withTimeout(
        run(params),
        (params.stormTimeoutS + params.durationS + params.resumeGapS) * 1000 + 15 * 60_000,
        'the whole benchmark did not finish',
      );
    } catch (err) {
      // One run of a series failing (a phase over its time bound) is reported, and the series goes on.
      if (args.fanoutWorkers.length === 1) throw err;
      const failed = { bench: 'typha-fanout', fanoutWorkers: k, params, error: err instanceof Error ? err.message : String(err) };
      log(`run with TYPHA_FANOUTWORKERS=${k} failed: ${failed.error}`);
      if (json) process.stdout.write(`${JSON.stringify(failed)}\n`);
      continue;
    } finally {
      await cleanup();
      for (const key of Object.keys(running) as (keyof RunningParts)[]) delete running[key];
    }
    results.push(result);
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    printTable(result, json ? process.stderr : process.stdout);
  }
  if (results.length > 1) {
    const line = compareFanoutWorkers(results);
    if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
    else process.stdout.write(`${JSON.stringify(line, null, 2)}\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fanout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
