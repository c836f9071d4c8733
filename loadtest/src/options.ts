/**
 * `npm run loadtest -- SCENARIO [options]`: the command line, parsed and range-checked once, with
 * per-scenario defaults beside each key. Frozen after parsing.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export const SCENARIOS = ['connect-storm', 'steady-fanout', 'reconnect-storm', 'slow-consumers'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface RunOptions {
  scenario: Scenario;
  /** k6 VUs; each holds `sockets` connections. */
  vus: number;
  sockets: number;
  /** Each VU opens its sockets over this many seconds (0: all at once). */
  rampS: number;
  /** Synthetic cluster size (etcd keys), bench/src/generator.ts. */
  resources: number;
  seed: number;
  syncer: 'felix' | 'bgp' | 'ipam' | 'status';
  /** Churn writes per second and seconds of churn (per phase for slow-consumers). */
  rate: number;
  durationS: number;
  /** reconnect-storm: seconds between drop and reconnect; fraction reconnecting without resume. */
  gapS: number;
  snapshotFraction: number;
  /** slow-consumers: how many, and the bytes per second each reads (0: none). */
  slow: number;
  slowRate: number;
  /** Time allowed for every socket to reach InSync. */
  inSyncTimeoutS: number;
  /** Target an existing Typha (ws://host:port) instead of starting etcd + Typha. */
  url: string | undefined;
  /** etcd for seeding and churn: with --url, required for churn; otherwise a private etcd. */
  etcd: string | undefined;
  /** Seed the --etcd datastore (with --url, off unless asked). */
  seedExternal: boolean;
  k6: string | undefined;
  out: string | undefined;
  json: boolean;
  /** Extra environment for k6 (threshold overrides, e.g. LATENCY_P99_MS=100). */
  k6Env: Record<string, string>;
  /** Extra TYPHA_* settings for the Typha the runner starts. */
  typhaEnv: Record<string, string>;
  /** Print k6's own output as it runs. */
  verbose: boolean;
}

export const USAGE = `usage: npm run loadtest -- SCENARIO [options]
  SCENARIO: ${SCENARIOS.join(' | ')}
  --vus N            k6 VUs (default 2)
  --sockets N        WebSockets per VU (default 50)
  --ramp S           each VU opens its sockets over S seconds (default 0: at once)
  --resources R      synthetic cluster size in etcd keys (default 35000)
  --rate U           churn writes per second (default 50)
  --duration S       churn seconds (connect-storm 5, steady-fanout 30, reconnect-storm 5 before the drop,
                     slow-consumers 20 per phase)
  --gap S            reconnect-storm: seconds between drop and reconnect (default 10)
  --snapshot-fraction F  reconnect-storm: sockets reconnecting without resume (default 0.1)
  --slow K           slow-consumers: slow clients (default 20)
  --slow-rate B      slow-consumers: bytes/s each slow client reads (default 0: stalled)
  --syncer felix     felix | bgp | ipam | status
  --in-sync-timeout S  (default 300)
  --url ws://H:P     use this Typha instead of starting etcd + Typha
  --etcd URL         etcd for churn (required with --url for churn; add --seed-external to seed it)
  --k6 PATH          k6 binary (default: scripts/go-tool.sh k6, which builds it if missing)
  --env K=V          environment for k6, e.g. a threshold: --env LATENCY_P99_MS=100 (repeatable)
  --typha-env TYPHA_X=V  extra Typha setting (repeatable)
  --out DIR          where summary.json, k6-summary.json and chart.html go (default loadtest/results/…)
  --json             print the summary JSON on stdout without the timeline (the table goes to stderr)
  --verbose          echo k6's output`;

