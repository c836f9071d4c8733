/**
 * `cattail confd`: run confd for this node, configured like Calico's confd in calico/node by
 * `CONFD_*` variables (plus NODENAME / CALICO_NODENAME and FELIX_TYPHA* for the settings
 * calico/node shares) and the same names as flags (flags win). Logs JSON lines to stdout; one
 * line with msg "running" carries the bound health and metrics ports. SIGTERM/SIGINT stop it;
 * BIRD keeps running with the last configuration confd installed.
 */
import { hostname } from 'node:os';
import { pino } from 'pino';
import { ConfigError, flagName } from '@cattail/api';
import { CONFD_PARAMS, ConfdDaemon, loadConfdConfig, loggableConfdConfig } from '@cattail/confd';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import type { FlagSpec } from '../argv.js';
import { CommandFailedError } from '../errors.js';

const PARAM_FLAGS: readonly FlagSpec[] = Object.entries(CONFD_PARAMS).map(([name, spec]) => ({
  name: flagName(name),
  value: spec.type === 'bool' ? 'true|false' : 'VALUE',
  help: `${spec.help} [CONFD_${name.toUpperCase()}, default ${JSON.stringify(spec.default)}]`,
}));

const PINO_LEVEL: Record<string, string> = { Debug: 'debug', Info: 'info', Warning: 'warn', Error: 'error', Fatal: 'fatal' };

export const confdCommand: Command = {
  name: 'confd',
  summary: 'Keep BIRD’s configuration in step with the datastore (via Typha).',
  usage: `${BINARY_NAME} confd [--node-name=<NODE>] [--typha-addr=<HOST:PORT>] [--bird-config-file=<PATH>] [...]`,
  description: `Every option can also be set as CONFD_<NAME> in the environment (e.g. CONFD_TYPHAADDR,
CONFD_BIRDCONFIGFILE, CONFD_HEALTHENABLED). As in calico/node, the node name is also read from
NODENAME or CALICO_NODENAME, and the Typha settings from FELIX_TYPHAADDR, FELIX_TYPHACAFILE, ...
Each change is rendered, checked with \`bird -p\`, renamed over the live file and applied with
\`birdc configure\`; a configuration BIRD would refuse is never installed.`,
  flags: PARAM_FLAGS,
  run: runConfd,
};

async function runConfd(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new CommandFailedError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const argv: string[] = [];
  for (const f of PARAM_FLAGS) {
    const v = ctx.args.string(f.name);
    if (v !== undefined) argv.push(`--${f.name}=${v}`);
  }
  let config;
  try {
    config = loadConfdConfig(ctx.env, argv, { hostname: hostname() });
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailedError(`invalid confd configuration:\n${err.message}`, 1, { cause: err });
    throw err;
  }
  const logger = pino({ level: PINO_LEVEL[config.LogSeverityScreen] ?? 'info', base: { component: 'confd', node: config.NodeName } });
  logger.info({ config: loggableConfdConfig(config) }, 'starting confd');
  const daemon = new ConfdDaemon(config, { logger });
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
    logger.error({ err }, 'confd failed');
    await daemon.stop().catch(() => undefined);
    throw new CommandFailedError(`confd: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  }
}
