// The randomized fault test (issue "Never a wrong state after faults"): a few seeded rounds of
// real etcd, two `cattail typha` processes and 50 real SyncClients under random faults (Typha
// SIGKILLed or SIGTERMed and restarted, etcd stopped, restarted and compacted, a replica's etcd
// link cut or frozen, client sockets reset), interleaved with random writes. After each round
// every fault is healed, and every client in sync past the last write must hold exactly etcd's
// projection for its syncer. Harness and design: ../fault/round.ts.
//
//   CATTAIL_FAULT_ROUNDS  rounds to run (default 3); CATTAIL_FAULT_SEED  first seed (default: the clock)
//
// A failing round prints its seed, steps and per-client diff; replay it with
//   node typha/dist/test/fault/run.js --seed <seed> --rounds 1
// Long runs: the same CLI with --rounds N (docs/RELIABILITY.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRound } from '../fault/round.js';

const rounds = Number(process.env.CATTAIL_FAULT_ROUNDS ?? 3);
const base = process.env.CATTAIL_FAULT_SEED !== undefined ? Number(process.env.CATTAIL_FAULT_SEED) : Date.now() % 2 ** 31;

test(`after random faults every client holds etcd's projection (${rounds} rounds from seed ${base})`, async (t) => {
  assert.ok(Number.isSafeInteger(rounds) && rounds > 0, 'CATTAIL_FAULT_ROUNDS must be a positive integer');
  assert.ok(Number.isSafeInteger(base) && base >= 0, 'CATTAIL_FAULT_SEED must be a non-negative integer');
  for (let i = 0; i < rounds; i++) {
    const seed = base + i;
    await t.test(`round ${i}, seed ${seed}`, async (st) => {
      const { report, plan, ...line } = await runRound({ seed, round: i });
      st.diagnostic(JSON.stringify({ ...line, plan: plan.join(', ') }));
      assert.ok(line.ok, report);
    });
  }
});
