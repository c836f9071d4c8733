/**
 * The logging boundary of IPAM: the subset of pino it calls (merge object first, errors under
 * `err`). The CNI plugin passes its stderr logger; tests pass nothing.
 */
export type LogFn = (obj: object, msg?: string) => void;

export interface IpamLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
}

function noop(): void {}

export const silentIpamLogger: IpamLogger = Object.freeze({ debug: noop, info: noop, warn: noop });
