/**
 * What `cattail typha`, `cattail felix` and `cattail confd` share: their settings as flags, the
 * configuration error a person reads, the JSON logger at the configured severity, and the run
 * itself (start, log the bound ports, wait for SIGTERM/SIGINT, stop; a failure stops what
 * started and exits 1).
 */
import { pino, type Logger } from 'pino';
import { ConfigError, flagName, type ParamTable } from '@cattail/api';
import type { CommandContext } from '../command.js';
import type { FlagSpec } from '../argv.js';
import { CommandFailedError } from '../errors.js';

/** Calico's LogSeverityScreen values → pino levels. */
const PINO_LEVEL: Readonly<Record<string, string>> = { Debug: 'debug', Info: 'info', Warning: 'warn', Error: 'error', Fatal: 'fatal' };

export function pinoLevel(severity: string): string {
  return PINO_LEVEL[severity] ?? 'info';
}

/** One `--name=VALUE` flag per setting, its help naming the `<PREFIX>_<NAME>` variable. */
export function paramFlags(params: ParamTable, envPrefix: string): FlagSpec[] {
  return Object.entries(params).map(([name, spec]) => ({
    name: flagName(name),
    value: spec.type === 'bool' ? 'true|false' : 'VALUE',
    help: `${spec.help} [${envPrefix}_${name.toUpperCase()}, default ${JSON.stringify(spec.default)}]`,
  }));
}

/** The flags given, as the `--name=value` arguments a config loader reads; a positional argument is refused. */
export function givenFlags(ctx: CommandContext, flags: readonly FlagSpec[]): string[] {
  if (ctx.args.positionals.length) throw new CommandFailedError(`unexpected argument "${ctx.args.positionals[0]}"`);
  const argv: string[] = [];
  for (const f of flags) {
    const v = ctx.args.string(f.name);
    if (v !== undefined) argv.push(`--${f.name}=${v}`);
  }
  return argv;
}

/** Runs a config loader; its ConfigError becomes the command's error, every problem listed. */
export function loadConfig<C>(what: string, load: () => C): C {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailedError(`invalid ${what} configuration:\n${err.message}`, 1, { cause: err });
    throw err;
  }
}

export function componentLogger(severity: string, base: Record<string, string>): Logger {
  return pino({ level: pinoLevel(severity), base });
}

export interface ComponentRun {
  /** For messages: `typha`, `felix`, `confd`. */
  name: string;
  logger: Logger;
  /** Starts the component; what it returns (bound ports…) is logged with `runningMsg`. */
  start: () => Promise<Record<string, unknown>>;
  runningMsg?: string;
  /** Stops it; `afterSignal` is false when stopping after a failure. */
  stop: (afterSignal: boolean) => Promise<void>;
  /** Rejects when the running component gives up by itself (it is then stopped, the command fails). */
  failed?: Promise<never>;
}

/** Start, run until the command's signal, stop. Exit 0, or CommandFailedError after a failure. */
export async function runUntilSignal(ctx: CommandContext, r: ComponentRun): Promise<number> {
  try {
    const fields = await r.start();
    r.logger.info(fields, r.runningMsg ?? 'running');
    const signalled = new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await (r.failed ? Promise.race([signalled, r.failed]) : signalled);
    await r.stop(true);
    r.logger.info({}, 'stopped');
    return 0;
  } catch (err) {
    r.logger.error({ err }, `${r.name} failed`);
    await r.stop(false).catch(() => undefined);
    throw new CommandFailedError(`${r.name}: ${err instanceof Error ? err.message : String(err)}`, 1, { cause: err });
  }
}
