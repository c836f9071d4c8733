// The randomized fault test (issue "Never a wrong state after faults"): a few seeded rounds of
// real etcd, two `cattail typha` processes and 50 real SyncClients under random faults (Typha
// SIGKILLed or SIGTERMed and restarted, etcd stopped, restarted and compacted, a replica's etcd
// link cut or frozen, client sockets reset), interleaved with random writes. After each round
// every fault is healed, and every client in sync past the last write must hold exactly etcd's
// projection for its syncer. Harness and design: ../fault/round.ts.
//
//   CATTAIL_FAULT_ROUNDS  rounds to run (default 3); CATTAIL_FAULT_SEED  first seed (default: the clock)
//   CATTAIL_FAULT_WORKER_ROUNDS  rounds after those with two fan-out workers per replica (default 2):
//   workers are the default wherever a replica has more than one CPU (TYPHA_FANOUTWORKERS=0)
//
// The rounds run in the long-run CLI (`../fault/run.js`), as a child process: the test checks
// exactly what a long run checks, and the harness's sockets and processes live and die with
// that child. A failing round prints its seed, steps and per-client diff; replay it with
//   node typha/dist/test/fault/run.js --seed <seed> --rounds 1 [--fanout-workers 2]
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROUND_DEFAULTS, type RoundResult } from '../fault/round.js';

const RUN = fileURLToPath(new URL('../fault/run.js', import.meta.url));
const rounds = Number(process.env.CATTAIL_FAULT_ROUNDS ?? 3);
const workerRounds = Number(process.env.CATTAIL_FAULT_WORKER_ROUNDS ?? 2);
const base = process.env.CATTAIL_FAULT_SEED !== undefined ? Number(process.env.CATTAIL_FAULT_SEED) : Date.now() % 2 ** 31;

function runRounds(rounds: number, seed: number, fanoutWorkers: number): Promise<{ lines: RoundResult[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const args = [RUN, '--rounds', String(rounds), '--seed', String(seed), '--fanout-workers', String(fanoutWorkers), '--keep-going'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Each round bounds itself; this only catches a runner that hangs outright.
    const timer = setTimeout(() => child.kill('SIGTERM'), rounds * ROUND_DEFAULTS.roundMs + 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{') && !l.includes('"summary"'))
        .map((l) => JSON.parse(l) as RoundResult);
      resolve({ lines, stderr, code });
    });
  });
}

async function check(t: TestContext, rounds: number, seed: number, fanoutWorkers: number): Promise<void> {
  assert.ok(Number.isSafeInteger(rounds) && rounds > 0, 'the number of rounds must be a positive integer');
  assert.ok(Number.isSafeInteger(seed) && seed >= 0, 'CATTAIL_FAULT_SEED must be a non-negative integer');
  const { lines, stderr, code } = await runRounds(rounds, seed, fanoutWorkers);
  for (const r of lines) t.diagnostic(JSON.stringify({ ...r, plan: r.plan.join(', ') }));
  assert.equal(lines.length, rounds, `every round reported (runner exit ${code}):\n${stderr.slice(-4000)}`);
  const failed = lines.filter((r) => !r.ok);
  assert.deepEqual(
    failed.map((r) => ({ seed: r.seed, kinds: r.kinds })),
    [],
    stderr,
  );
  assert.equal(code, 0);
  // Which write path the clients were on at the end: the workers' sockets, or the replicas' own.
  for (const r of lines) {
    if (fanoutWorkers > 1) assert.ok((r.workerSockets ?? 0) > 0, `round ${r.round}: the clients are connected through fan-out workers`);
    else assert.equal(r.workerSockets, 0, `round ${r.round}: no fan-out workers`);
  }
}

const firstWorkers = Number(process.env.CATTAIL_TEST_FANOUTWORKERS ?? 1);
test(`after random faults every client holds etcd's projection (${rounds} rounds from seed ${base})`, async (t) => {
  await check(t, rounds, base, firstWorkers);
});

test(
  `the same with two fan-out workers per replica (${workerRounds} round(s) from seed ${base + rounds})`,
  { skip: workerRounds === 0 && 'CATTAIL_FAULT_WORKER_ROUNDS=0' },
  async (t) => {
    await check(t, workerRounds, base + rounds, 2);
  },
);
