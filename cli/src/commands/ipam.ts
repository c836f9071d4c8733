/**
 * `cattail ipam <command>`: calicoctl's IPAM commands (show, check, release, configure, split)
 * over the Datastore boundary. `check`'s Kubernetes service addresses are not here.
 */
import { BINARY_NAME, type Command } from '../command.js';
import { ipamCheckCommand } from './ipam-check.js';
import { ipamConfigureCommand } from './ipam-configure.js';
import { ipamReleaseCommand } from './ipam-release.js';
import { ipamShowCommand } from './ipam-show.js';
import { ipamSplitCommand } from './ipam-split.js';

export const ipamCommand: Command = {
  name: 'ipam',
  summary: 'IP address management.',
  usage: `${BINARY_NAME} ipam <command> [<args>...]`,
  subcommands: [ipamReleaseCommand, ipamShowCommand, ipamConfigureCommand, ipamCheckCommand, ipamSplitCommand],
  description: `IP Address Management specific commands. See "${BINARY_NAME} ipam <command> --help"
to read about a specific subcommand.`,
};
