/**
 * What a command is. The registry (`commands/index.ts`) is a list of these; `run()` finds the
 * command named by argv, parses its flags, builds a `CommandContext` and calls `run`. Adding
 * `cattail typha` or `cattail lab up` is one file exporting one `Command` plus one line in the
 * registry: a group command (`selector`, `lab`) lists `subcommands` instead of having `run`.
 */
import type { Datastore } from '@cattail/datastore';
import type { Logger } from 'pino';
import { formatFlags, type FlagSpec, type ParsedArgs } from './argv.js';
import type { RunOptions, Writer } from './io.js';

export const BINARY_NAME = 'cattail';

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly stdin: RunOptions['stdin'];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Aborted on SIGINT/SIGTERM. Long-running commands stop when it fires. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The command's usage block, for usage errors raised while running. */
  readonly usage: string;
  /**
   * The datastore, opened on first call. Lazy on purpose: a command that rejects its input
   * never connects, so an invalid file fails the same way with or without a reachable etcd.
   * Every call on it is bounded by the request timeout.
   */
  datastore(): Promise<Datastore>;
  /** The etcd endpoints `datastore()` connects to (flag, variable or default), for messages; with DATASTORE_TYPE=kubernetes it connects to the API server instead. */
  readonly endpoints: readonly string[];
}

export interface Command {
  /** The word that selects it: `apply`, `selector`. */
  readonly name: string;
  /** One line for the list in `cattail --help`. */
  readonly summary: string;
  /** The `Usage:` lines, without the heading, e.g. `cattail apply --filename=<FILENAME> ...`. */
  readonly usage: string;
  /** Free text after the options in `--help`. */
  readonly description?: string;
  readonly flags?: readonly FlagSpec[];
  /** For group commands: `cattail selector test ...`. */
  readonly subcommands?: readonly Command[];
  /**
   * Whether the datastore, when first opened, is checked for a cluster of another Calico
   * version (version-check.ts); true for the commands calicoctl checks. Such a command also
   * lists ALLOW_VERSION_MISMATCH_FLAG.
   */
  readonly checksClusterVersion?: boolean;
  /** Exit code for a usage error in this command. Default 1 (calicoctl's). */
  readonly usageExitCode?: number;
  /** Returns the exit code. Throws CliError for failures that are one message. */
  run?(ctx: CommandContext): Promise<number>;
}

/** `--help` / `-h`, accepted by every command. */
export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', help: 'Show this screen.' };

/** Where the datastore is; accepted by every command that reads or writes resources. */
export const ETCD_ENDPOINTS_FLAG: FlagSpec = {
  name: 'etcd-endpoints',
  value: 'ENDPOINTS',
  help: 'Comma-separated etcd URLs (default: $ETCD_ENDPOINTS, else http://127.0.0.1:2379).',
};

/** Where the Kubernetes datastore is (DATASTORE_TYPE=kubernetes); accepted wherever --etcd-endpoints is. */
export const KUBECONFIG_FLAG: FlagSpec = {
  name: 'kubeconfig',
  value: 'FILE',
  help: 'With DATASTORE_TYPE=kubernetes: the kubeconfig file (default: $KUBECONFIG).',
};

/** calicoctl's override of the version-mismatch check; also accepted before the command name. */
export const ALLOW_VERSION_MISMATCH_FLAG: FlagSpec = {
  name: 'allow-version-mismatch',
  help: 'Allow client and cluster versions mismatch.',
};

export function usageBlock(cmd: Command): string {
  return `Usage:\n${cmd.usage
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}`;
}

/** The full `--help` text of one command. */
export function helpText(cmd: Command): string {
  const parts = [usageBlock(cmd)];
  if (cmd.subcommands?.length) {
    const width = Math.max(...cmd.subcommands.map((s) => s.name.length)) + 4;
    parts.push(`Commands:\n${cmd.subcommands.map((s) => `    ${s.name.padEnd(width)}${s.summary}`).join('\n')}`);
  }
  parts.push(`Options:\n${formatFlags([HELP_FLAG, ...(cmd.flags ?? [])])}`);
  if (cmd.description) parts.push(`Description:\n${cmd.description.replace(/^(?=.)/gm, '  ')}`);
  return `${parts.join('\n\n')}\n`;
}
