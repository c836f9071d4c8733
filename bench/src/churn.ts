/**
 * The churn writer: changes WorkloadEndpoint labels at a fixed rate for a fixed time, one etcd
 * put per update, each stamped with its write time in the label `bench.cattail/ts` (monotonic
 * ns; the felix projection keeps WorkloadEndpoint labels, so the stamp reaches every client).
 *
 * Bounded in count and time: update i is due at start + i / rate; at most `maxInFlight` puts are
 * outstanding, and an update that comes due while the writer is at that bound waits for a slot
 * (reported as `lateWrites` when it goes out more than 10 ms after its due time). The writer
 * stops issuing at `durationMs` and then waits for the puts in flight. Which endpoint changes
 * is drawn from a seeded RNG (uniform, with replacement), so runs are repeatable.
 */
import { encodeValue, keyFor, type Resource } from '@cattail/api';
import type { etcd } from '@cattail/datastore';
import { monoMs, monoStamp } from './clock.js';
import { withTimestamp } from './generator.js';
import { createRng } from './rng.js';

export interface ChurnOptions {
  client: etcd.EtcdClient;
  /** The endpoints to change; entries are replaced by the written version. */
  weps: Resource[];
  /** Updates per second. */
  rate: number;
  durationMs: number;
  seed: number;
  maxInFlight?: number;
  /** Filled with the indices (into `weps`) of the endpoints changed. */
  touched?: Set<number>;
}

export interface ChurnResult {
  writes: number;
  /** Distinct endpoints changed. */
  distinctKeys: number;
  errors: number;
  lateWrites: number;
  /** Largest etcd revision a put returned. */
  lastRevision: number;
  firstStampMs: number;
  lastStampMs: number;
  elapsedMs: number;
  achievedRate: number;
  /** Put round trip (issue → etcd answer), ms. */
  putMsMax: number;
  putMsMean: number;
}

export async function churn(o: ChurnOptions): Promise<ChurnResult> {
  const maxInFlight = o.maxInFlight ?? 16;
  const rng = createRng(o.seed);
  const total = Math.floor((o.rate * o.durationMs) / 1000);
  const start = monoMs();
  let issued = 0;
  let inFlight = 0;
  const r: ChurnResult = {
    writes: 0,
    distinctKeys: 0,
    errors: 0,
    lateWrites: 0,
    lastRevision: 0,
    firstStampMs: NaN,
    lastStampMs: NaN,
    elapsedMs: 0,
    achievedRate: 0,
    putMsMax: 0,
    putMsMean: 0,
  };
  let putMsSum = 0;
  let slotFree: (() => void) | undefined;
  const touched = o.touched ?? new Set<number>();

  async function write(): Promise<void> {
    const i = rng.int(o.weps.length);
    touched.add(i);
    const stamp = monoStamp();
    const stampMs = Number(stamp) / 1e6;
    if (Number.isNaN(r.firstStampMs)) r.firstStampMs = stampMs;
    r.lastStampMs = stampMs;
    const next = withTimestamp(o.weps[i], stamp);
    o.weps[i] = next;
    try {
      const res = await o.client.put(keyFor(next), encodeValue(next));
      r.writes++;
      if (res.revision > r.lastRevision) r.lastRevision = res.revision;
    } catch {
      r.errors++;
    }
    const ms = monoMs() - stampMs;
    putMsSum += ms;
    if (ms > r.putMsMax) r.putMsMax = ms;
  }

  const pending = new Set<Promise<void>>();
  while (issued < total) {
    const due = start + (issued * 1000) / o.rate;
    const now = monoMs();
    if (now - start > o.durationMs) break;
    if (due > now) {
      await sleep(due - now);
      continue;
    }
    if (inFlight >= maxInFlight) {
      await new Promise<void>((resolve) => {
        slotFree = resolve;
      });
      continue;
    }
    if (now - due > 10) r.lateWrites++;
    issued++;
    inFlight++;
    const p = write().finally(() => {
      inFlight--;
      pending.delete(p);
      const f = slotFree;
      slotFree = undefined;
      f?.();
    });
    pending.add(p);
  }
  await Promise.all(pending);
  r.distinctKeys = touched.size;
  r.elapsedMs = monoMs() - start;
  r.achievedRate = r.writes / (r.elapsedMs / 1000);
  r.putMsMean = r.writes + r.errors > 0 ? putMsSum / (r.writes + r.errors) : 0;
  return r;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
