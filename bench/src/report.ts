/** The short human table printed after a fan-out run (the JSON object carries everything). */
import type { FanoutResult } from './fanout/result.js';

/**
 * The sender-side floor comparison: Typha's CPU per client write during the churn phase
 * (everything: watch, validate, project, batch, encode, fan-out, pings) ÷ the floor write
 * loop's CPU per socket (one prebuilt frame written to each socket, nothing else; wall time of
 * the loop for runs recorded before its CPU time was). Both are measured on the writing side
 * only, so the receiving swarm's speed does not enter directly; it still matters indirectly:
 * a socket whose peer reads slowly gets several frames per writev syscall.
 */
export function senderFloor(
  r: Pick<FanoutResult, 'typhaCpuByPhase' | 'fanout' | 'floor' | 'params'>,
): { typhaUs: number; floorUs: number; ratio: number } | null {
  const best = r.floor.best;
  const writes = r.fanout.batches * r.params.clients;
  if (best === null || writes === 0) return null;
  const typhaUs = (r.typhaCpuByPhase.churn * 1e6) / writes;
  const m = r.floor.modes[best];
  const floorUs = ((m.writeCpuMs ?? m.writeLoopMs).p50 * 1000) / r.params.clients;
  return { typhaUs: Math.round(typhaUs * 100) / 100, floorUs: Math.round(floorUs * 100) / 100, ratio: Math.round((typhaUs / floorUs) * 100) / 100 };
}

export function printTable(r: FanoutResult, out: NodeJS.WritableStream): void {
  const rows: Array<[string, string]> = [
    ['clients (lite + SyncClient)', `${r.inSync.clients} over ${r.params.workers} worker(s)`],
    ['resources / syncer', `${r.params.resources} / ${r.params.syncer} (${r.typha.felixKeys ?? '?'} keys projected)`],
    ['snapshot bytes per client', mb(r.snapshotBytesPerClient)],
    ['inSyncAllMs (cold storm)', r.inSyncAllMs === null ? `n/a (${r.inSync.inSync} in sync)` : `${r.inSyncAllMs} ms (p50 ${r.inSync.ms.p50} ms)`],
    ['churn', `${r.churn.writes} writes at ${r.churn.achievedRate.toFixed(1)}/s`],
    ['deltaLatencyMs p50/p99/max', `${r.deltaLatencyMs.p50} / ${r.deltaLatencyMs.p99} / ${r.deltaLatencyMs.max} ms (${r.deltaLatencyMs.count} samples)`],
    ['fan-out spread p50 (Typha)', `${r.fanout.spreadMs.p50} ms over ${r.fanout.completeBatches} complete batches`],
    ['floor spread p50 (' + (r.floor.best ?? '-') + ')', r.floor.best ? `${r.floor.modes[r.floor.best].spreadMs.p50} ms for ${r.floor.payloadBytes} B` : 'n/a'],
    ['floorRatio (spread) / end-to-end', `${r.floorRatio ?? 'n/a'} / ${r.floorRatioEndToEnd ?? 'n/a'}`],
    ['sender µs per client write', r.floorSender ? `Typha ${r.floorSender.typhaUs} vs floor ${r.floorSender.floorUs} (×${r.floorSender.ratio})` : 'n/a'],
    [
      'delta bytes / update / client',
      `${r.deltaBytesPerUpdatePerClient ?? 'n/a'} (deflate ${r.deltaBytes.deflate ?? '-'} × ${r.deltaBytes.deflateClients}, plain ${r.deltaBytes.plain ?? '-'} × ${r.deltaBytes.plainClients}, ratio ${r.deltaBytes.ratio ?? '-'})`,
    ],
    ['typha CPU µs / delivered update', String(r.typhaCpuUsPerDeliveredUpdate ?? 'n/a')],
    ['resumeBytesRatio p50 (ideal)', `${r.resumeBytesRatio ?? 'n/a'} (${r.resume.idealRatio ?? 'n/a'}) modes ${JSON.stringify(r.resume.modes)}`],
    ['typha CPU s / RSS / peak RSS', `${r.typhaCpuSeconds} s / ${r.typhaRssMB} MB / ${r.typhaPeakRssMB} MB`],
    ['bytesSent', mb(r.bytesSent)],
    ['updatesSkipped', String(r.updatesSkipped)],
    ['converged', String(r.converged)],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  let text = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
  text +=
    '\n  targets: ' +
    Object.entries(r.targets)
      .map(([k, t]) => `${k} ${t.met === null ? '?' : t.met ? 'met' : 'MISSED'}`)
      .join(', ');
  if (r.errors.length) text += `\n  errors:\n${r.errors.map((e) => `    - ${e}`).join('\n')}`;
  out.write(`${text}\n`);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}
