#!/usr/bin/env node
/**
 * `node bench/dist/src/results-table.js RUN.json...`: the headline figures of fan-out runs
 * (the JSON objects `fanout.js --json` prints) as a Markdown table, so docs/BENCHMARKS.md is
 * pasted from the runs, never typed by hand.
 *
 * `--rows`: one row per run instead of one column, with the figures an interleaved series
 * compares (delta latency, batches, CPU, and etcd's mean put time as a gauge of how loaded the
 * shared machine was during that run).
 */
import { readFileSync } from 'node:fs';
import type { FanoutResult } from './fanout/result.js';
import { senderFloor } from './report.js';

const fmt = (v: number | null | undefined, d = 1): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const mark = (met: boolean | null): string => (met === null ? '?' : met ? 'met' : '**missed**');

/** One row per run: the file's name, then its figures. */
function rowsTable(files: readonly string[], runs: readonly FanoutResult[]): string[] {
  const env = (r: FanoutResult): string =>
    Object.entries(r.params.typhaEnv)
      .filter(([k]) => k !== 'TYPHA_FANOUTWORKERS' || r.params.typhaEnv[k] !== '1')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '-';
  const lines = [
    '| run | Typha env | delta p50 / p99 / max ms | batches seen (complete) | spread p50 ms | floor spread p50 ms | Typha CPU s, churn | swarm CPU s | etcd put mean ms | converged |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  runs.forEach((r, i) => {
    const floor = r.floor.best ? fmt(r.floor.modes[r.floor.best].spreadMs.p50) : 'n/a';
    const name = (files[i].split('/').pop() ?? files[i]).replace(/\.json$/, '');
    lines.push(
      `| ${name} | ${env(r)} | ${fmt(r.deltaLatencyMs.p50)} / ${fmt(r.deltaLatencyMs.p99)} / ${fmt(r.deltaLatencyMs.max)} | ${r.fanout.batches} (${r.fanout.completeBatches}) | ${fmt(r.fanout.spreadMs.p50)} | ${floor} | ${fmt(r.typhaCpuByPhase.churn)} | ${fmt(r.swarm.cpuSeconds)} | ${fmt(r.churn.putMsMean)} | ${r.converged} |`,
    );
  });
  return lines;
}

function main(): void {
  const args = process.argv.slice(2);
  const rows = args.includes('--rows');
  const files = args.filter((a) => a !== '--rows');
  if (files.length === 0) {
    process.stderr.write('usage: results-table.js [--rows] RUN.json...\n');
    process.exitCode = 2;
    return;
  }
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8').trim().split('\n').pop() as string) as FanoutResult);
  if (rows) {
    process.stdout.write(`${rowsTable(files, runs).join('\n')}\n`);
    return;
  }
  const col = (label: string, get: (r: FanoutResult) => string): string => `| ${label} | ${runs.map(get).join(' | ')} |`;
  const lines = [
    `| figure | ${runs.map((r) => `N = ${r.params.clients.toLocaleString('en-US')}${r.params.syncer === 'felix' ? '' : ` (${r.params.syncer})`}${r.params.maxPending !== 500 ? `, max-pending ${r.params.maxPending}` : ''}`).join(' | ')} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
    col('clients (LiteClients + SyncClients) / workers', (r) => `${r.inSync.clients} / ${r.params.workers}`),
    col('snapshot per client', (r) => `${fmt(r.snapshotBytesPerClient / 1e6, 2)} MB`),
    col('**inSyncAllMs** (cold storm)', (r) => `${fmt(r.inSyncAllMs, 0)} (${mark(r.targets.inSyncAll.met)})`),
    col('in-sync p50 / p90 ms', (r) => `${fmt(r.inSync.ms.p50, 0)} / ${fmt(r.inSync.ms.p90, 0)}`),
    col(
      'storm: accept-queue overflows / SYN retransmits / connect resets',
      (r) => `${r.inSync.tcp.ListenOverflows ?? '?'} / ${r.inSync.tcp.TCPSynRetrans ?? '?'} / ${r.inSync.unexpectedCloses}`,
    ),
    col(
      '**deltaLatencyMs** p50 / p99 / max',
      (r) => `${fmt(r.deltaLatencyMs.p50)} / ${fmt(r.deltaLatencyMs.p99)} / ${fmt(r.deltaLatencyMs.max)} (${mark(r.targets.deltaP99.met)})`,
    ),
    col('churn writes (rate) / batches seen', (r) => `${r.churn.writes} (${fmt(r.churn.achievedRate)}/s) / ${r.fanout.batches}`),
    col('fan-out spread p50 (Typha) ms', (r) => fmt(r.fanout.spreadMs.p50)),
    col('floor spread p50 ms (mode, payload)', (r) =>
      r.floor.best ? `${fmt(r.floor.modes[r.floor.best].spreadMs.p50)} (${r.floor.best}, ${r.floor.payloadBytes} B)` : 'n/a',
    ),
    col('**floorRatio** (spread) / end-to-end', (r) => `${fmt(r.floorRatio, 2)} / ${fmt(r.floorRatioEndToEnd, 2)} (${mark(r.targets.floorRatio.met)})`),
    col('sender µs per client write: Typha / floor (ratio)', (r) => {
      const f = r.floorSender ?? senderFloor(r);
      return f ? `${f.typhaUs} / ${f.floorUs} (${f.ratio})` : 'n/a';
    }),
    col(
      '**resumeBytesRatio** p50 (least possible)',
      (r) => `${fmt(r.resumeBytesRatio, 4)} (${fmt(r.resume.idealRatio, 4)}) (${mark(r.targets.resumeBytesRatio.met)})`,
    ),
    col('**typhaCpuSeconds** total (storm / churn)', (r) => `${fmt(r.typhaCpuSeconds)} (${fmt(r.typhaCpuByPhase.storm)} / ${fmt(r.typhaCpuByPhase.churn)})`),
    col('**typhaRssMB** end / peak (VmHWM)', (r) => `${fmt(r.typhaRssMB, 0)} / ${fmt(r.typhaPeakRssMB, 0)} (${mark(r.targets.typhaRss.met)})`),
    col('**bytesSent** (to LiteClients)', (r) => `${fmt(r.bytesSent / 1e9, 1)} GB`),
    col('**updatesSkipped**', (r) => String(r.updatesSkipped)),
    col('**converged**', (r) => `${r.converged} (${Object.keys(r.convergence.clientDigests).length} digest)`),
    col('swarm CPU s (user)', (r) => `${fmt(r.swarm.cpuSeconds)} (${fmt(r.swarm.cpuUserSeconds)})`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
