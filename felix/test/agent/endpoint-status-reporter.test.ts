import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@cattail/typha/testing';
import { EndpointStatusReporter, hostEndpointStatusKey, workloadStatusKey, type EndpointStatusStore } from '../../src/agent/endpoint-status-reporter.js';
import type { EndpointOperStatus, EndpointStatusReport } from '../../src/dataplane/endpoint-status.js';

class FakeStore implements EndpointStatusStore {
  failing = false;
  readonly kv = new Map<string, string>();
  /** Every write, in order: `key=status` or `key deleted`. */
  readonly log: string[] = [];
  async put(key: string, value: string): Promise<void> {
    if (this.failing) throw new Error('etcd unreachable');
    this.kv.set(key, value);
    this.log.push(`${key}=${(JSON.parse(value) as { status: string }).status}`);
  }
  async delete(key: string): Promise<void> {
    if (this.failing) throw new Error('etcd unreachable');
    this.kv.delete(key);
    this.log.push(`${key} deleted`);
  }
  async list(prefix: string): Promise<Array<{ key: string; value: string }>> {
    if (this.failing) throw new Error('etcd unreachable');
    return [...this.kv].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value }));
  }
  status(key: string): string | undefined {
    const v = this.kv.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as { status: string }).status;
  }
}

function report(workloads: Record<string, EndpointOperStatus>, hostEndpoints: Record<string, EndpointOperStatus> = {}): EndpointStatusReport {
  return { workloads: new Map(Object.entries(workloads)), hostEndpoints: new Map(Object.entries(hostEndpoints)) };
}

const A = workloadStatusKey('n1', 'default/n1-k8s-a-eth0');
const B = workloadStatusKey('n1', 'default/n1-k8s-b-eth0');
const H = hostEndpointStatusKey('n1', 'eth0-hep');

function reporter(store: FakeStore, clock = new FakeClock(), resyncEvery?: number): EndpointStatusReporter {
  return new EndpointStatusReporter({ store, nodeName: 'n1', delayMs: 1000, clock, ...(resyncEvery ? { resyncEvery } : {}) });
}

test('keys: Calico-like layout under /cattail/felix/v2/<node>/', () => {
  assert.equal(A, '/cattail/felix/v2/n1/workload/default/n1-k8s-a-eth0');
  assert.equal(H, '/cattail/felix/v2/n1/host-endpoint/eth0-hep');
});

test('a status is written once it has held for a delay; a stale key of an earlier run is deleted at once', async () => {
  const store = new FakeStore();
  store.kv.set(workloadStatusKey('n1', 'default/gone'), '{"status":"up"}');
  store.kv.set(workloadStatusKey('other-node', 'default/x'), '{"status":"up"}');
  const r = reporter(store);
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up', 'default/n1-k8s-b-eth0': 'down' }, { 'eth0-hep': 'error' }));
  await r.tick();
  assert.deepEqual(store.log, [`${workloadStatusKey('n1', 'default/gone')} deleted`], 'first tick: resync removes the stale key only');
  await r.tick();
  assert.deepEqual(store.log.slice(1).sort(), [`${A}=up`, `${B}=down`, `${H}=error`].sort());
  assert.equal(store.status(workloadStatusKey('other-node', 'default/x')), 'up', "another node's keys are not ours");
  assert.equal(r.stats().pending, 0);
});

test('a flap inside the delay writes nothing new; a change that holds is written; a removed endpoint is deleted', async () => {
  const store = new FakeStore();
  const r = reporter(store);
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up', 'default/n1-k8s-b-eth0': 'up' }));
  await r.tick();
  await r.tick();
  store.log.length = 0;
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'down', 'default/n1-k8s-b-eth0': 'up' }));
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up', 'default/n1-k8s-b-eth0': 'up' }));
  await r.tick();
  await r.tick();
  assert.ok(!store.log.includes(`${A}=down`), `a's flap never reached the datastore: ${store.log.join(', ')}`);
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up', 'default/n1-k8s-b-eth0': 'down' }));
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up', 'default/n1-k8s-b-eth0': 'down' })); // same again: nothing new
  await r.tick();
  assert.equal(store.status(B), 'up', 'not before the delay');
  await r.tick();
  assert.equal(store.status(B), 'down');
  r.onReport(report({ 'default/n1-k8s-b-eth0': 'down' }));
  await r.tick();
  await r.tick();
  assert.equal(store.kv.has(A), false, "a's status goes with a");
  assert.equal(store.status(B), 'down');
});

test('after an outage the reporter resyncs: changes made meanwhile and keys lost are written again', async () => {
  const store = new FakeStore();
  const r = reporter(store);
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up', 'default/n1-k8s-b-eth0': 'up' }));
  await r.tick();
  await r.tick();
  store.failing = true;
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'down', 'default/n1-k8s-b-eth0': 'up' }));
  await r.tick();
  await r.tick();
  await r.tick();
  assert.equal(store.status(A), 'up', 'unreachable: not written');
  assert.ok(r.stats().failures > 0);
  assert.equal(r.stats().pending, 1, 'a is still pending');
  // The datastore comes back without b's key (restored from an older backup, say).
  store.kv.delete(B);
  store.failing = false;
  await r.tick();
  assert.equal(store.status(A), 'down');
  assert.equal(store.status(B), 'up', 'the resync after the outage put b back');
  assert.equal(r.stats().pending, 0);
});

test('the periodic resync repairs a key someone changed behind our back', async () => {
  const store = new FakeStore();
  const clock = new FakeClock();
  const r = reporter(store, clock, 3);
  r.start();
  r.onReport(report({ 'default/n1-k8s-a-eth0': 'up' }));
  const tick = async () => {
    clock.advance(1000);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  await tick();
  await tick();
  assert.equal(store.status(A), 'up');
  store.kv.set(A, '{"status":"down"}');
  await tick(); // tick 3: resync
  assert.equal(store.status(A), 'up', 'rewritten by the resync');
  assert.equal(r.stats().resyncs, 2, 'the first report and the third tick');
  await r.close();
  assert.equal(clock.pending, 0, 'close stops the timer');
  assert.equal(store.status(A), 'up', 'statuses stay after close, as in Calico');
});
