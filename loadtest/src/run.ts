#!/usr/bin/env node
/**
 * `npm run loadtest -- SCENARIO [options]` (see options.ts USAGE): finds or builds k6, starts etcd
 * and Typha (or targets --url), seeds a synthetic cluster, runs the k6 scenario, and writes
 * summary.json, k6-summary.json and chart.html into the output directory; prints a short table
 * (stderr) and, with --json, the summary on stdout. Exit code: 0 when every threshold held and
 * the runner saw nothing wrong, 1 otherwise, 2 for a usage error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart.js';
import { wallMinusMonoMs } from './clock.js';
import { LoadtestError, UsageError } from './errors.js';
import { findK6, REPO_ROOT } from './k6-binary.js';
import { K6Process } from './k6-process.js';
import { parseRunOptions, USAGE } from './options.js';
import { buildResult, compactResult, resultTable } from './report.js';
import { runScenario, scenarioTyphaEnv } from './scenarios.js';
import { SystemUnderTest } from './system.js';

function log(msg: string): void {
  process.stderr.write(`[loadtest] ${msg}\n`);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const o = parseRunOptions(argv);
  const k6 = findK6(o.k6);
  const outDir = o.out ?? join(REPO_ROOT, 'loadtest', 'results', `${o.scenario}-${new Date().toISOString().replaceAll(':', '').replace(/\..*/, '')}`);
  const sut = await SystemUnderTest.start(o, log, scenarioTyphaEnv(o));
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping k6, typha and etcd`);
    for (const k of K6Process.live) k.kill('SIGTERM');
    void sut.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const run = await runScenario(o, sut, k6, outDir, wallMinusMonoMs(), log);
    const result = buildResult(o, argv, sut.info, sut.typhaPid, run, k6);
    writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(result, null, 1)}\n`);
    writeFileSync(join(outDir, 'chart.html'), renderChart(result));
    process.stderr.write(`\n${resultTable(result)}\n\nwrote ${join(outDir, 'summary.json')} and chart.html\n`);
    if (o.json) process.stdout.write(`${JSON.stringify(compactResult(result))}\n`);
    return result.passed ? 0 : 1;
  } finally {
    await sut.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`loadtest: ${err instanceof LoadtestError ? `[${err.code}] ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
