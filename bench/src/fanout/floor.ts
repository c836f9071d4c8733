/**
 * Phase 4, the floor: a plain ws server here writes one delta-sized buffer to N raw sockets
 * held by the same workers, --floor-rounds rounds in each of two ways (`ws.send`, and one
 * `socket.write` of a prebuilt frame as Typha's direct writer does). The faster mode's median
 * spread is the floor; floorRatio = Typha's fan-out spread ÷ floor spread (medians).
 */
import { monoMs } from '../clock.js';
import type { FloorMode, FloorWrite } from '../floor-server.js';
import { listSummary, type Summary } from '../histogram.js';
import type { FloorRound, WorkerReport } from '../ipc.js';
import { sleep } from '../typha-process.js';
import type { FanoutResult } from './result.js';
import type { FanoutRig } from './rig.js';
import { round, roundSummary } from './round.js';

const MODES = ['ws-send', 'raw-write'] as const;

export interface FloorOutcome {
  payloadBytes: number;
  /** What the server wrote, round by round. */
  writes: FloorWrite[];
  /** What the receivers saw, by round, merged over the workers. */
  rounds: Map<number, FloorRound>;
}

export async function floorRounds(rig: FanoutRig, payloadBytes: number): Promise<FloorOutcome> {
  const { p, swarm, floor, log } = rig;
  const writes: FloorWrite[] = [];
  if (p.floorRounds > 0) {
    const opened = (await swarm.all<number>({ type: 'floor-connect', url: floor.url, timeoutMs: 120_000 }, 130_000)).reduce((a, b) => a + b, 0);
    await waitFor(() => floor.connections >= opened, 10_000);
    log(`floor: ${floor.connections} raw sockets; ${p.floorRounds} rounds × 2 modes of ${payloadBytes} bytes`);
    const spacing = Math.max(50, Math.ceil(p.clients / 20));
    let n = 0;
    for (const mode of MODES) {
      for (let i = 0; i < p.floorRounds; i++) {
        writes.push(floor.round(n++, payloadBytes, mode));
        await sleep(spacing);
      }
    }
    await sleep(500);
  }
  const reports = await swarm.all<WorkerReport>({ type: 'report' }, 60_000);
  await swarm.all({ type: 'floor-close' }, 10_000);
  return { payloadBytes, writes, rounds: mergeFloor(reports.flatMap((r) => r.floor)) };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = monoMs() + timeoutMs;
  while (!cond() && monoMs() < deadline) await sleep(20);
}

function mergeFloor(list: FloorRound[]): Map<number, FloorRound> {
  const by = new Map<number, FloorRound>();
  for (const r of list) {
    const cur = by.get(r.round);
    if (cur === undefined) by.set(r.round, { ...r });
    else {
      cur.first = Math.min(cur.first, r.first);
      cur.last = Math.max(cur.last, r.last);
      cur.clients += r.clients;
    }
  }
  return by;
}

/**
 * `floor`, `floorRatio` and `floorRatioEndToEnd`. Only rounds every LiteClient received count;
 * the ratios divide Typha's unrounded fan-out medians by the best mode's.
 */
export function floorFigures(
  f: FloorOutcome,
  p: { clients: number; floorRounds: number },
  typha: { spread: Summary; endToEnd: Summary },
): Pick<FanoutResult, 'floor' | 'floorRatio' | 'floorRatioEndToEnd'> {
  const modes = {} as FanoutResult['floor']['modes'];
  for (const mode of MODES) {
    const writes = f.writes.filter((w) => w.mode === mode);
    const rounds = writes.map((w) => ({ w, r: f.rounds.get(w.round) })).filter((x) => x.r !== undefined && x.r.clients >= p.clients);
    modes[mode] = {
      writeLoopMs: listSummary(writes.map((w) => w.lastWrite - w.firstWrite)),
      writeCpuMs: listSummary(writes.map((w) => w.cpuMs)),
      spreadMs: listSummary(rounds.map((x) => x.r!.last - x.r!.first)),
      totalMs: listSummary(rounds.map((x) => x.r!.last - x.w.firstWrite)),
    };
  }
  const best = MODES.filter((m) => modes[m].spreadMs.count > 0).sort((a, b) => modes[a].spreadMs.p50 - modes[b].spreadMs.p50)[0];
  const floorRatio = best && typha.spread.count ? typha.spread.p50 / modes[best].spreadMs.p50 : null;
  const floorRatioEndToEnd = best && typha.endToEnd.count ? typha.endToEnd.p50 / modes[best].totalMs.p50 : null;
  return {
    floor: { payloadBytes: f.payloadBytes, rounds: p.floorRounds, modes: roundModes(modes), best: best ?? null },
    floorRatio: floorRatio === null ? null : round(floorRatio, 2),
    floorRatioEndToEnd: floorRatioEndToEnd === null ? null : round(floorRatioEndToEnd, 2),
  };
}

function roundModes(m: FanoutResult['floor']['modes']): FanoutResult['floor']['modes'] {
  const out = {} as FanoutResult['floor']['modes'];
  for (const [k, v] of Object.entries(m) as Array<[FloorMode, FanoutResult['floor']['modes'][FloorMode]]>) {
    out[k] = { writeLoopMs: roundSummary(v.writeLoopMs, 2), spreadMs: roundSummary(v.spreadMs, 2), totalMs: roundSummary(v.totalMs, 2) };
    if (v.writeCpuMs) out[k].writeCpuMs = roundSummary(v.writeCpuMs, 2);
  }
  return out;
}
