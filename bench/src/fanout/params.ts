/**
 * The fan-out benchmark's command line: parsed once, each number range-checked with its default
 * beside it (`--clients must be an integer in 1..100000, got "x"`). Some defaults follow
 * `--clients`: more workers, a larger resume sample and extra local addresses for large swarms.
 */
import { parseArgs } from 'node:util';
import { SYNCER_TYPES, type SyncerType } from '@cattail/typha/protocol';
import { intArg, numArg, UsageError } from '../args.js';

export const FANOUT_USAGE = `usage: fanout.js [--clients 1000] [--resources 35000] [--rate 50] [--duration 30] [--syncer felix]
  [--workers W] [--seed 1] [--etcd URL] [--json] [--sync-clients 1] [--resume-sample K] [--resume-gap 10]
  [--floor-rounds 30] [--storm-timeout 300] [--max-pending 500] [--local-addresses 0] [--batch-window-ms MS]
  [--deflate-snapshot] [--deltas deflate|plain|mixed] [--typha-cpu-prof DIR] [--swarm-cpu-prof DIR] [--typha-env KEY=VALUE ...]
  [--fanout-workers K[,K...]]   one whole run per value, in the order given (e.g. 1,2,1,2), each with
                                TYPHA_FANOUTWORKERS=K; then a line comparing them`;

export interface FanoutParams {
  clients: number;
  resources: number;
  rate: number;
  durationS: number;
  syncer: SyncerType;
  workers: number;
  seed: number;
  etcd: string | undefined;
  syncClientsPerWorker: number;
  resumeSample: number;
  resumeGapS: number;
  floorRounds: number;
  stormTimeoutS: number;
  maxPending: number;
  localAddresses: number;
  batchWindowMs: number | undefined;
  /** LiteClients offer `deflate-snapshot` (snapshot pages compressed once per revision). */
  deflateSnapshot: boolean;
  /**
   * Whether LiteClients offer `deflate-deltas`, as the real client does: `deflate` (default),
   * `plain`, or `mixed` (even-numbered clients offer it, odd ones do not: both figures and their
   * ratio from one run, under the same load).
   */
  deltas: DeltasMode;
  typhaCpuProf: string | undefined;
  swarmCpuProf: string | undefined;
  typhaEnv: Record<string, string>;
  /** TYPHA_FANOUTWORKERS of this run (the runs of `--fanout-workers` are made one by one). */
  fanoutWorkers: number;
}

/** The parameters and `--json`, or `help` when `--help` was asked for. */
export type FanoutArgs = { help: true } | { help: false; params: FanoutParams; json: boolean; fanoutWorkers: number[] };

export function parseFanoutArgs(argv: string[]): FanoutArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string' },
      resources: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      syncer: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      etcd: { type: 'string' },
      json: { type: 'boolean', default: false },
      'sync-clients': { type: 'string' },
      'resume-sample': { type: 'string' },
      'resume-gap': { type: 'string' },
      'floor-rounds': { type: 'string' },
      'storm-timeout': { type: 'string' },
      'max-pending': { type: 'string' },
      'local-addresses': { type: 'string' },
      'batch-window-ms': { type: 'string' },
      'deflate-snapshot': { type: 'boolean', default: false },
      deltas: { type: 'string' },
      'typha-cpu-prof': { type: 'string' },
      'swarm-cpu-prof': { type: 'string' },
      'typha-env': { type: 'string', multiple: true },
      'fanout-workers': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { help: true };
  const clients = intArg('clients', values.clients, 1000, 1, 100_000);
  const syncer = (values.syncer ?? 'felix') as SyncerType;
  if (!(SYNCER_TYPES as readonly string[]).includes(syncer)) throw new UsageError(`--syncer must be one of ${SYNCER_TYPES.join(', ')}`);
  const typhaEnv = typhaEnvArgs(values['typha-env'] ?? []);
  const params: FanoutParams = {
    clients,
    resources: intArg('resources', values.resources, 35_000, 16, 2_000_000),
    rate: numArg('rate', values.rate, 50, 0.1, 10_000),
    durationS: numArg('duration', values.duration, 30, 1, 3600),
    syncer,
    workers: intArg('workers', values.workers, clients <= 1500 ? 1 : clients <= 6000 ? 2 : 3, 1, 16),
    seed: intArg('seed', values.seed, 1, 0, 0xffff_ffff),
    etcd: values.etcd,
    syncClientsPerWorker: intArg('sync-clients', values['sync-clients'], 1, 0, 50),
    resumeSample: intArg('resume-sample', values['resume-sample'], Math.min(100, Math.max(1, Math.round(clients / 100))), 0, clients),
    resumeGapS: numArg('resume-gap', values['resume-gap'], 10, 0, 600),
    floorRounds: intArg('floor-rounds', values['floor-rounds'], 30, 0, 1000),
    stormTimeoutS: numArg('storm-timeout', values['storm-timeout'], 300, 1, 3600),
    maxPending: intArg('max-pending', values['max-pending'], 500, 1, 100_000),
    localAddresses: intArg('local-addresses', values['local-addresses'], clients > 25_000 ? Math.ceil(clients / 20_000) : 0, 0, 250),
    batchWindowMs: values['batch-window-ms'] === undefined ? undefined : intArg('batch-window-ms', values['batch-window-ms'], 10, 0, 1000),
    deflateSnapshot: values['deflate-snapshot'],
    deltas: deltasMode(values.deltas),
    typhaCpuProf: values['typha-cpu-prof'],
    swarmCpuProf: values['swarm-cpu-prof'],
    typhaEnv,
    fanoutWorkers: 1,
  };
  const fanoutWorkers = (values['fanout-workers'] ?? '1').split(',').map((v) => intArg('fanout-workers', v.trim(), 1, 1, 256));
  if ('TYPHA_FANOUTWORKERS' in typhaEnv) throw new UsageError('set fan-out workers with --fanout-workers, not --typha-env TYPHA_FANOUTWORKERS');
  return { help: false, params, json: values.json, fanoutWorkers };
}

function typhaEnvArgs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of pairs) {
    const i = kv.indexOf('=');
    if (i <= 0 || !kv.startsWith('TYPHA_')) throw new UsageError(`--typha-env takes TYPHA_NAME=value, got "${kv}"`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

export type DeltasMode = 'deflate' | 'plain' | 'mixed';

function deltasMode(v: string | undefined): DeltasMode {
  if (v === undefined) return 'deflate';
  if (v === 'deflate' || v === 'plain' || v === 'mixed') return v;
  throw new UsageError(`--deltas must be deflate, plain or mixed, not "${v}"`);
}
