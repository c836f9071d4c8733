/**
 * `cattail felix`: run Felix for this node, configured like Calico's Felix: `FELIX_<NAME>`
 * environment variables, an optional config file (FELIX_CONFIGFILE, felix.cfg's `Name = value`
 * lines) and FelixConfiguration `default` / `node.<name>` from the datastore, in that order of
 * precedence. Logs JSON lines to stdout; one line with msg "running" carries the bound health
 * and metrics ports. SIGTERM/SIGINT stop it; the dataplane keeps what was programmed.
 */
import { hostname } from 'node:os';
import { FELIX_PARAMS, FelixDaemon, loadFelixConfig, loggableFelixConfig } from '@cattail/felix';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { CommandFailedError } from '../errors.js';
import { componentLogger, givenFlags, loadConfig, pinoLevel, runUntilSignal } from './component.js';

const SETTINGS = Object.entries(FELIX_PARAMS)
  .map(([name, spec]) => `  FELIX_${name.toUpperCase().padEnd(26)} ${spec.help} (default ${JSON.stringify(spec.default)})`)
  .join('\n');

export const felixCommand: Command = {
  name: 'felix',
  summary: 'Program this node’s routes and nftables policy from the datastore (via Typha).',
  usage: `${BINARY_NAME} felix`,
  description: `Configured, as Calico's Felix, by the environment (highest), then the file named by
FELIX_CONFIGFILE, then FelixConfiguration node.<name>, then FelixConfiguration default. The node
name is FELIX_FELIXHOSTNAME, else NODENAME, else the host name. Typha is found through
FELIX_TYPHAADDR (host:port; a host name finds every address it resolves to) or the Kubernetes
Service FELIX_TYPHAK8SSERVICENAME in FELIX_TYPHAK8SNAMESPACE. FelixConfiguration changes apply
while running (the health and metrics servers are reopened on a new address); a change to a
setting fixed at start is logged as "restart required".

Settings:
${SETTINGS}`,
  flags: [],
  run: runFelix,
};

async function runFelix(ctx: CommandContext): Promise<number> {
  givenFlags(ctx, []);
  const { layers, config } = loadConfig('felix', () => loadFelixConfig(ctx.env, { hostname: hostname() }));
  const logger = componentLogger(config.LogSeverityScreen, { component: 'felix', node: config.FelixHostname });
  logger.info({ config: loggableFelixConfig(config) }, 'starting felix');
  let daemon: FelixDaemon;
  try {
    daemon = new FelixDaemon(layers, {
      logger,
      setLogLevel: (severity) => {
        logger.level = pinoLevel(severity);
      },
    });
  } catch (err) {
    throw new CommandFailedError(`felix: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  }
  return runUntilSignal(ctx, {
    name: 'felix',
    logger,
    start: async () => ({ ...(await daemon.start()) }),
    stop: async (afterSignal) => {
      if (afterSignal) logger.info({}, 'stopping');
      await daemon.stop();
    },
  });
}
