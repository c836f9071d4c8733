// The protocol model check: random sequences of writes and faults (a replica's etcd link cut,
// frozen or healed, compaction, replicas stopped and started, clients moved between replicas
// or dropped) against two real Typha replicas and real clients on a model of etcd, explored
// by fast-check and shrunk to a minimal failing sequence. After every step the clients must
// satisfy I1 and I2, and after healing, I3 (see `model-system.ts`). The clients take
// deflate-deltas, as SyncClient does by default: delta batches as Deflated frames.
//
// Replay a failure with the seed and path it prints:
//   CATTAIL_MODEL_SEED=<seed> CATTAIL_MODEL_PATH=<path> node --test typha/dist/test/model/protocol-model.test.js
// Explore longer: CATTAIL_MODEL_RUNS=2000 (in-process sockets), CATTAIL_MODEL_WORKER_RUNS=500 (two
// fan-out workers per replica); the first test takes CATTAIL_TEST_FANOUTWORKERS=K too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KEYS, ModelSystem } from './model-system.js';
import type { LinkMode } from './model-etcd.js';

interface Model {
  running: boolean[];
}

type Cmd = fc.AsyncCommand<Model, ModelSystem>;

abstract class Step implements Cmd {
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  async run(m: Model, s: ModelSystem): Promise<void> {
    await this.apply(m, s);
    await s.settle(300);
    assert.deepEqual(s.violations, [], `${this.toString()}: ${s.violations.join('\n')}\n${s.describe()}`);
  }
  abstract apply(m: Model, s: ModelSystem): void | Promise<void>;
  abstract toString(): string;
}

class Write extends Step {
  constructor(
    readonly key: number,
    readonly variant: number | undefined,
  ) {
    super();
  }
  apply(_m: Model, s: ModelSystem): void {
    s.write(this.key, this.variant);
  }
  toString(): string {
    return `${this.variant === undefined ? 'delete' : `put v${this.variant}`} ${KEYS[this.key].key.split('/').slice(-1)[0]}`;
  }
}

class WriteElsewhere extends Step {
  apply(_m: Model, s: ModelSystem): void {
    s.writeElsewhere();
  }
  toString(): string {
    return 'write outside /calico/';
  }
}

class Link extends Step {
  constructor(
    readonly replica: number,
    readonly mode: LinkMode,
  ) {
    super();
  }
  apply(_m: Model, s: ModelSystem): void {
    s.setLink(this.replica, this.mode);
  }
  toString(): string {
    return `link ${'ab'[this.replica]} ${this.mode}`;
  }
}

class Compact extends Step {
  apply(_m: Model, s: ModelSystem): void {
    s.etcd.compact();
  }
  toString(): string {
    return 'compact';
  }
}

class Stop extends Step {
  constructor(readonly replica: number) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.running[this.replica];
  }
  async apply(m: Model, s: ModelSystem): Promise<void> {
    m.running[this.replica] = false;
    await s.stopReplica(this.replica);
  }
  toString(): string {
    return `stop ${'ab'[this.replica]}`;
  }
}

class Start extends Step {
  constructor(readonly replica: number) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return !m.running[this.replica];
  }
  async apply(m: Model, s: ModelSystem): Promise<void> {
    m.running[this.replica] = true;
    await s.startReplica(this.replica);
  }
  toString(): string {
    return `start ${'ab'[this.replica]}`;
  }
}

class Move extends Step {
  constructor(readonly replica: number) {
    super();
  }
  apply(_m: Model, s: ModelSystem): void {
    s.moveClients(this.replica);
  }
  toString(): string {
    return `clients to ${'ab'[this.replica]}`;
  }
}

class Drop extends Step {
  apply(_m: Model, s: ModelSystem): void {
    s.dropClients();
  }
  toString(): string {
    return 'drop client sockets';
  }
}

/** Time passes (longer than a replica's resume wait): timers fire, waits give up. */
class Tick extends Step {
  async apply(): Promise<void> {
    await new Promise((r) => setTimeout(r, 50));
  }
  toString(): string {
    return 'time passes';
  }
}

const replica = fc.integer({ min: 0, max: 1 });
const write = fc
  .tuple(fc.integer({ min: 0, max: KEYS.length - 1 }), fc.option(fc.integer({ min: 0, max: 2 }), { freq: 2 }))
  .map(([k, v]) => new Write(k, v ?? undefined));
const link = fc.tuple(replica, fc.constantFrom<LinkMode>('up', 'up', 'cut', 'frozen')).map(([r, mode]) => new Link(r, mode));
const compact = fc.constant(new Compact());
const move = replica.map((r) => new Move(r));
// Weighted by repetition: faults and writes must interleave densely for the interesting
// sequences (a link cut, a write seen elsewhere, a client moved, a compaction, a heal) to
// come up within a run.
const commands = fc.commands(
  [
    write,
    write,
    write,
    fc.constant(new WriteElsewhere()),
    link,
    link,
    link,
    compact,
    compact,
    move,
    move,
    replica.map((r) => new Stop(r)),
    replica.map((r) => new Start(r)),
    fc.constant(new Drop()),
    fc.constant(new Tick()),
  ],
  { maxCommands: 50, size: 'max' },
);

const runs = Number(process.env.CATTAIL_MODEL_RUNS ?? 100);
// Fan-out workers are the default wherever a replica has more than one CPU (TYPHA_FANOUTWORKERS=0),
// so the same property runs on that write path too: fewer runs, each starts four worker processes.
const workerRuns = Number(process.env.CATTAIL_MODEL_WORKER_RUNS ?? 25);
const seed = process.env.CATTAIL_MODEL_SEED === undefined ? undefined : Number(process.env.CATTAIL_MODEL_SEED);
const path = process.env.CATTAIL_MODEL_PATH;

async function check(fanoutWorkers: number, numRuns: number): Promise<void> {
  let runSeed = 0;
  let deflated = 0;
  let workerSockets = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), commands, async (clientSeed, cmds) => {
      runSeed = clientSeed;
      const system = new ModelSystem(clientSeed, { fanoutWorkers });
      try {
        await system.start();
        await fc.asyncModelRun(() => ({ model: { running: [true, true] }, real: system }), cmds);
        await system.converge();
        assert.deepEqual(system.violations, [], system.violations.join('\n'));
        deflated += system.deflatedFrames();
        workerSockets += system.workerSockets();
      } finally {
        await system.close();
      }
    }),
    {
      numRuns,
      ...(seed !== undefined ? { seed } : {}),
      ...(path !== undefined ? { path } : {}),
      verbose: 1,
    },
  );
  assert.ok(runSeed > 0, 'the property ran');
  assert.ok(deflated > 0, 'the clients took deflate-deltas (Deflated frames were made), so the property covered it');
  if (fanoutWorkers > 1) assert.ok(workerSockets > 0, 'the converged clients were connected through fan-out workers');
  else assert.equal(workerSockets, 0, 'no fan-out workers');
}

test('no reachable state leaves a client in sync with a view that differs from etcd', { timeout: 30 * 60_000 }, async () => {
  await check(Number(process.env.CATTAIL_TEST_FANOUTWORKERS ?? 1), runs);
});

test('the same with the sockets in two fan-out workers per replica', { timeout: 30 * 60_000 }, async () => {
  await check(2, workerRuns);
});
