/**
 * `cattail node monitor-addresses`: calico/node's address monitor as a long-running command (the
 * chart's `monitor-addresses` container). `node init` sets the Node's BGP addresses once; this
 * re-runs that step every AUTODETECT_POLL_INTERVAL (a Go duration, Calico's default 60s) with
 * the same IP / IP6 / *_AUTODETECTION_METHOD settings (startup/src/address-monitor.ts), until
 * SIGTERM/SIGINT. A new address another Node holds clears this Node's autodetected address and
 * ends the command with the conflict (exit 1), as calico/node does.
 */
import { durationMillis } from '@cattail/api';
import { AddressMonitor, DEFAULT_POLL_MS, StartupError, loadStartupConfig } from '@cattail/startup';
import { BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { CommandFailedError, UsageError } from '../errors.js';
import { GuardedDatastore } from '../guarded-datastore.js';
import { clientVersion } from '../version-info.js';
import { componentLogger, runUntilSignal } from './component.js';

export const nodeMonitorAddressesCommand: Command = {
  name: 'monitor-addresses',
  summary: "Keep this node's BGP addresses in step with its interfaces (calico/node's address monitor).",
  usage: `${BINARY_NAME} node monitor-addresses [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
  flags: [ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG],
  description: `For this node (NODENAME, else the host name), every AUTODETECT_POLL_INTERVAL (default 60s):
the Node's spec.bgp.ipv4Address / ipv6Address as "node init" would set them now (IP, IP6,
IP_AUTODETECTION_METHOD, IP6_AUTODETECTION_METHOD, DISABLE_NODE_IP_CHECK as for node init), the
Node written only when they changed. Runs until SIGTERM or SIGINT; a detected address another
Node holds clears this Node's autodetected addresses and exits 1.`,
  run: runMonitorAddresses,
};

async function runMonitorAddresses(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const text = ctx.env.AUTODETECT_POLL_INTERVAL?.trim();
  const pollMs = text ? durationMillis(text) : DEFAULT_POLL_MS;
  if (pollMs === undefined || pollMs < 100 || pollMs > 86_400_000) {
    throw new UsageError(`AUTODETECT_POLL_INTERVAL must be a Go duration from 100ms to 24h (e.g. 60s, 5m), got "${text}"`);
  }
  let cfg;
  try {
    cfg = loadStartupConfig(ctx.env);
  } catch (err) {
    if (err instanceof StartupError) throw new CommandFailedError(`cattail node monitor-addresses: ${err.message} [${err.code}]`, 1, { cause: err });
    throw err;
  }
  const logger = componentLogger(ctx.env.CALICO_STARTUP_LOGLEVEL ?? 'Info', { component: 'monitor-addresses', node: cfg.nodeName });
  let monitor: AddressMonitor | undefined;
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined); // observed by runUntilSignal; never an unhandled rejection
  return runUntilSignal(ctx, {
    name: 'monitor-addresses',
    logger,
    failed,
    start: async () => {
      const ds = await ctx.datastore();
      monitor = new AddressMonitor({
        cfg,
        deps: { ds, kube: ds instanceof GuardedDatastore ? ds.kubeApi : undefined, version: clientVersion() },
        log: { info: (msg, f) => logger.info(f ?? {}, msg), warn: (msg, f) => logger.warn(f ?? {}, msg) },
        pollMs,
        onCheck: (r) => {
          if (!(r instanceof Error)) logger.debug({ ipv4Address: r.ipv4Address ?? null, ipv6Address: r.ipv6Address ?? null }, 'node addresses checked');
        },
        onFatal: (err) => fail(new Error(`${err.message} [${err.code}]`)),
      });
      const first = await monitor.start();
      return { node: cfg.nodeName, ipv4Address: first.ipv4Address ?? null, ipv6Address: first.ipv6Address ?? null, pollMs };
    },
    stop: async () => {
      await monitor?.stop();
    },
  });
}
