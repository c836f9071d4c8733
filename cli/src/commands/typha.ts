/**
 * `cattail typha`: run a Typha replica, configured like Calico's Typha by `TYPHA_*` variables
 * and the same names as flags (flags win). Logs JSON lines to stdout; one line with
 * msg "listening" carries the bound ports. SIGTERM hands clients off to other replicas over
 * TYPHA_SHUTDOWNTIMEOUTSECS before exiting; SIGINT closes at once.
 */
import { pino } from 'pino';
import { ConfigError, flagName } from '@cattail/api';
import { TYPHA_PARAMS, TyphaDaemon, loadTyphaConfig, loggableTyphaConfig } from '@cattail/typha';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import type { FlagSpec } from '../argv.js';
import { CommandFailedError } from '../errors.js';
import { typhaWatchCommand } from './typha-watch.js';

const PARAM_FLAGS: readonly FlagSpec[] = Object.entries(TYPHA_PARAMS).map(([name, spec]) => ({
  name: flagName(name),
  value: spec.type === 'bool' ? 'true|false' : 'VALUE',
  help: `${spec.help} [TYPHA_${name.toUpperCase()}, default ${JSON.stringify(spec.default)}]`,
}));

const PINO_LEVEL: Record<string, string> = { Debug: 'debug', Info: 'info', Warning: 'warn', Error: 'error', Fatal: 'fatal' };

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
  if (ctx.args.positionals.length) throw new CommandFailedError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const argv: string[] = [];
  for (const f of PARAM_FLAGS) {
    const v = ctx.args.string(f.name);
    if (v !== undefined) argv.push(`--${f.name}=${v}`);
  }
  let config;
  try {
    config = loadTyphaConfig(ctx.env, argv);
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailedError(`invalid Typha configuration:\n${err.message}`, 1, { cause: err });
    throw err;
  }
  const logger = pino({ level: PINO_LEVEL[config.LogSeverityScreen] ?? 'info', base: { component: 'typha' } });
  logger.info({ config: loggableTyphaConfig(config) }, 'starting Typha');
  let graceful = false;
  const onTerm = () => {
    graceful = true;
  };
  process.on('SIGTERM', onTerm);
  const daemon = new TyphaDaemon(config, { logger });
  try {
    const ports = await daemon.start();
    logger.info({ ...ports, serverId: daemon.serverId }, 'listening');
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const handoffMs = graceful ? Math.round(config.ShutdownTimeoutSecs * 1000) : 0;
    logger.info({ handoffMs }, graceful ? 'SIGTERM: handing clients off, then stopping' : 'stopping');
    await daemon.stop({ handoffMs });
    logger.info({}, 'stopped');
    return 0;
  } catch (err) {
    logger.error({ err }, 'Typha failed');
    await daemon.stop().catch(() => undefined);
    throw new CommandFailedError(`typha: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  } finally {
    process.off('SIGTERM', onTerm);
  }
}
