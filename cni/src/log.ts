/**
 * The plugin's logger: JSON lines on stderr (stdout belongs to the CNI result), pino's field
 * names (`level` as a number, `time`, `msg`, errors under `err`) so the same tools read Felix's,
 * Typha's and ours. A CNI plugin lives for one command, so this is a few lines instead of pino's
 * worker-thread transport, and every line is written synchronously before the process exits.
 */
import { writeSync } from 'node:fs';

export type LogFn = (obj: object, msg?: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export const LOG_LEVELS = { debug: 20, info: 30, warn: 40, error: 50, silent: Infinity } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** Calico's `log_level` spellings (logrus names) onto ours. */
export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  switch ((text ?? '').toLowerCase()) {
    case '':
    case 'info':
      return 'info';
    case 'debug':
    case 'trace':
      return 'debug';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
    case 'fatal':
    case 'panic':
      return 'error';
    case 'none':
    case 'silent':
      return 'silent';
    default:
      return undefined;
  }
}

function serialize(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: value.message };
    if ('code' in value) out.code = (value as { code: unknown }).code;
    if (value.stack) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = serialize(value.cause);
    return out;
  }
  return value;
}

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}, fd = 2): Logger {
  const threshold = LOG_LEVELS[level];
  const write = (lvl: number) => (obj: object, msg?: string) => {
    if (lvl < threshold) return;
    const rec: Record<string, unknown> = { level: lvl, time: Date.now(), ...bindings };
    for (const [k, v] of Object.entries(obj)) rec[k] = serialize(v);
    if (msg !== undefined) rec.msg = msg;
    try {
      writeSync(fd, `${JSON.stringify(rec)}\n`);
    } catch {
      // stderr closed: nothing useful left to do with a log line
    }
  };
  return {
    debug: write(LOG_LEVELS.debug),
    info: write(LOG_LEVELS.info),
    warn: write(LOG_LEVELS.warn),
    error: write(LOG_LEVELS.error),
    child: (more) => createLogger(level, { ...bindings, ...more }, fd),
  };
}

export const silentLogger: Logger = createLogger('silent');
