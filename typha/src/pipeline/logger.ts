/**
 * The logging boundary of the pipeline and cache: the subset of pino's `Logger` these modules
 * call, so a real pino logger (or a child of it) is passed in as is and a test can pass a
 * recording object. Library code never writes to the console; without a logger it is silent.
 */

/** pino's call shape: merge object first (errors under `err`), then the message. */
export type LogFn = (obj: object, msg?: string) => void;

export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

const noop: LogFn = () => {};

/** A logger that drops everything: the default when none is injected. */
export const silentLogger: Logger = Object.freeze({ error: noop, warn: noop, info: noop, debug: noop });

/** Milliseconds on a monotonic clock; injected so tests control time. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();
