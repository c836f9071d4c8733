// The fault plan: a pure function of the seed, and every step makes sense where it stands
// (nothing healed that is not broken, no write while etcd is down, only live replicas killed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStep, planRound } from './plan.js';
import { createRng } from './prng.js';

test('the same seed plans the same steps', () => {
  const a = planRound(createRng(99), 40).map(describeStep);
  assert.deepEqual(planRound(createRng(99), 40).map(describeStep), a);
  assert.notDeepEqual(planRound(createRng(100), 40).map(describeStep), a);
});

test('every step is valid in the state the previous ones left, over many seeds', () => {
  const ops = new Set<string>();
  for (let seed = 0; seed < 300; seed++) {
    const up = { A: true, B: true };
    const link = { A: 'open', B: 'open' };
    let etcdUp = true;
    for (const s of planRound(createRng(seed), 30)) {
      ops.add(s.op);
      const where = `seed ${seed}: ${describeStep(s)}`;
      switch (s.op) {
        case 'write':
        case 'compact':
        case 'etcd-stop':
          assert.ok(etcdUp, where);
          if (s.op === 'etcd-stop') etcdUp = false;
          break;
        case 'etcd-start':
          assert.ok(!etcdUp, where);
          etcdUp = true;
          break;
        case 'typha-kill':
        case 'typha-term':
        case 'clients-reset':
          assert.ok(up[s.replica], where);
          if (s.op !== 'clients-reset') up[s.replica] = false;
          break;
        case 'typha-start':
          assert.ok(!up[s.replica], where);
          up[s.replica] = true;
          break;
        case 'link-cut':
        case 'link-freeze':
          assert.equal(link[s.replica], 'open', where);
          link[s.replica] = s.op === 'link-cut' ? 'cut' : 'frozen';
          break;
        case 'link-heal':
          assert.notEqual(link[s.replica], 'open', where);
          link[s.replica] = 'open';
          break;
        case 'hold':
          assert.ok(s.ms > 0 && s.ms <= 2000, where);
          break;
      }
    }
  }
  assert.equal(ops.size, 12, `every kind of step is planned somewhere: ${[...ops].join(', ')}`);
});
