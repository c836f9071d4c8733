/**
 * The CNI daemon's integration kit, on top of harness.ts: the real `cattail cni-daemon` (the
 * CLI's bin script) started inside a node namespace, and the real Go shim run there the way a
 * runtime runs it. Each shim lives in a temp dir of its own, beside a `cattail-cni-direct` that
 * is a wrapper around the direct plugin (cni/bin/cattail-cni.js) which first notes the call in
 * `direct.log`, so a test knows which calls fell back:
 *
 *   <tmp>/cattail-cni          copy of .tools/bin/cattail-cni-shim (setup.sh builds it)
 *   <tmp>/cattail-cni-direct   #!/bin/sh: echo "$CNI_COMMAND $CNI_CONTAINERID" >> direct.log;
 *                              exec node cni/bin/cattail-cni.js
 *
 * The daemon is ready when it logs "serving" (no sleeps); it is ended by its own pid in
 * t.after, SIGTERM first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { findShimBinary } from '@cattail/cni/daemon';
import { PLUGIN, runInNetns, withJson, type CniRun } from './harness.js';

export const CATTAIL_CLI = fileURLToPath(new URL('../../../../cli/bin/cattail.js', import.meta.url));

export interface Daemon {
  readonly pid: number;
  readonly socket: string;
  readonly metricsPort: number;
  /** Everything it logged so far. */
  stderr(): string;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** The value of one `cattail_cni_requests_total` series (0 when absent), from /metrics. */
  requests(command: string, result: string): Promise<number>;
  /** The value of an unlabelled series (a gauge), from /metrics; undefined when absent. */
  metric(name: string): Promise<number | undefined>;
}

export interface StartDaemonOptions {
  /** Wraps the daemon's argv (e.g. `unshare -m sh -c …`); default: run it as is. */
  wrap?: (argv: string[]) => string[];
  drainTimeoutSecs?: number;
}

/** Starts `cattail cni-daemon` inside `nodeNs` on a socket in a fresh temp dir. */
export async function startDaemon(t: TestContext, nodeNs: string, opts: StartDaemonOptions = {}): Promise<Daemon> {
  if (!existsSync(CATTAIL_CLI)) throw new Error(`${CATTAIL_CLI} is missing: build the workspace first (npx tsc -b)`);
  const dir = await mkdtemp(join(tmpdir(), 'ccni-daemon-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socket = join(dir, 'run', 'cni.sock');
  const argv = [
    process.execPath,
    CATTAIL_CLI,
    'cni-daemon',
    `--socket=${socket}`,
    '--prometheus-metrics-enabled=true',
    '--prometheus-metrics-host=127.0.0.1',
    '--prometheus-metrics-port=0',
    `--drain-timeout-secs=${opts.drainTimeoutSecs ?? 60}`,
  ];
  const child = spawn('ip', ['netns', 'exec', nodeNs, ...(opts.wrap ? opts.wrap(argv) : argv)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  t.after(() => endProcess(child, exited));
  const metricsPort = await new Promise<number>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      for (const line of stderr.split('\n').slice(0, -1)) {
        if (!line.includes('"msg":"serving"')) continue;
        resolve((JSON.parse(line) as { metricsPort: number }).metricsPort);
      }
    });
    void exited.then((code) => reject(new Error(`cattail cni-daemon exited (${code}) before serving:\n${stderr}`)));
  });
  // The metrics server listens in the node namespace: ask from there.
  const scrape = async () => (await runInNetns(nodeNs, {}, [process.execPath, '-e', METRICS_FETCH, String(metricsPort)], undefined, 30_000, 'metrics')).stdout;
  return {
    pid: child.pid!,
    socket,
    metricsPort,
    stderr: () => stderr,
    exited,
    hasExited: () => exitCode !== undefined,
    async requests(command, result) {
      return series(await scrape(), `cattail_cni_requests_total{command="${command}",result="${result}"}`) ?? 0;
    },
    async metric(name) {
      return series(await scrape(), name);
    },
  };
}

function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

const METRICS_FETCH = "fetch('http://127.0.0.1:'+process.argv[1]+'/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))";

async function endProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

export interface Shim {
  readonly dir: string;
  readonly path: string;
  /** `COMMAND CONTAINERID` per call the shim handed to cattail-cni-direct. */
  directCalls(): Promise<string[]>;
}

/** A copy of the built Go shim in a temp dir, beside a logging cattail-cni-direct. */
export async function makeShim(t: TestContext): Promise<Shim> {
  const built = findShimBinary();
  const dir = await mkdtemp(join(tmpdir(), 'ccni-shim-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'cattail-cni');
  await copyFile(built, path);
  const log = join(dir, 'direct.log');
  await writeFile(
    join(dir, 'cattail-cni-direct'),
    `#!/bin/sh\necho "$CNI_COMMAND $CNI_CONTAINERID" >> '${log}'\nexec '${process.execPath}' '${PLUGIN}' "$@"\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    path,
    async directCalls() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l !== '');
    },
  };
}

/** Runs the shim inside `nodeNs` with the CNI variables, the daemon's socket and the config on stdin. */
export async function runShim(nodeNs: string, shim: Shim, socket: string, env: Record<string, string>, config: unknown, timeoutMs = 120_000): Promise<CniRun> {
  const stdin = typeof config === 'string' ? config : JSON.stringify(config);
  return withJson(await runInNetns(nodeNs, { ...env, CATTAIL_CNI_DAEMON_SOCKET: socket }, [shim.path], stdin, timeoutMs, `the shim's ${env.CNI_COMMAND}`));
}
