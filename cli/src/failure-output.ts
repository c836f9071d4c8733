/**
 * How a run that fails before or outside its command's own output ends on stderr: a usage error
 * with the usage block and where to read more; anything that is not a CliError as a bug.
 */
import type { Logger } from 'pino';
import { BINARY_NAME } from './command.js';
import type { UsageError } from './errors.js';
import type { RunOptions } from './io.js';

/** Writes the message, the usage (the error's own, else `usage`) and the `--help` hint; returns `exitCode`. */
export function usageFailure(options: RunOptions, err: UsageError, usage: string, exitCode: number, path?: string): number {
  const more = path ? `${BINARY_NAME} ${path} --help` : `${BINARY_NAME} --help`;
  options.stderr.write(`${err.message}\n\n${err.usage ?? usage}\n\nRun '${more}' for more information.\n`);
  return exitCode;
}

export function internalError(options: RunOptions, logger: Logger, err: unknown): number {
  logger.error({ err }, 'unexpected error');
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  options.stderr.write(`${BINARY_NAME}: internal error (this is a bug): ${detail}\n`);
  return 1;
}
