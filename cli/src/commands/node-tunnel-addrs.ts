/**
 * `cattail node allocate-tunnel-addrs`: calico/node's tunnel address allocator as a long-running
 * command (the chart's `tunnel-addrs` container). `node init` gives the node its VXLAN tunnel
 * addresses once at start-up; this keeps them in step with the IP pools afterwards
 * (startup/src/tunnel-controller.ts), until SIGTERM/SIGINT.
 */
import { nodeNameFrom, TunnelAddressController } from '@cattail/startup';
import { BINARY_NAME, ETCD_ENDPOINTS_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { UsageError } from '../errors.js';
import { componentLogger, runUntilSignal } from './component.js';

export const nodeTunnelAddrsCommand: Command = {
  name: 'allocate-tunnel-addrs',
  summary: "Keep this node's VXLAN tunnel addresses in step with the IP pools (calico/node's allocate-tunnel-addrs).",
  usage: `${BINARY_NAME} node allocate-tunnel-addrs [--resync-interval=<SECONDS>] [--etcd-endpoints=<ENDPOINTS>] [--kubeconfig=<FILE>]`,
  flags: [
    { name: 'resync-interval', value: 'SECONDS', help: "Re-check the Node's labels and the IPAM handle this often (default 300); pool changes act at once." },
    ETCD_ENDPOINTS_FLAG,
    KUBECONFIG_FLAG,
  ],
  description: `For this node (NODENAME, else the host name): a VXLAN tunnel address (IPv4 and IPv6) from
the enabled VXLAN pools that select the node and allow Tunnel use, recorded in the Node's
spec.ipv4VXLANTunnelAddr / ipv6VXLANTunnelAddr; kept while its pool serves, reallocated or
released when not. Watches IPPools; runs until SIGTERM or SIGINT.`,
  run: runTunnelAddrs,
};

async function runTunnelAddrs(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length) throw new UsageError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const text = ctx.args.string('resync-interval') ?? '300';
  const secs = Number(text);
  if (!(secs >= 1 && secs <= 86_400)) throw new UsageError(`--resync-interval must be a number of seconds from 1 to 86400, got "${text}"`);
  const nodeName = nodeNameFrom(ctx.env);
  const logger = componentLogger(ctx.env.LOG_LEVEL ?? 'Info', { component: 'allocate-tunnel-addrs', node: nodeName });
  let controller: TunnelAddressController | undefined;
  return runUntilSignal(ctx, {
    name: 'allocate-tunnel-addrs',
    logger,
    start: async () => {
      const log = {
        info: (msg: string, f?: Record<string, unknown>) => logger.info(f ?? {}, msg),
        warn: (msg: string, f?: Record<string, unknown>) => logger.warn(f ?? {}, msg),
      };
      controller = new TunnelAddressController({
        ds: await ctx.datastore(),
        nodeName,
        log,
        resyncMs: secs * 1000,
        onPass: (r) => {
          if (!(r instanceof Error)) logger.debug({ ipv4: r.v4 ?? null, ipv6: r.v6 ?? null }, 'tunnel addresses reconciled');
        },
      });
      const first = await controller.start();
      return { node: nodeName, ipv4VXLANTunnelAddr: first.v4 ?? null, ipv6VXLANTunnelAddr: first.v6 ?? null, resyncSecs: secs };
    },
    stop: async () => {
      await controller?.stop();
    },
  });
}
