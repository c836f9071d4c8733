/**
 * One fault round, from seed to verdict:
 *
 *   plan (seed) ─▶ fresh world ─▶ clients in sync ─▶ steps ─▶ heal all ─▶ fence write F
 *     ─▶ expected = etcd projected ─▶ poll: every client in sync at r ≥ F (deadline)
 *     ─▶ at that instant: every client's snapshot() == expected of its syncer
 *
 * The fence is one IPPool write both syncers carry, made after every fault is healed: a client
 * at F or later has been sent everything, so any difference left is a wrong state, not a late
 * one. (Waiting for "the datastore's last revision" would not do: writes a syncer does not
 * carry never reach its clients, and replica registrations move etcd's revision constantly.)
 * On a difference the clients are looked at again after a few seconds, to tell a state that
 * stays wrong from one that was only caught mid-way (both fail: an in-sync client must be right).
 *
 * Bounded: a fixed number of steps, every wait with a deadline, and the whole round under
 * `roundMs`; the world is torn down whatever happens.
 */
import { until } from '@cattail/datastore/testing';
import { expectedState } from './expected.js';
import { describeStep, planRound } from './plan.js';
import { createRng } from './prng.js';
import { healAll, runStep } from './steps.js';
import { diffFleet, diffKinds, formatDiffs, type ClientDiff } from './verify.js';
import { World } from './world.js';

export interface RoundOptions {
  seed: number;
  /** Index in a run, for the report. */
  round?: number;
  steps?: number;
  clients?: number;
  /** From the fence to every client in sync at it. */
  convergeMs?: number;
  /** The whole round, setup and teardown included. */
  roundMs?: number;
  /** TYPHA_* overrides for both replicas (e.g. TYPHA_FANOUTWORKERS). */
  typhaEnv?: Readonly<Record<string, string>>;
}

export type FailureKind = 'extra' | 'missing' | 'stale' | 'not-converged' | 'crash' | 'error' | 'round-timeout';

export interface RoundResult {
  round: number;
  seed: number;
  ok: boolean;
  /** Empty when ok; the diff kinds present, or what else went wrong. */
  kinds: FailureKind[];
  ms: number;
  steps: number;
  /** The planned steps, one short string each. */
  plan: string[];
  /** ms from the fence to every client in sync at it (when they got there). */
  convergedMs?: number;
  wrongClients: number;
  /** Each replica's own view at the end (relists, oldest resumable revision), for coverage. */
  replicas?: string[];
  /** Client sockets held by fan-out workers at the end of a clean round (0: the replicas hold them). */
  workerSockets?: number;
  /** A wrong state still there after the extra look (undefined when nothing was wrong). */
  persisted?: boolean;
  /** The full report for a failed round: seed, steps, diffs, replicas. */
  report?: string;
}

export const ROUND_DEFAULTS = { steps: 24, clients: 50, convergeMs: 45_000, roundMs: 180_000 } as const;
const READY_MS = 40_000;
const RECHECK_MS = 3000;

