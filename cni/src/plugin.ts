/**
 * One plugin invocation, without touching the process: environment and stdin in, the text for
 * stdout and the exit code out. main.ts is the thin shell around it; integration tests run the
 * real executable, unit tests call this with fakes.
 *
 *   env ─▶ parseCniEnv ─┐
 *   stdin ─▶ parseNetConf ─▶ command (add/del/check/version) ─▶ result JSON, exit 0
 *                         └──────── any error ─▶ toCniError ─▶ error JSON, exit 1
 *
 * Start-up is most of a CNI call's latency (docs/BENCHMARKS.md, "CNI ADD/DEL latency"), so this
 * module loads only what every datastore needs: the backend the configuration names is imported
 * when the datastore is opened (the etcd client with gRPC and protobufjs, or the Kubernetes
 * client with its YAML parser), never both, and VERSION never gets here (main.ts answers it).
 * Errors are classified by class where the class is light (@cattail/datastore/errors) and by
 * stable code where it is not (the etcd client's ETCD_CONFIG).
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CattailError } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import { DatastoreError, KubeHttpError, UnavailableError } from '@cattail/datastore/errors';
import * as ipam from '@cattail/datastore/ipam';
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
import { timerFromEnv } from './timing.js';
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
  /** May be async: the default imports the backend the config names only now. */
  openDatastore(conf: NetConf): Datastore | Promise<Datastore>;
  /**
   * Hands back what openDatastore gave, with the error the call ended with (if any). Default:
   * close it. The daemon keeps it open for the next call instead (warm-datastores.ts), unless
   * the error says the connection is broken.
   */
  releaseDatastore?(ds: Datastore, failure: unknown): Promise<void>;
  makeWiring(log: Logger): PodWiring;
  readFile(path: string): Promise<string>;
  hostname(): string;
  now: () => Date;
}

export const DEFAULT_MTU = 1500;

export function defaultDeps(run: Runner = execRunner): PluginDeps {
  return {
    makeLogger: (level) => createLogger(level),
    openDatastore: async (conf) => {
      if (conf.datastoreType === 'kubernetes') {
        const { KubeDatastore } = await import('@cattail/datastore/kdd');
        return new KubeDatastore({ kubeconfigPath: conf.kubeconfig });
      }
      const { EtcdDatastore } = await import('@cattail/datastore/etcd-datastore');
      return new EtcdDatastore({
        endpoints: [...conf.etcd.endpoints],
        ...(conf.etcd.caFile ? { caFile: conf.etcd.caFile } : {}),
        ...(conf.etcd.certFile ? { certFile: conf.etcd.certFile } : {}),
        ...(conf.etcd.keyFile ? { keyFile: conf.etcd.keyFile } : {}),
        dialTimeoutMs: 5000,
        requestTimeoutMs: 15000,
      });
    },
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
  let failure: unknown;
  const timer = timerFromEnv(input.env);
  try {
    timer?.mark('main');
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

    timer?.mark('config');
    try {
      ds = await deps.openDatastore(conf);
    } catch (err) {
      throw new InvalidConfigError(`cannot use the ${conf.datastoreType === 'kubernetes' ? 'kubeconfig' : 'etcd settings'}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const kdd = conf.datastoreType === 'kubernetes' ? await import('@cattail/datastore/kdd') : undefined;
    const kube = kdd && ds instanceof kdd.KubeDatastore ? ds : undefined;
    timer?.mark('datastore');
    const counted = timer ? timer.wrap(ds) : ds;
    const ctx: CommandContext = {
      conf,
      env,
      ds: counted,
      ipam: new ipam.IpamClient(counted, { logger: log }),
      wiring: deps.makeWiring(log),
      log,
      mtu: () => readMtu(conf, deps, log),
      now: deps.now,
      ...(kube ? { pod: (namespace: string, name: string) => readPodInfo(kube, namespace, name) } : {}),
      ...(timer ? { mark: (name: string) => timer.mark(name) } : {}),
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
    failure = err;
    const cniErr = toCniError(err);
    log.error({ err, code: cniErr.code }, cniErr.message);
    return { stdout: `${JSON.stringify(errorResult(cniVersion, cniErr))}\n`, exitCode: 1 };
  } finally {
    if (ds) await (deps.releaseDatastore ? deps.releaseDatastore(ds, failure) : ds.close()).catch(() => undefined);
    if (timer) {
      timer.mark('closed');
      // Asked for explicitly, so whatever the configured log level.
      deps.makeLogger('info').info({ cmd: input.env.CNI_COMMAND, ...timer.report() }, 'timing');
    }
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
  if (err instanceof CattailError && err.code === 'ETCD_CONFIG') return new InvalidConfigError(`etcd settings: ${err.message}`, { cause: err });
  if (err instanceof KubeHttpError) {
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