function int(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw.replaceAll('_', '').replaceAll(',', ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return v;
}

function num(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number in ${min}..${max}, got "${raw}"`);
  return v;
}

function pairs(name: string, raw: string[] | undefined, keyPattern: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of raw ?? []) {
    const eq = p.indexOf('=');
    const k = eq > 0 ? p.slice(0, eq) : '';
    if (!keyPattern.test(k)) throw new UsageError(`--${name} expects KEY=VALUE with KEY matching ${keyPattern}, got "${p}"`);
    out[k] = p.slice(eq + 1);
  }
  return out;
}

const DEFAULT_DURATION: Record<Scenario, number> = {
  'connect-storm': 5,
  'steady-fanout': 30,
  'reconnect-storm': 5,
  'slow-consumers': 20,
};

export function parseRunOptions(argv: string[]): RunOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      vus: { type: 'string' },
      sockets: { type: 'string' },
      ramp: { type: 'string' },
      resources: { type: 'string' },
      seed: { type: 'string' },
      syncer: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      gap: { type: 'string' },
      'snapshot-fraction': { type: 'string' },
      slow: { type: 'string' },
      'slow-rate': { type: 'string' },
      'in-sync-timeout': { type: 'string' },
      url: { type: 'string' },
      etcd: { type: 'string' },
      'seed-external': { type: 'boolean', default: false },
      k6: { type: 'string' },
      out: { type: 'string' },
      env: { type: 'string', multiple: true },
      'typha-env': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new UsageError(USAGE);
  if (positionals.length !== 1 || !(SCENARIOS as readonly string[]).includes(positionals[0])) {
    throw new UsageError(`expected one scenario, got ${positionals.length ? `"${positionals.join(' ')}"` : 'none'}\n${USAGE}`);
  }
  const scenario = positionals[0] as Scenario;
  const syncer = values.syncer ?? 'felix';
  if (!['felix', 'bgp', 'ipam', 'status'].includes(syncer)) throw new UsageError(`--syncer must be felix, bgp, ipam or status, got "${syncer}"`);
  if (values.url !== undefined && !/^ws:\/\/[^/]+$/.test(values.url)) throw new UsageError(`--url must look like ws://127.0.0.1:5473, got "${values.url}"`);
  const o: RunOptions = {
    scenario,
    vus: int('vus', values.vus, 2, 1, 1000),
    sockets: int('sockets', values.sockets, 50, 1, 20000),
    rampS: num('ramp', values.ramp, 0, 0, 3600),
    resources: int('resources', values.resources, 35000, 16, 1_000_000),
    seed: int('seed', values.seed, 1, 0, 0xffff_ffff),
    syncer: syncer as RunOptions['syncer'],
    rate: num('rate', values.rate, 50, 0, 10000),
    durationS: num('duration', values.duration, DEFAULT_DURATION[scenario], 0, 3600),
    gapS: num('gap', values.gap, 10, 0, 3600),
    snapshotFraction: num('snapshot-fraction', values['snapshot-fraction'], 0.1, 0, 1),
    slow: int('slow', values.slow, 20, 0, 10000),
    slowRate: int('slow-rate', values['slow-rate'], 0, 0, 1e9),
    inSyncTimeoutS: num('in-sync-timeout', values['in-sync-timeout'], 300, 1, 7200),
    url: values.url,
    etcd: values.etcd,
    seedExternal: values['seed-external'],
    k6: values.k6,
    out: values.out,
    json: values.json,
    k6Env: pairs('env', values.env, /^[A-Z][A-Z0-9_]*$/),
    typhaEnv: pairs('typha-env', values['typha-env'], /^TYPHA_[A-Z0-9_]+$/),
    verbose: values.verbose,
  };
  if (o.syncer !== 'felix' && o.rate > 0 && o.durationS > 0) {
    // The churn writer changes WorkloadEndpoint labels, which only the felix syncer carries.
    if (scenario === 'connect-storm' && values.duration === undefined) o.durationS = 0;
    else
      throw new UsageError(
        `the churn changes WorkloadEndpoints, which the ${o.syncer} syncer does not carry: use --syncer felix, or connect-storm with --rate 0`,
      );
  }
  if (o.url !== undefined && o.etcd === undefined && o.rate > 0 && o.durationS > 0) {
    throw new UsageError('--url needs --etcd for the churn writer (or --rate 0)');
  }
  if (scenario !== 'connect-storm' && (o.rate === 0 || o.durationS === 0)) {
    throw new UsageError(`${scenario} measures delta latency: --rate and --duration must be > 0`);
  }
  return Object.freeze(o);
}
