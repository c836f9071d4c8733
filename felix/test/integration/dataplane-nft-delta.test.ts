import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { DataplaneCommandError } from '../../src/dataplane/errors.js';
import { inNetns, processExec, type Exec } from '../../src/dataplane/exec.js';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import { nftOptionsFromConfig, renderRuleset } from '../../src/dataplane/nft-render.js';
import type { DataplaneMessage, PolicyId, Rule, TierInfo } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, requireNetnsTools, run, uniquePrefix } from '../../src/testing/netns.js';

// Model test of the incremental nft path: seeded random sequences of IP set, policy, profile
// and endpoint changes are applied by a LinuxDataplane to a real table (namespace `inc`), in
// deltas; after every apply its `nft -j list table` must equal that of the same desired state
// rendered from scratch and written whole into a second namespace (`ref`). Along the way a delta
// transaction is made to fail, the table is edited and deleted behind the dataplane's back, and
// the periodic resync is run. Replay a failure with CATTAIL_NFT_MODEL_SEED=<seed>.

const SEED = Number(process.env.CATTAIL_NFT_MODEL_SEED ?? 20261204);
const STEPS = 30;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The table's listing without handles, sets and chains by name, elements sorted, rules in order. */
async function normalisedTable(ns: string): Promise<unknown> {
  const doc = JSON.parse(await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'cattail'])) as {
    nftables: Array<Record<string, Record<string, unknown>>>;
  };
  const sets: Record<string, unknown> = {};
  const chains: Record<string, unknown> = {};
  const rules: Record<string, string[]> = {};
  for (const item of doc.nftables) {
    const [kind, body] = Object.entries(item)[0];
    if (kind === 'metainfo' || kind === 'table') continue;
    const { handle: _h, ...rest } = body;
    if (kind === 'set') {
      if (Array.isArray(rest.elem)) rest.elem = (rest.elem as unknown[]).map((e) => JSON.stringify(e)).sort();
      sets[String(rest.name)] = rest;
    } else if (kind === 'chain') {
      chains[String(rest.name)] = rest;
    } else if (kind === 'rule') {
      (rules[String(rest.chain)] ??= []).push(JSON.stringify(rest.expr));
    } else {
      assert.fail(`unexpected ${kind} in our table`);
    }
  }
  const byName = (o: Record<string, unknown>): unknown => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { sets: byName(sets), chains: byName(chains), rules: byName(rules) };
}

