/**
 * The random writer: creates, updates and deletes resources from `resources.ts` through
 * `EtcdDatastore`, straight to etcd (never through a replica's link, which the faults break).
 *
 * Keys are hot the way pods are: a write often goes to one of the last few keys written (a pod
 * that just started is deleted, a policy is edited twice), so creates and deletes of the same
 * key land close together, often inside one fault.
 *
 * Its choices come from its own model of what exists (slot → version), not from reading etcd,
 * so a seed gives the same writes whatever the timing. Each write is idempotent in effect (a
 * put is update-or-create, a delete of a missing key is done), and a write that fails because
 * etcd is just back is retried until a deadline: a write may then have been applied twice,
 * which changes nothing. The expected state is read from etcd afterwards anyway (`expected.ts`).
 */
import { describeRef, refOf, type Resource } from '@cattail/api';
import { AlreadyExistsError, EtcdDatastore, NotFoundError } from '@cattail/datastore';
import type { Rng } from './prng.js';
import { fencePool, resourceAt, slotId, UNIVERSE, type Slot } from './resources.js';

const RETRY_MS = 100;
/** How many recently written keys stay hot, and how often a write goes to one of them. */
const HOT_KEYS = 6;
const HOT_CHANCE = 0.5;

export class Writer {
  readonly #ds: EtcdDatastore;
  readonly #rng: Rng;
  readonly #deadlineMs: number;
  /** slot id → current version; absent when deleted or never created. */
  readonly #model = new Map<string, number>();
  /** slot id → versions used so far (a re-created key gets a new value too). */
  readonly #versions = new Map<string, number>();
  readonly #hot: Slot[] = [];
  /** What was written, in order, for failure reports. */
  readonly log: string[] = [];
  #fence = 0;

  constructor(endpoint: string, rng: Rng, deadlineMs = 15_000) {
    this.#ds = new EtcdDatastore({ endpoints: [endpoint], dialTimeoutMs: 1000, requestTimeoutMs: 3000 });
    this.#rng = rng;
    this.#deadlineMs = deadlineMs;
  }

  /** `count` random writes, one after another. */
  async writeRandom(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.#one();
  }

  /**
   * A write both syncers carry and whose value is new every time: once a client holds it, it
   * has every earlier write. Returns its revision.
   */
  async fence(): Promise<number> {
    const res = fencePool(++this.#fence);
    const stored = await this.#retry(`fence ${this.#fence}`, () => this.#put(res));
    const revision = Number(stored.metadata.resourceVersion);
    this.log.push(`fence ${this.#fence} @${revision}`);
    return revision;
  }

  async close(): Promise<void> {
    await this.#ds.close();
  }

  async #one(): Promise<void> {
    const slot = this.#pickSlot();
    const id = slotId(slot);
    const current = this.#model.get(id);
    if (current !== undefined && this.#rng.chance(0.35)) {
      const ref = refOf(resourceAt(slot, current));
      await this.#retry(`delete ${describeRef(ref)}`, async () => {
        try {
          await this.#ds.delete(ref);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      });
      this.#model.delete(id);
      this.log.push(`delete ${describeRef(ref)}`);
      return;
    }
    const v = (this.#versions.get(id) ?? -1) + 1;
    this.#versions.set(id, v);
    const res = resourceAt(slot, v);
    const stored = await this.#retry(`put ${describeRef(refOf(res))}`, () => this.#put(res));
    this.#model.set(id, v);
    this.log.push(`${current === undefined ? 'create' : 'update'} ${describeRef(refOf(res))} v${v} @${stored.metadata.resourceVersion}`);
  }

  #pickSlot(): Slot {
    const rng = this.#rng;
    let slot: Slot;
    if (this.#hot.length > 0 && rng.chance(HOT_CHANCE)) {
      slot = rng.pick(this.#hot);
    } else {
      const kind = rng.weighted(UNIVERSE.map(([k, u]) => [k, u.weight] as const));
      slot = { kind, index: rng.int(UNIVERSE.find(([k]) => k === kind)![1].size) };
    }
    const i = this.#hot.findIndex((h) => slotId(h) === slotId(slot));
    if (i !== -1) this.#hot.splice(i, 1);
    this.#hot.push(slot);
    if (this.#hot.length > HOT_KEYS) this.#hot.shift();
    return slot;
  }

  async #put(res: Resource): Promise<Resource> {
    try {
      return await this.#ds.update(res);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    try {
      return await this.#ds.create(res);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
      return this.#ds.update(res);
    }
  }

  async #retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#deadlineMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`writer: ${what} kept failing for ${this.#deadlineMs} ms: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}
