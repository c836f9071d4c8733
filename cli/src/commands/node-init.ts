/**
 * `cattail node init`: the node agent's start-up, what `calico-node -startup` does before Felix
 * and BIRD run (the chart's node-init init container). Configured by calico/node's environment
 * variables (NODENAME, IP, IP6, IP_AUTODETECTION_METHOD, AS, CALICO_IPV4POOL_*, …: see
 * startup/src/config.ts) and the datastore variables every command reads. Prints the outcome as
 * one JSON line; exits non-zero, saying why, when the node cannot be set up.
 */
import { StartupError, loadStartupConfig, runStartup, type StartupConfig, type StartupReport } from '@cattail/startup';
import { BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { GuardedDatastore } from '../guarded-datastore.js';
import { writeLine } from '../io.js';
import { clientVersion } from '../version-info.js';
import { componentLogger } from './component.js';

export const nodeInitCommand: Command = {
  name: 'init',
  summary: "Set up this node as calico/node's start-up does.",
  usage: `${BINARY_NAME} node init [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
  flags: [ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG],
  description: `Registers or updates this node's Node resource with its addresses (IP and IP6:
an address, "autodetect" or "none"; IP_AUTODETECTION_METHOD and IP6_AUTODETECTION_METHOD:
first-found, interface=<regex>, skip-interface=<regex>, can-reach=<destination>, cidr=<cidr>
or kubernetes-internal-ip) and AS number, creates the default IP pools
(CALICO_IPV4POOL_CIDR, ..., or none with NO_DEFAULT_POOLS=true), ClusterInformation, the
default tiers and configurations, allocates the VXLAN tunnel addresses, and writes the nodename
file. Run it once before Felix and confd; running it again converges to the same state.`,
  run: runNodeInit,
};

async function runNodeInit(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const report = await startupFailuresAsCommandErrors(async () => {
    const cfg: StartupConfig = loadStartupConfig(ctx.env);
    const logger = componentLogger(ctx.env.CALICO_STARTUP_LOGLEVEL ?? 'Info', { component: 'node-init', node: cfg.nodeName });
    const ds = await ctx.datastore();
    return runStartup(cfg, {
      ds,
      kube: ds instanceof GuardedDatastore ? ds.kubeApi : undefined,
      version: clientVersion(),
      log: { info: (msg, f) => logger.info(f ?? {}, msg), warn: (msg, f) => logger.warn(f ?? {}, msg) },
    });
  });
  writeLine(ctx.stdout, JSON.stringify(report));
  return 0;
}

/** A start-up that cannot proceed is the command's failure (its message and code), not a bug. */
async function startupFailuresAsCommandErrors(fn: () => Promise<StartupReport>): Promise<StartupReport> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StartupError) throw new CommandFailedError(`cattail node init: ${err.message} [${err.code}]`, 1, { cause: err });
    throw err;
  }
}
