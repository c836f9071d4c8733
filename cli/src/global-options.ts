/**
 * What comes before the command name, `cattail [-h] [-l LEVEL] <command> ...`, and the top-level
 * help that lists the commands. The log level takes calicoctl's (logrus) names.
 */
import { formatFlags, parseArgv, type FlagSpec } from './argv.js';
import { ALLOW_VERSION_MISMATCH_FLAG, BINARY_NAME, HELP_FLAG, type Command } from './command.js';
import { UsageError } from './errors.js';

const LOG_LEVEL_FLAG: FlagSpec = {
  name: 'log-level',
  short: 'l',
  value: 'level',
  help: 'Log level on stderr: panic, fatal, error, warn, info, debug, trace [default: panic].',
};
const GLOBAL_FLAGS: readonly FlagSpec[] = [HELP_FLAG, LOG_LEVEL_FLAG, ALLOW_VERSION_MISMATCH_FLAG];

/** calicoctl's (logrus) level names onto pino's; `panic`, the default, prints nothing in practice. */
const LOG_LEVELS: Readonly<Record<string, string>> = {
  panic: 'fatal',
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
};

export interface GlobalOptions {
  help: boolean;
  /** pino's name for the level asked for. */
  level: string;
  /** --allow-version-mismatch before the command name: skips the check for whatever command runs. */
  allowVersionMismatch: boolean;
  /** The command name and everything after it. */
  words: readonly string[];
}

/** Throws UsageError for an unknown flag or log level. */
export function parseGlobalOptions(argv: readonly string[]): GlobalOptions {
  const global = parseArgv(argv, GLOBAL_FLAGS, { stopAtPositional: true });
  const levelName = (global.string('log-level') ?? 'panic').toLowerCase();
  const level = LOG_LEVELS[levelName];
  if (!level) throw new UsageError(`unknown log level "${levelName}"`);
  return { help: global.bool('help'), level, allowVersionMismatch: global.bool('allow-version-mismatch'), words: global.rest };
}

/** The usage block shown with a top-level usage error: the synopsis and the commands. */
export function globalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  const list = commands.map((c) => `    ${c.name.padEnd(width)}${c.summary}`).join('\n');
  return `Usage:\n  ${BINARY_NAME} [options] <command> [<args>...]\n\n${list}`;
}

export function globalHelp(commands: readonly Command[]): string {
  return `${globalUsage(commands)}

Options:
${formatFlags(GLOBAL_FLAGS)}

Description:
  The ${BINARY_NAME} command line tool manages Calico (projectcalico.org/v3) network and
  security resources in the datastore, the way calicoctl does. The datastore is etcd,
  set by --etcd-endpoints or ETCD_ENDPOINTS (and ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
  ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD), or with DATASTORE_TYPE=kubernetes the
  Kubernetes API server, set by --kubeconfig or KUBECONFIG (and K8S_API_ENDPOINT,
  K8S_CA_FILE, K8S_CERT_FILE, K8S_KEY_FILE, K8S_API_TOKEN).

  See '${BINARY_NAME} <command> --help' to read about a specific subcommand.
`;
}
