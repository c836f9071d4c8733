/** The stages wired as the daemon will: validate ─▶ tee ─▶ per syncer project ─▶ dedupe. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDedupeStage } from '../../src/pipeline/dedupe-stage.js';
import { createProjectionStage } from '../../src/pipeline/projection-stage.js';
import { teeCallbacks } from '../../src/pipeline/tee.js';
import { createValidationStage } from '../../src/pipeline/validation-stage.js';
import type { SyncerType, Update } from '../../src/protocol/messages.js';
import { put, recordingSink, res, type RecordingSink } from './helpers.js';

test('IPAM churn reaches the ipam syncer only; every syncer still advances its revision', () => {
  const sinks = new Map<SyncerType, RecordingSink<Update>>();
  const dedupes = new Map<SyncerType, ReturnType<typeof createDedupeStage>>();
  const branches = (['felix', 'bgp', 'ipam', 'status'] as const).map((s) => {
    const sink = recordingSink<Update>();
    const dedupe = createDedupeStage(sink);
    sinks.set(s, sink);
    dedupes.set(s, dedupe);
    return createProjectionStage(s, dedupe);
  });
  const pipeline = createValidationStage(teeCallbacks(branches));

  // A /26 block as Calico's IPAM writes it, with `used` addresses allocated (passes validation).
  const block = (used: number, rev: number) =>
    put(
      res('IPAMBlock', '10-0-0-0-26', {
        cidr: '10.0.0.0/26',
        affinity: 'host:n1',
        strictAffinity: false,
        allocations: Array.from({ length: 64 }, (_, i) => (i < used ? i : null)),
        unallocated: Array.from({ length: 64 - used }, (_, i) => used + i),
        attributes: Array.from({ length: used }, (_, i) => ({ handle_id: `k8s-pod-network.c${i}`, secondary: { node: 'n1', pod: `p${i}` } })),
        deleted: false,
        sequenceNumber: used,
      }),
      rev,
    );
  pipeline.onUpdates([block(1, 10)], 10);
  pipeline.onUpdates([block(2, 11)], 11);
  pipeline.onUpdates([block(3, 12)], 12);

  for (const s of ['felix', 'bgp'] as const) {
    const sink = sinks.get(s)!;
    assert.equal(sink.updates().length, 1, s);
    assert.equal(sink.lastRevision(), 12, s);
    assert.equal(dedupes.get(s)!.stats().skipped, 2, s);
  }
  assert.equal(sinks.get('ipam')!.updates().length, 3);
  assert.deepEqual(sinks.get('felix')!.updates()[0].value, { spec: { cidr: '10.0.0.0/26', affinity: 'host:n1' } });
  assert.equal(sinks.get('status')!.updates().length, 0);
  assert.equal(sinks.get('status')!.lastRevision(), 12);
});
