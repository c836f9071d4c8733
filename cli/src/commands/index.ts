/**
 * The command registry: `cattail <name>` runs the command of that name. A new command is one
 * file exporting a `Command` and one line here; the order is the order of `cattail --help`.
 */
import type { Command } from '../command.js';
import { applyCommand } from './apply.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { getCommand } from './get.js';
import { ipamCommand } from './ipam.js';
import { labelCommand } from './label.js';
import { datastoreCommand } from './datastore-migrate.js';
import { nodeCommand } from './node.js';
import { patchCommand } from './patch.js';
import { replaceCommand } from './replace.js';
import { selectorCommand } from './selector.js';
import { cniDaemonCommand } from './cni-daemon.js';
import { confdCommand } from './confd.js';
import { felixCommand } from './felix.js';
import { kubeControllersCommand } from './kube-controllers.js';
import { labCommand } from './lab.js';
import { typhaCommand } from './typha.js';
import { versionCommand } from './version.js';

export const COMMANDS: readonly Command[] = [
  createCommand,
  replaceCommand,
  applyCommand,
  patchCommand,
  deleteCommand,
  getCommand,
  labelCommand,
  datastoreCommand,
  selectorCommand,
  ipamCommand,
  nodeCommand,
  typhaCommand,
  confdCommand,
  felixCommand,
  cniDaemonCommand,
  kubeControllersCommand,
  labCommand,
  versionCommand,
];
