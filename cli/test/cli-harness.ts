/**
 * Runs the CLI in-process against a FakeDatastore and collects what it printed. Files named in a
 * test are written to a fresh temp directory that is the run's cwd and removed after the test.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { API_VERSION, BUILT_IN_TIERS, type Resource } from '@cattail/api';
import { run } from '../src/run.js';
import type { DatastoreLocation } from '../src/datastore-config.js';
import type { RunOptions, Writer } from '../src/io.js';
import { FakeDatastore } from './fake-datastore.js';

const INITIALIZED: readonly Resource[] = [
  {
    apiVersion: API_VERSION,
    kind: 'ClusterInformation',
    metadata: { name: 'default' },
    spec: { clusterGUID: '0123456789abcdef0123456789abcdef', datastoreReady: true },
  },
  ...Object.entries(BUILT_IN_TIERS).map(([name, t]): Resource => ({ apiVersion: API_VERSION, kind: 'Tier', metadata: { name }, spec: { ...t } })),
];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HarnessOptions {
  stdin?: RunOptions['stdin'];
  env?: NodeJS.ProcessEnv;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

export class CliHarness {
  readonly ds = new FakeDatastore();
  /** How often the datastore factory was called (0 = the command never connected). */
  connects = 0;
  /** What the factory was given. */
  lastFactoryArgs: { env: NodeJS.ProcessEnv; location: DatastoreLocation } | undefined;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * By default the datastore starts as Calico leaves it after its first write (ClusterInformation
   * and the built-in tiers, seeded without write records), so a test sees only the writes its
   * command makes; `{ initialized: false }` starts from an empty datastore.
   */
  static async create(t: TestContext, opts: { initialized?: boolean } = {}): Promise<CliHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'cattail-cli-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const h = new CliHarness(dir);
    if (opts.initialized !== false) {
      for (const res of INITIALIZED) h.ds.seed(res);
    }
    return h;
  }

  /** How many resources an initialized datastore holds before the test writes any. */
  static readonly INITIALIZED_SIZE = INITIALIZED.length;

  get dir(): string {
    return this.#dir;
  }

  async file(name: string, text: string): Promise<string> {
    const path = join(this.#dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    return name;
  }

  async run(argv: string[], opts: HarnessOptions = {}): Promise<CliResult> {
    const stdout = collector();
    const stderr = collector();
    const options: RunOptions = {
      stdout: stdout.writer,
      stderr: stderr.writer,
      stdin: opts.stdin ?? '',
      env: opts.env ?? {},
      cwd: this.#dir,
      requestTimeoutMs: opts.requestTimeoutMs ?? 1000,
      datastoreFactory: (env, location) => {
        this.connects++;
        this.lastFactoryArgs = { env, location };
        return this.ds;
      },
    };
    if (opts.signal) options.signal = opts.signal;
    const code = await run(argv, options);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }
}

function collector(): { writer: Writer; text: () => string } {
  const chunks: string[] = [];
  return { writer: { write: (s) => void chunks.push(s) }, text: () => chunks.join('') };
}

export const IPPOOL_A = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.1.0.0/16
  ipipMode: Never
  natOutgoing: true
`;

export const IPPOOL_B = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
spec:
  cidr: 10.2.0.0/16
  vxlanMode: Always
`;

export const GNP_ALLOW = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-web
spec:
  order: 100
  selector: app == 'web'
  types: [Ingress]
  ingress:
    - action: Allow
`;

export const NP_WEB = `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
    - action: Allow
`;
