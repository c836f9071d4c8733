/**
 * Runs one resolved command: parses its flags against its declaration, answers `--help`, builds
 * the context (writers, environment, a lazily opened, time-bounded datastore that is closed when
 * the command ends; for the commands calicoctl guards, checked once for a cluster of another Calico
 * version when first opened, version-check.ts) and maps what the command throws onto stderr and an exit code: a UsageError
 * with the command's usage, any other CliError as its message and its own exit code, anything
 * else as a bug.
 */
import type { Datastore } from '@cattail/datastore';
import type { Logger } from 'pino';
import { parseArgv, type ParsedArgs } from './argv.js';
import { BINARY_NAME, HELP_FLAG, helpText, usageBlock, type CommandContext } from './command.js';
import { DatastoreSession } from './datastore-session.js';
import type { CommandTarget } from './dispatch.js';
import { CliError, UsageError } from './errors.js';
import { internalError, usageFailure } from './failure-output.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, writeLine, type RunOptions } from './io.js';
import { checkVersionMismatch } from './version-check.js';
import { clientVersion } from './version-info.js';

export async function runCommand(target: CommandTarget, options: RunOptions, logger: Logger, allowVersionMismatch = false): Promise<number> {
  const { cmd, path } = target;
  const usageExit = cmd.usageExitCode ?? 1;
  let args;
  try {
    args = parseArgv(target.words, [HELP_FLAG, ...(cmd.flags ?? [])]);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageFailure(options, err, usageBlock(cmd), usageExit, path);
  }
  if (args.bool('help')) {
    options.stdout.write(helpText(cmd));
    return 0;
  }
  if (!cmd.run) return usageFailure(options, new UsageError(`${BINARY_NAME} ${path} cannot be run`), usageBlock(cmd), usageExit);

  const env = options.env ?? {};
  const session = new DatastoreSession({
    factory: options.datastoreFactory,
    env,
    endpointsFlag: args.string('etcd-endpoints'),
    kubeconfigFlag: args.string('kubeconfig'),
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    signal: options.signal,
    logger,
  });
  // What a person reading `-l debug` (or a test) needs to know: the signal was seen.
  const onAbort = (): void => logger.debug({ signal: options.signal?.reason }, 'interrupt received; stopping');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const checkVersion = cmd.checksClusterVersion === true && !allowVersionMismatch && !args.bool('allow-version-mismatch');
    return await cmd.run(commandContext(target, args, env, options, logger, session, checkVersion));
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(options, err, usageBlock(cmd), usageExit, path);
    if (err instanceof CliError) {
      writeLine(options.stderr, err.message);
      return err.exitCode;
    }
    return internalError(options, logger, err);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await session.close();
  }
}

function commandContext(
  target: CommandTarget,
  args: ParsedArgs,
  env: NodeJS.ProcessEnv,
  options: RunOptions,
  logger: Logger,
  session: DatastoreSession,
  checkVersion: boolean,
): CommandContext {
  // The version check runs once, on the first open, so a command that fails on its input
  // never connects; its failure is the command's (every later open rethrows it).
  let opened: Promise<Datastore> | undefined;
  const open = async (): Promise<Datastore> => {
    const ds = await session.open();
    if (checkVersion) await checkVersionMismatch(ds, clientVersion());
    return ds;
  };
  return {
    args,
    stdout: options.stdout,
    stderr: options.stderr,
    stdin: options.stdin,
    env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    logger: logger.child({ command: target.path }),
    usage: usageBlock(target.cmd),
    endpoints: session.endpoints,
    datastore: () => (opened ??= open()),
  };
}
