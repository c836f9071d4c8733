/**
 * One plugin invocation, without touching the process: environment and stdin in, the text for
 * stdout and the exit code out. main.ts is the thin shell around it; integration tests run the
 * real executable, unit tests call this with fakes.
 *
 *   env ─▶ parseCniEnv ─┐
 *   stdin ─▶ parseNetConf ─▶ command (add/del/check/version) ─▶ result JSON, exit 0
 *                         └──────── any error ─▶ toCniError ─▶ error JSON, exit 1
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DatastoreError, EtcdDatastore, UnavailableError, etcd, ipam, kdd, type Datastore } from '@cattail/datastore';
import { readPodInfo } from './k8s-pod.js';
import { cmdAdd } from './commands/add.js';
import { cmdCheck } from './commands/check.js';
import { cmdDel } from './commands/del.js';
import { cmdVersion } from './commands/version.js';
import { checkVersion, decodeStdin, loggableNetConf, parseNetConf, type NetConf } from './config.js';
import type { CommandContext } from './context.js';
import { parseCniEnv } from './env.js';
import {
  CniError,
  DatastoreWriteError,
  InterfaceError,
  InternalError,
  InvalidConfigError,
  IpamFailedError,
  TryAgainLaterError,
  errorMessage,
} from './errors.js';
import { CommandError, execRunner, type Runner } from './exec.js';
import { createLogger, parseLogLevel, type Logger } from './log.js';
import { errorResult, LATEST_VERSION } from './result.js';
import { linuxWiring, type PodWiring } from './wiring.js';

export interface PluginInput {
  env: Readonly<Record<string, string | undefined>>;
  stdin: string;
}

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

/** What a test may replace. */
export interface PluginDeps {
  makeLogger(level: NetConf['logLevel']): Logger;
  openDatastore(conf: NetConf): Datastore;
  makeWiring(log: Logger): PodWiring;
  readFile(path: string): Promise<string>;
  hostname(): string;
  now: () => Date;
}

export const DEFAULT_MTU = 1500;

export function defaultDeps(run: Runner = execRunner): PluginDeps {
  return {
    makeLogger: (level) => createLogger(level),
    openDatastore: (conf) =>
      conf.datastoreType === 'kubernetes'
        ? new kdd.KubeDatastore({ kubeconfigPath: conf.kubeconfig })
        : new EtcdDatastore({
            endpoints: [...conf.etcd.endpoints],
            ...(conf.etcd.caFile ? { caFile: conf.etcd.caFile } : {}),
            ...(conf.etcd.certFile ? { certFile: conf.etcd.certFile } : {}),
            ...(conf.etcd.keyFile ? { keyFile: conf.etcd.keyFile } : {}),
            dialTimeoutMs: 5000,
            requestTimeoutMs: 15000,
          }),
    makeWiring: (log) => linuxWiring(run, log),
    readFile: (path) => readFile(path, 'utf8'),
    hostname: () => hostname(),
    now: () => new Date(),
  };
}

