/**
 * `cattail typha`: run a Typha replica, configured like Calico's Typha by `TYPHA_*` variables
 * and the same names as flags (flags win). Logs JSON lines to stdout; one line with
 * msg "listening" carries the bound ports. SIGTERM hands clients off to other replicas over
 * TYPHA_SHUTDOWNTIMEOUTSECS before exiting; SIGINT closes at once.
 */
import { TYPHA_PARAMS, TyphaDaemon, loadTyphaConfig, loggableTyphaConfig } from '@cattail/typha';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { componentLogger, givenFlags, loadConfig, paramFlags, runUntilSignal } from './component.js';
import { typhaWatchCommand } from './typha-watch.js';

const PARAM_FLAGS = paramFlags(TYPHA_PARAMS, 'TYPHA');

export const typhaCommand: Command = {
  name: 'typha',
  summary: 'Run a Typha replica, or watch what one serves.',
  usage: `${BINARY_NAME} typha [--server-port=<PORT>] [--etcd-endpoints=<URLS>] [...]\n  ${BINARY_NAME} typha watch --addr=<ws://HOST:PORT> --syncer=<felix|bgp|ipam|status> [--until-in-sync] [-o json]`,
  description: `Every option can also be set as TYPHA_<NAME> in the environment, exactly as for
Calico's Typha (e.g. TYPHA_SERVERPORT, TYPHA_ETCDENDPOINTS, TYPHA_HEALTHENABLED).`,
  flags: PARAM_FLAGS,
  subcommands: [typhaWatchCommand],
  run: runTypha,
};

async function runTypha(ctx: CommandContext): Promise<number> {
  const argv = givenFlags(ctx, PARAM_FLAGS);
  const config = loadConfig('Typha', () => loadTyphaConfig(ctx.env, argv));
  const logger = componentLogger(config.LogSeverityScreen, { component: 'typha' });
  logger.info({ config: loggableTyphaConfig(config) }, 'starting Typha');
  let graceful = false;
  const onTerm = () => {
    graceful = true;
  };
  process.on('SIGTERM', onTerm);
  const daemon = new TyphaDaemon(config, { logger });
  try {
    return await runUntilSignal(ctx, {
      name: 'typha',
      logger,
      start: async () => ({ ...(await daemon.start()), serverId: daemon.serverId }),
      runningMsg: 'listening',
      stop: async (afterSignal) => {
        if (!afterSignal) return daemon.stop();
        const handoffMs = graceful ? Math.round(config.ShutdownTimeoutSecs * 1000) : 0;
        logger.info({ handoffMs }, graceful ? 'SIGTERM: handing clients off, then stopping' : 'stopping');
        await daemon.stop({ handoffMs });
      },
    });
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
