/**
 * `cattail node status-reporter`: calico/node's CalicoNodeStatus reporter as a long-running
 * command (the chart's `status-reporter` container beside BIRD): every second it answers the
 * CalicoNodeStatus requests for NODENAME that are due (node-status-reporter.ts), until
 * SIGTERM/SIGINT. Reads BIRD's control socket and the datastore; writes only those statuses.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { nodeNameFrom } from '@cattail/startup';
import { BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { NodeStatusReporter } from '../node-status-reporter.js';
import { componentLogger, runUntilSignal } from './component.js';

const DEFAULT_SOCKET = '/var/run/calico/bird.ctl';

export const nodeStatusReporterCommand: Command = {
  name: 'status-reporter',
  summary: "Write this node's CalicoNodeStatus from BIRD (calico/node's status reporter).",
  usage: `${BINARY_NAME} node status-reporter [--bird-socket=<PATH>] [--interval=<SECONDS>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
  flags: [
    { name: 'bird-socket', value: 'PATH', help: `BIRD's control socket (default: ${DEFAULT_SOCKET}).` },
    { name: 'interval', value: 'SECONDS', help: 'How often due requests are looked for (default 1; each request has its own updatePeriodSeconds).' },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
  ],
  description: `Answers the CalicoNodeStatus resources whose spec.node is this node (NODENAME, else
the host name): the Agent, BGP and Routes classes they ask for, read from BIRD, every
updatePeriodSeconds. Runs until SIGTERM or SIGINT.`,
  run: runStatusReporter,
};

async function runStatusReporter(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const socket = ctx.args.string('bird-socket') ?? DEFAULT_SOCKET;
  if (socket === '') throw new UsageError('--bird-socket may not be empty');
  const intervalText = ctx.args.string('interval') ?? '1';
  const interval = Number(intervalText);
  if (!(interval >= 0.1 && interval <= 3600)) throw new UsageError(`--interval must be a number of seconds from 0.1 to 3600, got "${intervalText}"`);
  const nodeName = nodeNameFrom(ctx.env);
  const logger = componentLogger(ctx.env.LOG_LEVEL ?? 'Info', { component: 'status-reporter', node: nodeName });
  const stopping = new AbortController();
  let loop: Promise<void> = Promise.resolve();
  return runUntilSignal(ctx, {
    name: 'status-reporter',
    logger,
    start: async () => {
      const reporter = new NodeStatusReporter({ ds: await ctx.datastore(), nodeName, birdSocket: socket, logger });
      // One pass at a time: the next starts an interval after the previous ended.
      loop = (async () => {
        while (!stopping.signal.aborted) {
          await reporter.tick().catch((err: unknown) => logger.warn({ err }, 'status pass failed; retrying next interval'));
          await delay(interval * 1000, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      })();
      return { node: nodeName, birdSocket: socket, intervalSecs: interval };
    },
    stop: async () => {
      stopping.abort();
      await loop;
    },
  });
}
