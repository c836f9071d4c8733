import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@cattail/typha/client';
import { FelixAgent } from '../../src/agent/felix-agent.js';
import type { DataplaneMessage } from '../../src/proto/messages.js';
import { NODE, gnp, update, wep } from '../calc/harness.js';

function recorder(): { batches: DataplaneMessage[][]; onMessages(m: DataplaneMessage[]): void } {
  const batches: DataplaneMessage[][] = [];
  return { batches, onMessages: (m) => batches.push(m) };
}

test('nothing reaches the dataplane before in-sync; then the snapshot, ending in InSync', () => {
  const dp = recorder();
  const agent = new FelixAgent({ nodeName: NODE, dataplane: dp });
  agent.onStatus('connecting', { revision: 0 });
  agent.onStatus('resync', { revision: 0, mode: 'snapshot' });
  agent.onUpdates([wep('default', 'a', { ips: ['10.0.0.1/32'] })], 5);
  assert.equal(dp.batches.length, 0);
  assert.equal(agent.ready, false);
  agent.onStatus('in-sync', { revision: 5, server: 'typha-1' });
  assert.equal(dp.batches.length, 1);
  assert.equal(dp.batches[0].at(-1)?.kind, 'InSync');
  assert.ok(dp.batches[0].some((m) => m.kind === 'WorkloadEndpointUpdate'));
  assert.equal(agent.ready, true);
  assert.deepEqual(agent.status().typha, { status: 'in-sync', connected: true, revision: 5, server: 'typha-1' });
});

test('a disconnect sends nothing; a reconnect with no changes sends nothing; a change sends only itself', () => {
  const dp = recorder();
  const agent = new FelixAgent({ nodeName: NODE, dataplane: dp });
  agent.onStatus('resync', { revision: 0 });
  agent.onUpdates([wep('default', 'a', { ips: ['10.0.0.1/32'] })], 5);
  agent.onStatus('in-sync', { revision: 5 });
  const before = dp.batches.length;
  agent.onStatus('disconnected', { revision: 5, reason: 'gone' });
  assert.equal(agent.status().typha.connected, false);
  assert.equal(agent.ready, true, 'stays ready: the dataplane keeps its state');
  agent.onStatus('connecting', { revision: 5 });
  agent.onStatus('resync', { revision: 5, mode: 'resume' });
  agent.onStatus('in-sync', { revision: 5 });
  assert.equal(dp.batches.length, before, 'an unchanged resync sends no message');
  agent.onUpdates([gnp('deny', { selector: 'all()', ingress: [{ action: 'Deny' }], types: ['Ingress'] })], 6);
  assert.equal(dp.batches.length, before + 1);
  assert.ok(!dp.batches.at(-1)!.some((m) => m.kind === 'InSync'));
});

test('the merged FelixConfiguration goes to onConfig', () => {
  const seen: Array<Record<string, unknown>> = [];
  const agent = new FelixAgent({ nodeName: NODE, dataplane: recorder(), onConfig: (c) => seen.push(c) });
  agent.onUpdates(
    [update('FelixConfiguration', 'default', { logSeverityScreen: 'Info' }), update('FelixConfiguration', `node.${NODE}`, { logSeverityScreen: 'Debug' })],
    3,
  );
  agent.onStatus('in-sync', { revision: 3 });
  assert.deepEqual(seen.at(-1), { logSeverityScreen: 'Debug' });
});

test('"lost Typha" is logged when a live connection ends, not for each failed attempt', () => {
  const warnings: string[] = [];
  const log: Logger = { error() {}, info() {}, debug() {}, warn: (_o, msg) => warnings.push(msg ?? ''), child: () => log };
  const agent = new FelixAgent({ nodeName: NODE, dataplane: recorder(), logger: log });
  for (let i = 0; i < 3; i++) {
    agent.onStatus('connecting', { revision: 0 });
    agent.onStatus('disconnected', { revision: 0, retryInMs: 100 });
  }
  assert.deepEqual(warnings, []);
  agent.onStatus('connecting', { revision: 0 });
  agent.onStatus('resync', { revision: 0 });
  agent.onStatus('in-sync', { revision: 1 });
  agent.onStatus('disconnected', { revision: 1 });
  agent.onStatus('connecting', { revision: 1 });
  agent.onStatus('disconnected', { revision: 1 });
  assert.deepEqual(warnings, ['lost Typha; dataplane kept as it is']);
});
