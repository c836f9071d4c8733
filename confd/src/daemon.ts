/**
 * ConfdDaemon: the wiring of one confd, with nothing of its own to decide. The `cattail confd`
 * command and the integration tests both build it from a ConfdConfig, so a test runs several
 * complete confds in one process (one per "node") against real Typha and real BIRDs.
 *
 *   SyncClient(bgp, node, discovery) ──callbacks──▶ ConfdAgent ──▶ BirdControl (bird -p, birdc)
 *                                                      ▲
 *   health server: /liveness /readiness /status ───────┤
 *   metrics server: /metrics ──────────────────────────┘
 *
 * Factories (`bird`, `discovery`, `clock`) replace a part for a test; by default each is the
 * real thing the config names.
 */
import { agentSyncClient, type Discovery, type SyncClient } from '@cattail/typha/client';
import {
  agentHealthRoutes,
  PROMETHEUS_TEXT,
  realClock,
  serveComponentEndpoints,
  silentLogger,
  type Clock,
  type ComponentEndpoints,
  type EndpointPorts,
  type Logger,
} from '@cattail/typha/common';
import { ConfdAgent } from './agent/confd-agent.js';
import { birdCommands, type BirdControl } from './agent/bird-control.js';
import { fileSecretReader } from './agent/file-secrets.js';
import { formatMetrics } from './agent/metrics.js';
import type { ConfdConfig } from './config.js';

export interface ConfdDependencies {
  logger?: Logger;
  bird?: BirdControl;
  discovery?: Discovery;
  clock?: Clock;
}

export type ConfdPorts = EndpointPorts;

export const CONFD_CLIENT_ID = 'cattail-confd/0.1.0';

export class ConfdDaemon {
  readonly agent: ConfdAgent;
  readonly #config: ConfdConfig;
  readonly #log: Logger;
  readonly #client: SyncClient<'bgp'>;
  #endpoints: ComponentEndpoints | undefined;

  constructor(config: ConfdConfig, deps: ConfdDependencies = {}) {
    this.#config = config;
    this.#log = deps.logger ?? silentLogger;
    const clock = deps.clock ?? realClock;
    const bird =
      deps.bird ??
      birdCommands({
        bird: config.BirdBinary,
        birdc: config.BirdcBinary,
        socket: config.BirdSocket,
        timeoutMs: Math.round(config.BirdCommandTimeoutSecs * 1000),
      });
    this.agent = new ConfdAgent({
      nodeName: config.NodeName,
      configFile: config.BirdConfigFile,
      bird,
      readSecret: fileSecretReader(config.SecretsDir),
      routerId: config.RouterID,
      debounceMs: config.DebounceMs,
      reconcileIntervalMs: Math.round(config.ReconcileIntervalSecs * 1000),
      clock,
      logger: this.#log.child({ component: 'agent' }),
    });
    this.#client = agentSyncClient(config, 'bgp', this.agent, {
      node: config.NodeName,
      clientId: CONFD_CLIENT_ID,
      readTimeoutMs: Math.round(config.TyphaReadTimeoutSecs * 1000),
      clock,
      logger: this.#log,
      ...(deps.discovery ? { discovery: deps.discovery } : {}),
    });
  }

  async start(): Promise<ConfdPorts> {
    await this.agent.start();
    const c = this.#config;
    try {
      this.#endpoints = await serveComponentEndpoints(c, {
        health: agentHealthRoutes(
          () => this.agent.ready,
          () => this.agent.status(),
        ),
        metrics: () => ({ status: 200, type: PROMETHEUS_TEXT, body: formatMetrics(this.agent.status()) }),
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    const ports: ConfdPorts = { ...this.#endpoints.ports };
    this.#client.start();
    return ports;
  }

  async stop(): Promise<void> {
    await this.#client.close();
    await this.agent.close();
    await this.#endpoints?.close();
    this.#endpoints = undefined;
  }
}
