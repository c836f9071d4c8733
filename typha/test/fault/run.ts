/**
 * The long-run CLI of the fault test:
 *
 *   node typha/dist/test/fault/run.js [--rounds N] [--seed S] [--steps N] [--clients N] [--fanout-workers K] [--keep-going]
 *
 * Round i runs with seed S + i (S defaults to the clock), each in a fresh world, one after
 * another. One JSON line per round on stdout, the full report of a failed round on stderr,
 * and a summary line at the end. Stops at the first failure unless --keep-going. Exit code 0
 * only if every round was clean. Replay a round with `--seed <its seed> --rounds 1` (and its
 * --fanout-workers). --fanout-workers K runs both replicas with TYPHA_FANOUTWORKERS=K (default
 * CATTAIL_TEST_FANOUTWORKERS, else 1: the sockets in the replica's own process).
 */
import { parseArgs } from 'node:util';
import { ROUND_DEFAULTS, runRound, type RoundResult } from './round.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1' },
    seed: { type: 'string' },
    steps: { type: 'string', default: String(ROUND_DEFAULTS.steps) },
    clients: { type: 'string', default: String(ROUND_DEFAULTS.clients) },
    'fanout-workers': { type: 'string', default: process.env.CATTAIL_TEST_FANOUTWORKERS ?? '1' },
    'keep-going': { type: 'boolean', default: false },
  },
});

function int(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

const rounds = int('rounds', values.rounds, 1);
const base = values.seed === undefined ? Date.now() % 2 ** 31 : int('seed', values.seed, 0);
const steps = int('steps', values.steps, 1);
const clients = int('clients', values.clients, 1);
const fanoutWorkers = int('fanout-workers', values['fanout-workers'], 1);

const results: RoundResult[] = [];
const started = Date.now();
for (let i = 0; i < rounds; i++) {
  const r = await runRound({ seed: base + i, round: i, steps, clients, typhaEnv: { TYPHA_FANOUTWORKERS: String(fanoutWorkers) } });
  results.push(r);
  const { report, ...line } = r;
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (report) process.stderr.write(`\n${report}\n\n`);
  if (!r.ok && !values['keep-going']) break;
}
const failed = results.filter((r) => !r.ok);
const converged = results
  .map((r) => r.convergedMs)
  .filter((ms): ms is number => ms !== undefined)
  .sort((a, b) => a - b);
const summary = {
  summary: true,
  rounds: results.length,
  passed: results.length - failed.length,
  failed: failed.length,
  firstSeed: base,
  fanoutWorkers,
  failingSeeds: failed.map((r) => ({ seed: r.seed, kinds: r.kinds })),
  convergedMsMedian: converged[Math.floor(converged.length / 2)] ?? null,
  convergedMsMax: converged.at(-1) ?? null,
  minutes: Math.round((Date.now() - started) / 600) / 100,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(failed.length === 0 ? 0 : 1);