test('incremental nft applies leave exactly the table a from-scratch render makes (seeded model test)', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix('cnd');
  const tag = prefix.slice(4);
  const inc = await createNetns(`${prefix}-inc`);
  t.after(() => deleteNetns(inc));
  const ref = await createNetns(`${prefix}-ref`);
  t.after(() => deleteNetns(ref));

  let failNextWrite = false;
  const real = inNetns(processExec(), inc);
  const exec: Exec = async (file, args, input) => {
    if (file === 'nft' && args[0] === '-f' && failNextWrite) {
      failNextWrite = false;
      throw new DataplaneCommandError([file, ...args], 'Error: injected by the test');
    }
    return real(file, args, input);
  };
  const dp = new LinuxDataplane({ exec, nodeName: 'node1', clock: new FakeClock() });
  t.after(() => dp.close());

  const rnd = mulberry32(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const some = <T>(xs: readonly T[], max: number): T[] => xs.filter(() => rnd() < max / xs.length);
  const setIds = ['s:a', 's:b', 's:c', 's:d', 's:named'];
  const netMembers = [
    '10.1.0.0/16',
    '10.1.2.0/24',
    '10.1.2.3/32',
    '10.1.2.4/32',
    '10.2.0.1/32',
    '10.2.0.2/32',
    '10.3.0.0/24',
    'fd00::/64',
    'fd00::5/128',
    'fd00:1::1/128',
  ];
  const portMembers = ['10.1.2.3,tcp:80', '10.1.2.4,tcp:8080', '10.2.0.1,udp:53', 'fd00::5,tcp:443'];
  const policies: PolicyId[] = [0, 1, 2, 3, 4].map((i) => ({ tier: i < 3 ? 'default' : 'sec', name: `p${i}`, namespace: i % 2 ? 'ns1' : undefined }));
  const profiles = ['kns.ns1', 'kns.ns2'];
  const ifaces = [0, 1, 2, 3].map((i) => `cali${tag}${i}`);

  const rule = (): Rule => {
    const r: Rule = { action: pick(['Allow', 'Deny', 'Pass', 'Log'] as const), position: 0 };
    if (rnd() < 0.5) r.protocol = pick(['tcp', 'udp'] as const);
    if (r.protocol && rnd() < 0.6) r.dstPorts = [{ first: 80 + Math.floor(rnd() * 3), last: 80 + Math.floor(rnd() * 3) + 2 }];
    if (rnd() < 0.5) r.srcIpSetIds = [pick(setIds.slice(0, 4))];
    if (rnd() < 0.2) r.notDstIpSetIds = [pick(setIds.slice(0, 4))];
    if (r.protocol && rnd() < 0.2) r.dstNamedPortIpSetIds = ['s:named'];
    if (rnd() < 0.2) r.srcNets = some(['192.168.0.0/16', '172.16.0.0/12', 'fd01::/48'], 2);
    return r;
  };
  const rules = (): Rule[] => Array.from({ length: Math.floor(rnd() * 3) }, (_, i) => ({ ...rule(), position: i }));
  const tiers = (): TierInfo[] =>
    ['default', 'sec']
      .map((tier) => ({
        name: tier,
        defaultAction: pick(['Deny', 'Pass'] as const),
        ingressPolicies: some(
          policies.filter((p) => p.tier === tier),
          1.5,
        ),
        egressPolicies: some(
          policies.filter((p) => p.tier === tier),
          1.5,
        ),
      }))
      .filter((t) => t.ingressPolicies.length + t.egressPolicies.length > 0);

  const change = (): DataplaneMessage => {
    const r = rnd();
    if (r < 0.3) {
      const id = pick(setIds);
      const universe = id === 's:named' ? portMembers : netMembers;
      const x = rnd();
      if (x < 0.15) return { kind: 'IPSetRemove', id };
      if (x < 0.5 || !dp.desiredState.ipSets.has(id))
        return { kind: 'IPSetUpdate', id, type: id === 's:named' ? 'ip-port' : 'net', members: some(universe, 3).sort() };
      const have = dp.desiredState.ipSets.get(id)!.members;
      return { kind: 'IPSetDeltaUpdate', id, added: some(universe, 2).filter((m) => !have.has(m)), removed: some([...have], 1.5) };
    }
    if (r < 0.6) {
      const id = pick(policies);
      if (rnd() < 0.15) return { kind: 'ActivePolicyRemove', id };
      return { kind: 'ActivePolicyUpdate', id, policy: { namespace: id.namespace, inboundRules: rules(), outboundRules: rules() } };
    }
    if (r < 0.7) {
      const name = pick(profiles);
      if (rnd() < 0.2) return { kind: 'ActiveProfileRemove', id: { name } };
      return { kind: 'ActiveProfileUpdate', id: { name }, profile: { inboundRules: rules(), outboundRules: rules() } };
    }
    const i = Math.floor(rnd() * ifaces.length);
    const id = { namespace: 'ns1', name: `pod${i}` };
    if (rnd() < 0.2) return { kind: 'WorkloadEndpointRemove', id };
    return {
      kind: 'WorkloadEndpointUpdate',
      id,
      endpoint: { name: ifaces[i], ipv4Nets: [`10.9.0.${i + 1}/32`], ipv6Nets: [], profileIds: some(profiles, 1.2), tiers: tiers() },
    };
  };

  const check = async (step: number, what: string): Promise<void> => {
    await run('ip', ['netns', 'exec', ref, 'nft', '-f', '-'], renderRuleset(dp.desiredState, nftOptionsFromConfig(dp.desiredState.config)));
    assert.deepEqual(
      await normalisedTable(inc),
      await normalisedTable(ref),
      `seed ${SEED}, step ${step} (${what}): the kernel's table differs from a from-scratch render`,
    );
  };

  dp.onMessages([{ kind: 'InSync' }]);
  const first = await dp.apply();
  assert.equal(first.nftWrite, 'full', 'the first apply writes the whole table');
  await check(0, 'start');

  const counts = { delta: 0, repair: 0, full: 0, none: 0 };
  for (let step = 1; step <= STEPS; step++) {
    let what = 'random changes';
    if (step % 15 === 5) {
      failNextWrite = true;
      what = 'injected delta failure';
    } else if (step % 15 === 10) {
      // Someone else deletes our table: the next delta is refused by the kernel, and resynced.
      await run('ip', ['netns', 'exec', inc, 'nft', 'delete', 'table', 'inet', 'cattail']);
      what = 'table deleted out of band';
    }
    const msgs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, change);
    // A change that renders no different: nudge it until the table must change, so each step tests a delta.
    msgs.push({
      kind: 'ActivePolicyUpdate',
      id: policies[0],
      policy: { inboundRules: rules(), outboundRules: [{ action: 'Allow', position: 0, dstPorts: [{ first: 1000 + step, last: 1000 + step }] }] },
    });
    dp.onMessages(msgs);
    const report = await dp.apply();
    assert.deepEqual(report.errors, [], `seed ${SEED}, step ${step}`);
    counts[report.nftWrite]++;
    if (what === 'random changes') {
      assert.equal(report.nftDeltaError, undefined, `seed ${SEED}, step ${step}: the kernel took the delta`);
      assert.equal(report.nftWrite, 'delta', `seed ${SEED}, step ${step}`);
    } else {
      assert.ok(report.nftDeltaError, `seed ${SEED}, step ${step}: the delta failed (${what})`);
      assert.equal(report.nftResync, true, `seed ${SEED}, step ${step}: a failed delta is followed by a full resync`);
      assert.equal(report.nftWrite, what === 'injected delta failure' ? 'repair' : 'full', `seed ${SEED}, step ${step}`);
    }
    await check(step, what);
    if (step % 15 === 0) {
      // Drift the next delta would not notice (a chain emptied by hand): the periodic refresh repairs it.
      await run('ip', ['netns', 'exec', inc, 'nft', 'flush', 'chain', 'inet', 'cattail', 'filter-input']);
      const refreshed = await dp.refresh();
      assert.equal(refreshed.nftResync, true);
      assert.equal(refreshed.nftWrite, 'repair', `seed ${SEED}, step ${step}: the resync rewrote what drifted`);
      assert.equal(refreshed.nftApplied, true);
      await check(step, 'refresh after an out-of-band flush');
      const idle = await dp.refresh();
      assert.equal(idle.nftWrite, 'none', 'a resync of an undrifted table writes nothing');
    }
  }
  assert.ok(counts.delta >= STEPS / 2, `most steps went in as deltas: ${JSON.stringify(counts)}`);
});
