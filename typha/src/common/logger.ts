/**
 * The logging boundary: the subset of pino that Typha's server, pipeline and client call, so a
 * daemon or an agent passes its pino logger (or a child) and a test passes a recording object
 * or nothing. Connections log through their own `child({ conn, remote })`, made once per
 * socket. Library code never writes to the console.
 */

/** pino's call shape: merge object first (errors under `err`), then the message. */
export type LogFn = (obj: object, msg?: string) => void;

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

function noop(): void {}

export const silentLogger: Logger = Object.freeze({
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  child: () => silentLogger,
});
