/**
 * `run(argv, options) → exit code`: the whole CLI as a function, so tests drive it in-process.
 *
 *   cattail [-l LEVEL] <command> [<subcommand>] [flags and arguments]
 *
 *   argv ─▶ global options (global-options.ts) ─▶ the command (dispatch.ts) ─▶ its flags, context
 *           and run (command-runner.ts) ─▶ exit code
 *
 * Every CliError becomes its message on stderr and its exit code; a usage error also shows the
 * usage of the command (or of the CLI) it concerns (failure-output.ts).
 */
import pino from 'pino';
import type { Command } from './command.js';
import { runCommand } from './command-runner.js';
import { COMMANDS } from './commands/index.js';
import { resolveCommand } from './dispatch.js';
import { UsageError } from './errors.js';
import { usageFailure } from './failure-output.js';
import { globalHelp, globalUsage, parseGlobalOptions, type GlobalOptions } from './global-options.js';
import type { RunOptions } from './io.js';

export async function run(argv: readonly string[], options: RunOptions, commands: readonly Command[] = COMMANDS): Promise<number> {
  let global: GlobalOptions;
  try {
    global = parseGlobalOptions(argv);
  } catch (err) {
    return usageFailure(options, err as UsageError, globalUsage(commands), 1);
  }
  const logger = options.makeLogger ? options.makeLogger(global.level) : pino({ level: 'silent' });

  if (global.words.length === 0) {
    if (global.help) {
      options.stdout.write(globalHelp(commands));
      return 0;
    }
    options.stderr.write(globalHelp(commands));
    return 1;
  }

  let target;
  try {
    target = resolveCommand(global.words, commands);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageFailure(options, err, globalUsage(commands), err.exitCode);
  }
  if ('help' in target) {
    options.stdout.write(target.help);
    return 0;
  }
  return runCommand(target, options, logger, global.allowVersionMismatch);
}
