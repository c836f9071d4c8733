/**
 * `cattail node <command>`: calicoctl's node commands that make sense for Cattail (`status`,
 * `diags`), and `init`, `status-reporter`, `allocate-tunnel-addrs` and `monitor-addresses`,
 * calico/node's start-up, status reporter, tunnel address allocator and address monitor. `run` and `checksystem` manage calico/node
 * containers and host setup, which Cattail's daemons (felix, confd, lab) and the chart do their
 * own way.
 */
import { BINARY_NAME, type Command } from '../command.js';
import { nodeDiagsCommand } from './node-diags.js';
import { nodeInitCommand } from './node-init.js';
import { nodeStatusCommand } from './node-status.js';
import { nodeStatusReporterCommand } from './node-status-reporter.js';
import { nodeTunnelAddrsCommand } from './node-tunnel-addrs.js';
import { nodeMonitorAddressesCommand } from './node-monitor-addresses.js';

export const nodeCommand: Command = {
  name: 'node',
  summary: 'Calico node management.',
  usage: `${BINARY_NAME} node <command> [<args>...]`,
  subcommands: [nodeStatusCommand, nodeDiagsCommand, nodeInitCommand, nodeStatusReporterCommand, nodeTunnelAddrsCommand, nodeMonitorAddressesCommand],
  description: `Node specific commands. See "${BINARY_NAME} node <command> --help" to read about a
specific subcommand.`,
};
