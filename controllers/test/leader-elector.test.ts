import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kdd } from '@cattail/datastore';
import { FakeClock } from '@cattail/typha/testing';
import { LeaderElector, type KubeRequester } from '../src/leader-elector.js';

/** The Lease part of an API server: get, create, update with a resourceVersion precondition. */
class FakeLeases implements KubeRequester {
  readonly objects = new Map<string, any>();
  #rv = 0;
  down = new Set<string>();
  caller = '';
  async request(method: string, path: string, body?: any): Promise<unknown> {
    if (this.down.has(this.caller)) throw new kdd.KubeHttpError(503, { message: 'unavailable' });
    const name = method === 'POST' ? `${path}/${body.metadata.name}` : path;
    const current = this.objects.get(name);
    if (method === 'GET') {
      if (!current) throw new kdd.KubeHttpError(404, { reason: 'NotFound' });
      return structuredClone(current);
    }
    if (method === 'POST' && current) throw new kdd.KubeHttpError(409, { reason: 'AlreadyExists' });
    if (method === 'PUT' && current?.metadata.resourceVersion !== body.metadata.resourceVersion) throw new kdd.KubeHttpError(409, { reason: 'Conflict' });
    const stored = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.#rv) } };
    this.objects.set(name, stored);
    return structuredClone(stored);
  }
}

/** Each elector gets its own requester view, so one can be cut off. */
function as(api: FakeLeases, who: string): KubeRequester {
  return {
    request: (m, p, b) => {
      api.caller = who;
      return api.request(m, p, b);
    },
  };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function elector(api: FakeLeases, clock: FakeClock, id: string, log: string[]) {
  return new LeaderElector(
    as(api, id),
    { onStartedLeading: () => void log.push(`${id}+`), onStoppedLeading: () => void log.push(`${id}-`) },
    { namespace: 'kube-system', name: 'kc', identity: id, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, clock },
  );
}

async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    clock.advance(500);
    await settle();
  }
}

test('one leader; a cut-off leader steps down by its renew deadline, before the other may take over at the lease duration', async () => {
  const api = new FakeLeases();
  const clock = new FakeClock();
  const log: string[] = [];
  const a = elector(api, clock, 'a', log);
  a.start();
  await settle();
  const b = elector(api, clock, 'b', log);
  b.start();
  await run(clock, 30_000);
  assert.deepEqual(log, ['a+']);
  assert.equal(b.status().holder, 'a');

  api.down.add('a');
  await run(clock, 9_000);
  assert.equal(a.isLeader, true, 'still within the renew deadline');
  await run(clock, 2_000);
  assert.equal(a.isLeader, false, 'stepped down at the renew deadline');
  assert.deepEqual(log, ['a+', 'a-']);
  assert.equal(b.isLeader, false, 'the Lease has not expired for b yet');
  await run(clock, 6_000);
  assert.equal(b.isLeader, true);
  assert.deepEqual(log, ['a+', 'a-', 'b+']);
  assert.equal(api.objects.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kc').spec.leaseTransitions, 1);

  // Back on line, a sees b's renewals and stays a candidate.
  api.down.delete('a');
  await run(clock, 30_000);
  assert.deepEqual(log, ['a+', 'a-', 'b+']);
  await b.stop();
  await a.stop();
});

test('expiry is judged by the observer’s own clock, never by the renewTime another machine wrote', async () => {
  const api = new FakeLeases();
  const clock = new FakeClock();
  const log: string[] = [];
  // A holder whose clock is an hour behind: its renewTime looks long expired, but it keeps changing.
  let skewed = Date.now() - 3_600_000;
  const a = new LeaderElector(
    as(api, 'a'),
    { onStartedLeading: () => void log.push('a+'), onStoppedLeading: () => void log.push('a-') },
    {
      namespace: 'kube-system',
      name: 'kc',
      identity: 'a',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock,
      now: () => new Date((skewed += 2_000)),
    },
  );
  a.start();
  await settle();
  const b = elector(api, clock, 'b', log);
  b.start();
  await run(clock, 60_000);
  assert.deepEqual(log, ['a+']);
  await a.stop();
  await settle();
  // Released on stop: b takes the free Lease at its next try.
  await run(clock, 2_000);
  assert.deepEqual(log, ['a+', 'a-', 'b+']);
  await b.stop();
});
