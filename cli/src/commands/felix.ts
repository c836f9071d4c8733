/**
 * `cattail felix`: run Felix for this node, configured like Calico's Felix: `FELIX_<NAME>`
 * environment variables, an optional config file (FELIX_CONFIGFILE, felix.cfg's `Name = value`
 * lines) and FelixConfiguration `default` / `node.<name>` from the datastore, in that order of
 * precedence. Logs JSON lines to stdout; one line with msg "running" carries the bound health
 * and metrics ports. SIGTERM/SIGINT stop it; the dataplane keeps what was programmed.
 */
import { hostname } from 'node:os';
import { pino } from 'pino';
import { ConfigError } from '@cattail/api';
import { FELIX_PARAMS, FelixDaemon, loadFelixConfig, loggableFelixConfig } from '@cattail/felix';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { CommandFailedError } from '../errors.js';

const PINO_LEVEL: Record<string, string> = { Debug: 'debug', Info: 'info', Warning: 'warn', Error: 'error', Fatal: 'fatal' };

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
Service FELIX_TYPHAK8SSERVICENAME in FELIX_TYPHAK8SNAMESPACE. A datastore change to a setting
fixed at start is logged as "restart required".

Settings:
${SETTINGS}`,
  flags: [],
  run: runFelix,
};

async function runFelix(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new CommandFailedError(`unexpected argument "${ctx.args.positionals[0]}"`);
  let loaded;
  try {
    loaded = loadFelixConfig(ctx.env, { hostname: hostname() });
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailedError(`invalid felix configuration:\n${err.message}`, 1, { cause: err });
    throw err;
  }
  const { layers, config } = loaded;
  const logger = pino({ level: PINO_LEVEL[config.LogSeverityScreen] ?? 'info', base: { component: 'felix', node: config.FelixHostname } });
  logger.info({ config: loggableFelixConfig(config) }, 'starting felix');
  let daemon: FelixDaemon;
  try {
    daemon = new FelixDaemon(layers, {
      logger,
      setLogLevel: (severity) => {
        logger.level = PINO_LEVEL[severity] ?? 'info';
      },
    });
  } catch (err) {
    throw new CommandFailedError(`felix: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  }
  try {
    const ports = await daemon.start();
    logger.info({ ...ports }, 'running');
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info({}, 'stopping');
    await daemon.stop();
    logger.info({}, 'stopped');
    return 0;
  } catch (err) {
    logger.error({ err }, 'felix failed');
    await daemon.stop().catch(() => undefined);
    throw new CommandFailedError(`felix: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  }
}
