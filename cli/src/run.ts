/**
 * `run(argv, options) → exit code`: the whole CLI as a function, so tests drive it in-process.
 *
 *   cattail [-l LEVEL] <command> [<subcommand>] [flags and arguments]
 *
 * Global flags are read up to the command name; the command (or subcommand, for groups) is
 * looked up in the registry; its own flags are parsed against its declaration; then it runs
 * with a context holding the writers and a lazily opened, time-bounded datastore, which is
 * closed when the command ends. Every CliError becomes its message on stderr and its exit code;
 * a usage error also shows the command's usage.
 */
import pino, { type Logger } from 'pino';
import { formatFlags, parseArgv, type FlagSpec } from './argv.js';
import { BINARY_NAME, HELP_FLAG, helpText, usageBlock, type Command, type CommandContext } from './command.js';
import { COMMANDS } from './commands/index.js';
import { DatastoreSession } from './datastore-session.js';
import { CliError, UsageError } from './errors.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, writeLine, type RunOptions } from './io.js';

const LOG_LEVEL_FLAG: FlagSpec = {
  name: 'log-level',
  short: 'l',
  value: 'level',
  help: 'Log level on stderr: panic, fatal, error, warn, info, debug, trace [default: panic].',
};
const GLOBAL_FLAGS: readonly FlagSpec[] = [HELP_FLAG, LOG_LEVEL_FLAG];

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

export async function run(argv: readonly string[], options: RunOptions, commands: readonly Command[] = COMMANDS): Promise<number> {
  const { stdout, stderr } = options;
  let global;
  try {
    global = parseArgv(argv, GLOBAL_FLAGS, { stopAtPositional: true });
  } catch (err) {
    return usageFailure(options, err as UsageError, globalUsage(commands), 1);
  }
  const levelName = (global.string('log-level') ?? 'panic').toLowerCase();
  const level = LOG_LEVELS[levelName];
  if (!level) return usageFailure(options, new UsageError(`unknown log level "${levelName}"`), globalUsage(commands), 1);
  const logger = options.makeLogger ? options.makeLogger(level) : pino({ level: 'silent' });

  if (global.rest.length === 0) {
    if (global.bool('help')) {
      stdout.write(globalHelp(commands));
      return 0;
    }
    stderr.write(globalHelp(commands));
    return 1;
  }

  // Walk down group commands (`selector test`) to the one that runs.
  let words = global.rest;
  let cmd = commands.find((c) => c.name === words[0]);
  if (!cmd) return usageFailure(options, new UsageError(`unknown command "${words[0]}"`), globalUsage(commands), 1);
  let path = cmd.name;
  words = words.slice(1);
  while (cmd.subcommands) {
    const next = words[0];
    // A group that can also run itself (`cattail typha` serves; `cattail typha watch` watches).
    if ((next === undefined || next.startsWith('-')) && cmd.run) break;
    if (next === undefined || next.startsWith('-')) {
      if (words.includes('--help') || words.includes('-h')) {
        stdout.write(helpText(cmd));
        return 0;
      }
      return usageFailure(options, new UsageError(`${BINARY_NAME} ${path} needs a subcommand`), usageBlock(cmd), cmd.usageExitCode ?? 1);
    }
    const sub: Command | undefined = cmd.subcommands.find((c) => c.name === next);
    if (!sub) {
      return usageFailure(options, new UsageError(`unknown command "${path} ${next}"`), usageBlock(cmd), cmd.usageExitCode ?? 1);
    }
    cmd = sub;
    path = `${path} ${sub.name}`;
    words = words.slice(1);
  }
  const usageExit = cmd.usageExitCode ?? 1;

  let args;
  try {
    args = parseArgv(words, [HELP_FLAG, ...(cmd.flags ?? [])]);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageFailure(options, err, usageBlock(cmd), usageExit, path);
  }
  if (args.bool('help')) {
    stdout.write(helpText(cmd));
    return 0;
  }
  if (!cmd.run) return usageFailure(options, new UsageError(`${BINARY_NAME} ${path} cannot be run`), usageBlock(cmd), usageExit);

  const env = options.env ?? {};
  const session = new DatastoreSession({
    factory: options.datastoreFactory,
    env,
    endpointsFlag: args.string('etcd-endpoints'),
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    signal: options.signal,
    logger,
  });
  const ctx: CommandContext = {
    args,
    stdout,
    stderr,
    stdin: options.stdin,
    env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    logger: logger.child({ command: path }),
    usage: usageBlock(cmd),
    endpoints: session.endpoints,
    datastore: () => session.open(),
  };
  // What a person reading `-l debug` (or a test) needs to know: the signal was seen.
  const onAbort = (): void => logger.debug({ signal: options.signal?.reason }, 'interrupt received; stopping');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await cmd.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(options, err, usageBlock(cmd), usageExit, path);
    if (err instanceof CliError) {
      writeLine(stderr, err.message);
      return err.exitCode;
    }
    return internalError(options, logger, err);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await session.close();
  }
}

function usageFailure(options: RunOptions, err: UsageError, usage: string, exitCode: number, path?: string): number {
  const more = path ? `${BINARY_NAME} ${path} --help` : `${BINARY_NAME} --help`;
  options.stderr.write(`${err.message}\n\n${err.usage ?? usage}\n\nRun '${more}' for more information.\n`);
  return exitCode;
}

function internalError(options: RunOptions, logger: Logger, err: unknown): number {
  logger.error({ err }, 'unexpected error');
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  options.stderr.write(`${BINARY_NAME}: internal error (this is a bug): ${detail}\n`);
  return 1;
}

function globalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  const list = commands.map((c) => `    ${c.name.padEnd(width)}${c.summary}`).join('\n');
  return `Usage:\n  ${BINARY_NAME} [options] <command> [<args>...]\n\n${list}`;
}

function globalHelp(commands: readonly Command[]): string {
  return `${globalUsage(commands)}

Options:
${formatFlags(GLOBAL_FLAGS)}

Description:
  The ${BINARY_NAME} command line tool manages Calico (projectcalico.org/v3) network and
  security resources in the datastore, the way calicoctl does. The datastore is etcd,
  set by --etcd-endpoints or ETCD_ENDPOINTS (and ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
  ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD).

  See '${BINARY_NAME} <command> --help' to read about a specific subcommand.
`;
}