export async function runPlugin(input: PluginInput, deps: PluginDeps = defaultDeps()): Promise<PluginOutput> {
  let cniVersion = LATEST_VERSION;
  let log = deps.makeLogger(parseLogLevel(input.env.CNI_LOG_LEVEL) ?? 'info');
  let ds: Datastore | undefined;
  try {
    const env = parseCniEnv(input.env);
    if (env.command === 'VERSION') return ok(cmdVersion());

    const raw = decodeStdin(input.stdin);
    if (typeof raw.cniVersion === 'string' && raw.cniVersion !== '') cniVersion = raw.cniVersion;
    checkVersion(raw.cniVersion);
    const conf = parseNetConf(raw, { env: input.env, hostname: deps.hostname() });
    log = deps
      .makeLogger(conf.logLevel)
      .child({ cmd: env.command, containerId: env.containerId, ...(env.pod ? { pod: `${env.pod.namespace}/${env.pod.name}` } : {}) });
    log.debug({ conf: loggableNetConf(conf), netns: env.netns, ifname: env.ifname }, 'invoked');

    try {
      ds = deps.openDatastore(conf);
    } catch (err) {
      throw new InvalidConfigError(`cannot use the ${conf.datastoreType === 'kubernetes' ? 'kubeconfig' : 'etcd settings'}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const kube = ds instanceof kdd.KubeDatastore ? ds : undefined;
    const ctx: CommandContext = {
      conf,
      env,
      ds,
      ipam: new ipam.IpamClient(ds, { logger: log }),
      wiring: deps.makeWiring(log),
      log,
      mtu: () => readMtu(conf, deps, log),
      now: deps.now,
      ...(kube ? { pod: (namespace: string, name: string) => readPodInfo(kube, namespace, name) } : {}),
    };
    switch (env.command) {
      case 'ADD':
        return ok(await cmdAdd(ctx));
      case 'DEL':
        await cmdDel(ctx);
        return { stdout: '', exitCode: 0 };
      case 'CHECK':
        await cmdCheck(ctx);
        return { stdout: '', exitCode: 0 };
      default:
        throw new InternalError(`unhandled command ${String(env.command)}`);
    }
  } catch (err) {
    const cniErr = toCniError(err);
    log.error({ err, code: cniErr.code }, cniErr.message);
    return { stdout: `${JSON.stringify(errorResult(cniVersion, cniErr))}\n`, exitCode: 1 };
  } finally {
    await ds?.close().catch(() => undefined);
  }
}

function ok(result: object): PluginOutput {
  return { stdout: `${JSON.stringify(result)}\n`, exitCode: 0 };
}

async function readMtu(conf: NetConf, deps: PluginDeps, log: Logger): Promise<number> {
  if (conf.mtu !== undefined) return conf.mtu;
  let text: string;
  try {
    text = await deps.readFile(conf.mtuFile);
  } catch {
    log.debug({ mtuFile: conf.mtuFile }, `no MTU in the config and no MTU file: using ${DEFAULT_MTU}`);
    return DEFAULT_MTU;
  }
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 68 || n > 65535) {
    log.warn({ mtuFile: conf.mtuFile, content: text.slice(0, 40) }, `the MTU file does not hold an MTU: using ${DEFAULT_MTU}`);
    return DEFAULT_MTU;
  }
  return n;
}

/** Every failure becomes a CNI error with the spec's (or our 100+) code. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof ipam.IpamContentionError) return new TryAgainLaterError(`IPAM: ${err.message}`, { cause: err });
  if (err instanceof UnavailableError) return new TryAgainLaterError(`the datastore is unreachable, try again later: ${err.message}`, { cause: err });
  if (err instanceof ipam.IpamError) return new IpamFailedError(`IPAM: ${err.message}`, { cause: err });
  if (err instanceof CommandError) {
    return new InterfaceError(`setting up the pod's interface failed: ${err.message}`, { cause: err, details: err.stderr.trim() });
  }
  if (err instanceof etcd.EtcdConfigError) return new InvalidConfigError(`etcd settings: ${err.message}`, { cause: err });
  if (err instanceof kdd.KubeHttpError) {
    // The plugin's own calls (the pod, its namespace): credentials and RBAC are configuration,
    // a missing pod is the runtime's mistake, anything else the API server's passing trouble.
    if (err.statusCode === 401 || err.statusCode === 403) {
      return new InvalidConfigError(`the API server refused the plugin (check the kubeconfig and its RBAC: get pods and namespaces): ${err.message}`, {
        cause: err,
      });
    }
    if (err.statusCode === 404) return new InvalidConfigError(`the pod is not on the API server: ${err.message}`, { cause: err });
    return new TryAgainLaterError(`the API server: ${err.message}`, { cause: err });
  }
  if (err instanceof DatastoreError) return new DatastoreWriteError(`datastore: ${err.message}`, { cause: err });
  return new InternalError(`unexpected error: ${errorMessage(err)}`, { cause: err });
}
