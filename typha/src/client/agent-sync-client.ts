/**
 * The sync client as an agent daemon builds it from its configuration: Felix (felix syncer)
 * and confd (bgp syncer) take the same Typha settings (calico/node gives both one Typha
 * configuration, FELIX_TYPHA*), so both start their client here:
 *
 *   config.Typha{Addr,K8sServiceName,K8sNamespace} ─▶ agentDiscovery (cached)
 *   config.Typha{CAFile,CertFile,KeyFile,CN,URISAN} ─▶ TlsOptions (files read once, at start)
 *   readTimeoutMs ─▶ readTimeoutMs, and a ping every third of it
 *
 * A Typha file that cannot be read is a ClientConfigError naming the setting and the path,
 * thrown here, at start, never later.
 */
import { readFileSync } from 'node:fs';
import type { SyncerType } from '../protocol/messages.js';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { silentLogger } from '../common/logger.js';
import { agentDiscovery } from './agent-discovery.js';
import type { ClientCallbacks } from './callbacks.js';
import type { Discovery } from './endpoint.js';
import { ClientConfigError } from './errors.js';
import { SyncClient } from './sync-client.js';
import type { TlsOptions } from './tls.js';

/** The Typha settings of an agent's configuration ('' where unset). */
export interface AgentTyphaConfig {
  readonly TyphaAddr: string;
  readonly TyphaK8sServiceName: string;
  readonly TyphaK8sNamespace: string;
  readonly TyphaCAFile: string;
  readonly TyphaCertFile: string;
  readonly TyphaKeyFile: string;
  readonly TyphaCN: string;
  readonly TyphaURISAN: string;
}

export interface AgentSyncOptions {
  /** This node's name (sent in the hello; a replica on the same node is preferred). */
  node: string;
  /** Sent in the hello as `client`, e.g. `cattail-felix/0.1.0`. */
  clientId: string;
  /** No frame from Typha for this long: reconnect (Calico's TyphaReadTimeout). */
  readTimeoutMs: number;
  logger?: Logger;
  clock?: Clock;
  /** Replaces the discovery the configuration names (tests). */
  discovery?: Discovery;
}

export function agentSyncClient<S extends SyncerType>(
  config: AgentTyphaConfig,
  syncer: S,
  callbacks: ClientCallbacks<S>,
  options: AgentSyncOptions,
): SyncClient<S> {
  const log = options.logger ?? silentLogger;
  const tls = agentTls(config);
  return new SyncClient({
    syncer,
    node: options.node,
    discovery:
      options.discovery ??
      agentDiscovery({
        typhaAddr: config.TyphaAddr,
        k8sServiceName: config.TyphaK8sServiceName,
        k8sNamespace: config.TyphaK8sNamespace,
        secure: tls !== undefined,
        logger: log,
      }),
    callbacks,
    clientId: options.clientId,
    readTimeoutMs: options.readTimeoutMs,
    pingIntervalMs: Math.max(1, Math.floor(options.readTimeoutMs / 3)),
    ...(options.clock ? { clock: options.clock } : {}),
    logger: log.child({ component: 'typha-client' }),
    ...(tls ? { tls } : {}),
  });
}

/** TLS to Typha when a CA or a client certificate is configured; the files are read now. */
function agentTls(c: AgentTyphaConfig): TlsOptions | undefined {
  if (c.TyphaCAFile === '' && c.TyphaCertFile === '') return undefined;
  const tls: TlsOptions = {};
  if (c.TyphaCAFile) tls.ca = readSetting('TyphaCAFile', c.TyphaCAFile);
  if (c.TyphaCertFile) tls.cert = readSetting('TyphaCertFile', c.TyphaCertFile);
  if (c.TyphaKeyFile) tls.key = readSetting('TyphaKeyFile', c.TyphaKeyFile);
  if (c.TyphaCN) tls.cn = c.TyphaCN;
  if (c.TyphaURISAN) tls.uriSan = c.TyphaURISAN;
  return tls;
}

function readSetting(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ClientConfigError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
