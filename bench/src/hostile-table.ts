#!/usr/bin/env node
/**
 * `node bench/dist/src/hostile-table.js LABEL=RUN.json...`: the attack benchmark's figures (the
 * JSON objects `hostile.js --json` prints) as a Markdown table, one row per run, so
 * docs/BENCHMARKS.md is pasted from the runs, never typed by hand.
 */
import { readFileSync } from 'node:fs';
import type { HostileResult } from './hostile.js';

const REASONS = ['per-source', 'pending-handshakes', 'upgrade-timeout', 'tls'];

function refusals(r: HostileResult): string {
  const parts: string[] = [];
  for (const reason of REASONS) {
    const n = r.attack.metrics[`typha_connections_rejected{reason="${reason}"}`];
    if (n) parts.push(`${reason} ${n}`);
  }
  return parts.length ? parts.join(', ') : 'none';
}

function main(): void {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    process.stderr.write('usage: hostile-table.js LABEL=RUN.json...\n');
    process.exitCode = 2;
    return;
  }
  const lines = [
    '| run | TLS | sources | RSS baseline | under attack (peak) | after: first / min / last | after − baseline | outside the JS heap: baseline → after | refused during the attack | probe in sync |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const [label, file] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, arg];
    const r = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop() as string) as HostileResult;
    const g = r.gone;
    // RSS less V8's heap: native memory (TLS, sockets, Buffers' backing stores) plus code and stacks.
    const native = (rss: number, heapTotal: number): string => (rss - heapTotal).toFixed(0);
    lines.push(
      `| ${label} | ${r.params.tls ? 'yes' : 'no'} | ${r.params.sources} | ${r.baseline.lastMB} MB | ${r.attack.rssMB} (${r.attack.peakRssMB}) MB | ${g.firstMB} / ${g.minMB} / ${g.lastMB} MB | ${r.retainedMB > 0 ? '+' : ''}${r.retainedMB} MB | ${native(r.baseline.lastMB, r.baseline.last.heapTotalMB)} → ${native(g.lastMB, g.last.heapTotalMB)} MB | ${refusals(r)} | ${r.attack.probeInSyncMs ?? 'no'} ms |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
