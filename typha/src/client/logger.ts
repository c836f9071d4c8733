/**
 * The logging boundary: the subset of pino the client uses, so an agent passes its pino logger
 * (or a child of it) and a test passes nothing. Library code never writes to the console.
 */

export type LogFn = (objOrMsg: object | string, msg?: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

function noop(): void {}

export const noopLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
});
