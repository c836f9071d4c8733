/**
 * `cattail confd`: run confd for this node, configured like Calico's confd in calico/node by
 * `CONFD_*` variables (plus NODENAME / CALICO_NODENAME and FELIX_TYPHA* for the settings
 * calico/node shares) and the same names as flags (flags win). Logs JSON lines to stdout; one
 * line with msg "running" carries the bound health and metrics ports. SIGTERM/SIGINT stop it;
 * BIRD keeps running with the last configuration confd installed.
 */
import { hostname } from 'node:os';
import { CONFD_PARAMS, ConfdDaemon, loadConfdConfig, loggableConfdConfig } from '@cattail/confd';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { componentLogger, givenFlags, loadConfig, paramFlags, runUntilSignal } from './component.js';

const PARAM_FLAGS = paramFlags(CONFD_PARAMS, 'CONFD');

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
  const argv = givenFlags(ctx, PARAM_FLAGS);
  const config = loadConfig('confd', () => loadConfdConfig(ctx.env, argv, { hostname: hostname() }));
  const logger = componentLogger(config.LogSeverityScreen, { component: 'confd', node: config.NodeName });
  logger.info({ config: loggableConfdConfig(config) }, 'starting confd');
  const daemon = new ConfdDaemon(config, { logger });
  return runUntilSignal(ctx, {
    name: 'confd',
    logger,
    start: async () => ({ ...(await daemon.start()) }),
    stop: async (afterSignal) => {
      if (afterSignal) logger.info({}, 'stopping');
      await daemon.stop();
    },
  });
}
