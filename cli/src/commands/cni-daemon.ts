/**
 * `cattail cni-daemon`: the per-node CNI daemon (@cattail/cni/daemon). The runtime executes the
 * Go shim installed as `cattail-cni`, which hands each call to this daemon over a unix socket
 * (default /var/run/cattail/cni.sock) and runs the whole plugin itself when the daemon is not
 * there. Configured by `CNI_DAEMON_*` variables and the same names as flags (flags win); the
 * socket also by CATTAIL_CNI_DAEMON_SOCKET, which the shim reads. Logs JSON lines to stderr,
 * each call's tagged with its container id. SIGTERM/SIGINT: stop accepting, finish the calls
 * being served (CNI_DAEMON_DRAINTIMEOUTSECS), close the datastores, remove the socket.
 */
import { pino } from 'pino';
import { CNI_DAEMON_PARAMS, CniDaemon, loadCniDaemonConfig, loggableCniDaemonConfig } from '@cattail/cni/daemon';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { givenFlags, loadConfig, paramFlags, pinoLevel, runUntilSignal } from './component.js';

const PARAM_FLAGS = paramFlags(CNI_DAEMON_PARAMS, 'CNI_DAEMON');

export const cniDaemonCommand: Command = {
  name: 'cni-daemon',
  summary: 'Serve this node’s CNI calls from one long-lived process (the cattail-cni shim’s daemon).',
  usage: `${BINARY_NAME} cni-daemon [--socket=<PATH>] [--health-enabled=true] [--health-port=<PORT>] [...]`,
  description: `Every option can also be set as CNI_DAEMON_<NAME> in the environment (e.g. CNI_DAEMON_HEALTHENABLED,
CNI_DAEMON_HEALTHPORT); the socket also as CATTAIL_CNI_DAEMON_SOCKET. Each call runs the CNI
plugin (the same IPAM, interface set-up and endpoint writes as cattail-cni-direct) with the
datastore connection kept open between calls. A call whose network namespace this process
cannot see is answered "fallback": the shim then runs cattail-cni-direct itself.`,
  flags: PARAM_FLAGS,
  run: runCniDaemon,
};

async function runCniDaemon(ctx: CommandContext): Promise<number> {
  const argv = givenFlags(ctx, PARAM_FLAGS);
  const config = loadConfig('cni-daemon', () => loadCniDaemonConfig(ctx.env, argv));
  // stderr: the daemon's stdout carries nothing, as the plugin's carries only the CNI result.
  const logger = pino({ level: pinoLevel(config.LogSeverityScreen), base: { component: 'cni-daemon' } }, pino.destination({ dest: 2, sync: true }));
  logger.info({ config: loggableCniDaemonConfig(config) }, 'starting the CNI daemon');
  const daemon = new CniDaemon(config, { logger });
  return runUntilSignal(ctx, {
    name: 'cni-daemon',
    logger,
    start: async () => ({ ...(await daemon.start()) }),
    runningMsg: 'serving',
    stop: async (afterSignal) => {
      if (afterSignal) logger.info({}, 'stopping: finishing the calls being served');
      await daemon.stop();
    },
  });
}
