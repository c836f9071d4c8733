import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMessages, emptyDesiredState } from '../../src/dataplane/desired-state.js';
import { nftOptionsFromConfig, renderRuleset } from '../../src/dataplane/nft-render.js';
import { createNetns, deleteNetns, requireNetnsTools, run, succeeds, uniquePrefix } from '../../src/testing/netns.js';
import { POLICY_CASES, stateWithHostEndpoint, stateWithPolicy } from './policy-cases.js';

// Every rendered ruleset of the policy table must be accepted by the real nft parser and
// kernel-independent checks (`nft -c`, check mode: nothing is changed), in a throwaway netns.

test('every policy case renders a ruleset that nft -c accepts', async (t) => {
  await requireNetnsTools();
  const ns = await createNetns(`${uniquePrefix()}-chk`);
  const dir = await mkdtemp(join(tmpdir(), 'cfx-nft-'));
  t.after(async () => {
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  });
  for (const c of POLICY_CASES) {
    const file = join(dir, `${c.name.replace(/\W+/g, '_')}.nft`);
    for (const [variant, state] of [
      ['workload', stateWithPolicy(c.inbound, c.outbound)],
      ['host endpoint', stateWithHostEndpoint(c.inbound, c.outbound)],
    ] as const) {
      await writeFile(file, renderRuleset(state));
      try {
        await run('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', file]);
      } catch (err) {
        assert.fail(`case "${c.name}" (${variant}): nft -c rejected the ruleset: ${(err as { stderr?: string }).stderr ?? String(err)}`);
      }
    }
  }
});

test('failsafe ports from configuration (with and without nets) pass nft -c', async (t) => {
  await requireNetnsTools();
  const ns = await createNetns(`${uniquePrefix()}-chk`);
  const dir = await mkdtemp(join(tmpdir(), 'cfx-nft-'));
  t.after(async () => {
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  });
  const opts = nftOptionsFromConfig({
    failsafeInboundHostPorts: [
      { protocol: 'TCP', port: 22 },
      { protocol: 'UDP', port: 53, net: '10.0.0.0/8' },
      { protocol: 'SCTP', port: 9, net: 'fd00::/8' },
    ],
    failsafeOutboundHostPorts: [{ protocol: 'TCP', port: 443, net: '192.168.0.0/16' }],
  });
  const file = join(dir, 'failsafe.nft');
  await writeFile(file, renderRuleset(stateWithHostEndpoint([], []), opts));
  await run('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', file]);
});

test('NAT outgoing rules (masquerade, port range, SNAT address, both families) pass nft -c', async (t) => {
  await requireNetnsTools();
  const ns = await createNetns(`${uniquePrefix()}-chk`);
  const dir = await mkdtemp(join(tmpdir(), 'cfx-nft-'));
  t.after(async () => {
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  });
  const state = emptyDesiredState();
  applyMessages(state, [
    { kind: 'IPAMPoolUpdate', id: 'a', pool: { cidr: '10.65.0.0/16', masquerade: true, ipipMode: 'Never', vxlanMode: 'Never', disabled: false } },
    { kind: 'IPAMPoolUpdate', id: 'b', pool: { cidr: '10.66.0.0/16', masquerade: false, ipipMode: 'Never', vxlanMode: 'Never', disabled: false } },
    { kind: 'IPAMPoolUpdate', id: 'c', pool: { cidr: 'fd00:65::/64', masquerade: true, ipipMode: 'Never', vxlanMode: 'Never', disabled: false } },
  ]);
  for (const config of [{}, { natPortRange: '32768:65535' }, { natPortRange: 1024, natOutgoingAddress: '192.0.2.7' }, { natOutgoingAddress: '192.0.2.7' }]) {
    const file = join(dir, 'nat.nft');
    await writeFile(file, renderRuleset(state, nftOptionsFromConfig(config)));
    await run('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', file]).catch((err: Error) => assert.fail(`${JSON.stringify(config)}: ${err.message}`));
  }
});

test('nft -c rejects a broken ruleset (the check can fail)', async (t) => {
  await requireNetnsTools();
  const ns = await createNetns(`${uniquePrefix()}-chk`);
  const dir = await mkdtemp(join(tmpdir(), 'cfx-nft-'));
  t.after(async () => {
    await deleteNetns(ns);
    await rm(dir, { recursive: true, force: true });
  });
  const state = emptyDesiredState();
  applyMessages(state, [{ kind: 'InSync' }]);
  const file = join(dir, 'broken.nft');
  await writeFile(file, renderRuleset(state).replace('ct state invalid drop', 'ct state bogus drop'));
  assert.equal(await succeeds('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', file]), false);
});
