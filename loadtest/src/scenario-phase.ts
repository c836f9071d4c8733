/**
 * The middle of a scenario, after every socket is in sync: the churn writer runs while the
 * scenario does its part at a fixed point of the schedule, then every client must reach the
 * writer's last revision (the drain).
 *
 *   steady-fanout    churn --duration s
 *   connect-storm    churn --duration s (optional, short)
 *   reconnect-storm  churn --duration + --gap + 5 s; at --duration: drop, wait until every socket
 *                    is back in sync
 *   slow-consumers   churn 2 × --duration s; at --duration: --slow slow consumers connect beside
 *                    the k6 clients; latencies after that are phase `slow`, before it `baseline`
 *
 * A wait that times out is recorded in `run.errors` and the phase goes on.
 */
import { churn } from '@cattail/bench';
import type { ControlServer } from './control-server.js';
import type { RunOptions } from './options.js';
import type { ScenarioRun } from './scenarios.js';
import { SlowConsumer } from './slow-consumer.js';
import type { SystemUnderTest } from './system.js';

export interface PhaseContext {
  readonly o: RunOptions;
  readonly sut: SystemUnderTest;
  readonly control: ControlServer;
  /** Filled in as the phase goes. */
  readonly run: ScenarioRun;
  /** The slow consumers opened, for the runner to stop with k6. */
  readonly slow: SlowConsumer[];
  readonly log: (msg: string) => void;
  /** Why waiting is pointless (k6 exited), if it is. */
  readonly abort: () => string | undefined;
}

export async function scenarioPhase(c: PhaseContext): Promise<void> {
  const { o, sut, control, run, log } = c;
  if (sut.client === undefined) throw new Error('no etcd client for the churn writer');
  const churnS = churnSeconds(o);
  const churnStart = Date.now();
  const scenarioAt = churnStart + o.durationS * 1000;
  if (o.scenario === 'slow-consumers') tagSlowFrom(c, scenarioAt);
  log(`churn: ${o.rate} writes/s for ${churnS} s`);
  const writer = churn({ client: sut.client, weps: sut.weps, rate: o.rate, durationMs: churnS * 1000, seed: o.seed + 1 });

  if (o.scenario === 'reconnect-storm') await dropAndWaitBack(c, scenarioAt);
  if (o.scenario === 'slow-consumers' && o.slow > 0) await openSlowConsumers(c, scenarioAt);

  run.churn = await writer;
  const lastWrite = Date.now();
  control.control.lastRevision = run.churn.lastRevision;
  control.control.writes = run.churn.writes;
  log(`churn done: ${run.churn.writes} writes, last revision ${run.churn.lastRevision}; waiting for every client to reach it`);
  if (o.scenario === 'slow-consumers') run.slowConsumerTyphaView = await slowConsumerTyphaView(sut);
  await drain(c, run.churn.lastRevision, lastWrite);
}

/** How long the writer runs: long enough for what the scenario does after --duration. */
function churnSeconds(o: RunOptions): number {
  if (o.scenario === 'reconnect-storm') return o.durationS + o.gapS + 5;
  if (o.scenario === 'slow-consumers') return 2 * o.durationS;
  return o.durationS;
}

/** Slow consumers: the VUs and the timeline tag latencies from `slowFromMs` on as `slow`. */
function tagSlowFrom(c: PhaseContext, slowFromMs: number): void {
  c.run.slowFromMs = slowFromMs;
  c.control.control.slowFromMs = slowFromMs;
  c.control.phaseOf = (r) => (r.at >= slowFromMs + 1000 ? 'slow' : 'baseline');
}

/** Reconnect storm: at `dropAt`, every socket closes and comes back after --gap; until all are in sync again. */
async function dropAndWaitBack(c: PhaseContext, dropAt: number): Promise<void> {
  const { o, control, run, log } = c;
  const total = o.vus * o.sockets;
  await at(dropAt);
  const droppedAt = Date.now();
  control.control.drop = 1;
  log(`drop: every socket closes and comes back after ${o.gapS} s`);
  try {
    await control.until(
      () => [...control.latest.values()].every((r) => r.dropGen >= 1) && control.sum('live') >= total,
      (o.gapS + o.inSyncTimeoutS + 30) * 1000,
      `every one of ${total} sockets back in sync after the drop`,
      c.abort,
    );
    run.reconnectAllMs = Date.now() - droppedAt;
    log(`all ${total} sockets back in sync ${run.reconnectAllMs} ms after the drop order`);
  } catch (err) {
    run.errors.push((err as Error).message);
  }
}

/** Slow consumers: at `from`, --slow clients that read at --slow-rate connect beside the k6 ones. */
async function openSlowConsumers(c: PhaseContext, from: number): Promise<void> {
  const { o, sut, run, log } = c;
  await at(from);
  log(`slow consumers: ${o.slow} reading ${o.slowRate > 0 ? `${o.slowRate} B/s` : 'nothing'}`);
  const opened = await Promise.allSettled(
    Array.from({ length: o.slow }, (_, i) =>
      SlowConsumer.open({ url: sut.info.typhaUrl, node: `slow-${String(i).padStart(4, '0')}`, syncer: o.syncer, readBytesPerSec: o.slowRate }),
    ),
  );
  for (const r of opened) {
    if (r.status === 'fulfilled') c.slow.push(r.value);
    else run.errors.push(`slow consumer: ${(r.reason as Error).message}`);
  }
}

/** How Typha sees the slow consumers (its /status), taken when the churn ends. */
async function slowConsumerTyphaView(sut: SystemUnderTest): Promise<ScenarioRun['slowConsumerTyphaView']> {
  const st = await sut.typhaStatus();
  const clients = (st as { clients?: Array<Record<string, unknown>> } | undefined)?.clients ?? [];
  return clients
    .filter((c) => typeof c.node === 'string' && c.node.startsWith('slow-'))
    .map((c) => ({
      node: c.node as string,
      state: String(c.state),
      mode: (c.mode as string | null) ?? null,
      lagMs: Number(c.lagMs),
      bufferedBytes: Number(c.bufferedBytes),
    }));
}

/** Until every socket is live at the writer's last revision; drainMs counts from the last write. */
async function drain(c: PhaseContext, lastRevision: number, lastWrite: number): Promise<void> {
  const { o, control, run } = c;
  const total = o.vus * o.sockets;
  try {
    await control.until(
      () => control.sum('live') >= total && control.minRevision() >= lastRevision,
      60_000,
      `every client at revision ${lastRevision}`,
      c.abort,
    );
    run.drainMs = Date.now() - lastWrite;
  } catch (err) {
    run.errors.push((err as Error).message);
  }
}

/** Resolves at wall time `ms` (a schedule point of the scenario, not a synchronisation). */
function at(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));
}
