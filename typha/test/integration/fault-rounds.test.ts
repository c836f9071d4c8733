// The randomized fault test (issue "Never a wrong state after faults"): a few seeded rounds of
// real etcd, two `cattail typha` processes and 50 real SyncClients under random faults (Typha
// SIGKILLed or SIGTERMed and restarted, etcd stopped, restarted and compacted, a replica's etcd
// link cut or frozen, client sockets reset), interleaved with random writes. After each round
// every fault is healed, and every client in sync past the last write must hold exactly etcd's
// projection for its syncer. Harness and design: ../fault/round.ts.
//
//   CATTAIL_FAULT_ROUNDS  rounds to run (default 3); CATTAIL_FAULT_SEED  first seed (default: the clock)
//
// The rounds run in the long-run CLI (`../fault/run.js`), as a child process: the test checks
// exactly what a long run checks, and the harness's sockets and processes live and die with
// that child. A failing round prints its seed, steps and per-client diff; replay it with
//   node typha/dist/test/fault/run.js --seed <seed> --rounds 1
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROUND_DEFAULTS, type RoundResult } from '../fault/round.js';

const RUN = fileURLToPath(new URL('../fault/run.js', import.meta.url));
const rounds = Number(process.env.CATTAIL_FAULT_ROUNDS ?? 3);
const base = process.env.CATTAIL_FAULT_SEED !== undefined ? Number(process.env.CATTAIL_FAULT_SEED) : Date.now() % 2 ** 31;

function runRounds(): Promise<{ lines: RoundResult[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, '--rounds', String(rounds), '--seed', String(base), '--keep-going'], { stdio: ['ignore', 'pipe', 'pipe'] });
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

test(`after random faults every client holds etcd's projection (${rounds} rounds from seed ${base})`, async (t) => {
  assert.ok(Number.isSafeInteger(rounds) && rounds > 0, 'CATTAIL_FAULT_ROUNDS must be a positive integer');
  assert.ok(Number.isSafeInteger(base) && base >= 0, 'CATTAIL_FAULT_SEED must be a non-negative integer');
  const { lines, stderr, code } = await runRounds();
  for (const r of lines) t.diagnostic(JSON.stringify({ ...r, plan: r.plan.join(', ') }));
  assert.equal(lines.length, rounds, `every round reported (runner exit ${code}):\n${stderr.slice(-4000)}`);
  const failed = lines.filter((r) => !r.ok);
  assert.deepEqual(
    failed.map((r) => ({ seed: r.seed, kinds: r.kinds })),
    [],
    stderr,
  );
  assert.equal(code, 0);
});