export async function runRound(o: RoundOptions): Promise<RoundResult> {
  const started = Date.now();
  const round = o.round ?? 0;
  const roundMs = o.roundMs ?? ROUND_DEFAULTS.roundMs;
  const rng = createRng(o.seed);
  const plan = planRound(rng.fork('plan'), o.steps ?? ROUND_DEFAULTS.steps);
  const done: string[] = [];
  const result = (r: Omit<RoundResult, 'round' | 'seed' | 'ms' | 'steps' | 'plan'>): RoundResult => ({
    round,
    seed: o.seed,
    ms: Date.now() - started,
    steps: plan.length,
    plan: plan.map(describeStep),
    ...r,
  });
  const header = (): string => `fault round ${round} seed ${o.seed}: replay with --seed ${o.seed} --rounds 1\nsteps:\n${done.map((s) => `  ${s}`).join('\n')}`;
  let world: World | undefined;
  let timer: NodeJS.Timeout | undefined;
  const body = async (): Promise<RoundResult> => {
    world = await World.start({ rng, clients: o.clients ?? ROUND_DEFAULTS.clients, initialWrites: 20, readyMs: READY_MS, typhaEnv: o.typhaEnv });
    const w = world;
    await until(
      () => w.fleet.allInSyncAt(1),
      () => `the clients' first sync:\n${w.fleet.laggards(1).join('\n')}`,
      READY_MS,
    );
    const stepRng = rng.fork('steps');
    for (const [i, step] of plan.entries()) {
      const note = await runStep(w, step, stepRng);
      done.push(`${String(i + 1).padStart(2)}. ${describeStep(step)}${note ? ` (${note})` : ''} +${Date.now() - started}ms`);
      if (w.crashes().length > 0) return result({ ok: false, kinds: ['crash'], wrongClients: 0, report: `${header()}\n${w.crashes().join('\n')}` });
    }
    await healAll(w, READY_MS);
    done.push(`heal all +${Date.now() - started}ms`);
    const fence = await w.writer.fence();
    done.push(`fence @${fence}`);
    const expected = await expectedState(w.ds, ['felix', 'bgp']);
    const fencedAt = Date.now();
    let diffs: ClientDiff[] = [];
    try {
      await until(
        () => w.fleet.allInSyncAt(fence) && ((diffs = diffFleet(w.fleet, expected)), true),
        () => `every client in sync at r>=${fence}; not yet:\n${w.fleet.laggards(fence).join('\n')}`,
        o.convergeMs ?? ROUND_DEFAULTS.convergeMs,
        50,
      );
    } catch (err) {
      const replicas = await w.describe();
      return result({ ok: false, kinds: ['not-converged'], wrongClients: 0, report: `${header()}\n${(err as Error).message}\n${replicas.join('\n')}` });
    }
    const convergedMs = Date.now() - fencedAt;
    if (w.crashes().length > 0) return result({ ok: false, kinds: ['crash'], wrongClients: 0, convergedMs, report: `${header()}\n${w.crashes().join('\n')}` });
    if (diffs.length === 0)
      return result({ ok: true, kinds: [], wrongClients: 0, convergedMs, replicas: await w.describe(), workerSockets: await w.workerSockets() });
    const persisted = await recheck(w, diffs, expected);
    const replicas = await w.describe();
    const report = [
      header(),
      `${diffs.length} client(s) in sync at r>=${fence} with a wrong state (expected: etcd at r=${expected.revision}, projected); ${persisted ? `still wrong ${RECHECK_MS} ms later` : 'corrected later'}:`,
      formatDiffs(diffs),
      ...replicas,
      `last writes: ${w.writer.log.slice(-25).join('; ')}`,
    ].join('\n');
    return result({ ok: false, kinds: diffKinds(diffs), wrongClients: diffs.length, persisted, convergedMs, report });
  };
  try {
    const timeout = new Promise<RoundResult>((resolve) => {
      timer = setTimeout(
        () => resolve(result({ ok: false, kinds: ['round-timeout'], wrongClients: 0, report: `${header()}\nthe round took over ${roundMs} ms` })),
        roundMs,
      );
    });
    const running = body();
    running.catch(() => undefined); // after a timeout its late failure is no news
    return await Promise.race([running, timeout]);
  } catch (err) {
    const tails = world
      ? world
          .each()
          .map((r) => `replica ${r.name} log tail:\n${r.tail}`)
          .join('\n')
      : '';
    return result({ ok: false, kinds: ['error'], wrongClients: 0, report: `${header()}\nharness error: ${(err as Error).stack ?? String(err)}\n${tails}` });
  } finally {
    clearTimeout(timer);
    await world?.close();
  }
}

/** After a while: are the same clients, in sync, still wrong? */
async function recheck(w: World, first: readonly ClientDiff[], expected: Parameters<typeof diffFleet>[1]): Promise<boolean> {
  await new Promise((r) => setTimeout(r, RECHECK_MS));
  const again = new Set(diffFleet(w.fleet, expected).map((d) => d.id));
  return first.some((d) => again.has(d.id));
}
