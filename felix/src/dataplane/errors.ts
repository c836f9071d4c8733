/**
 * Dataplane errors. A command that failed keeps its argv and stderr (the kernel's own words),
 * so `/status` and the log say exactly what the kernel refused.
 */
import { FelixError } from '../errors.js';

/** A dataplane command (`ip`, `nft`, `sysctl`, `bridge`) exited non-zero or could not start. */
export class DataplaneCommandError extends FelixError {
  readonly argv: readonly string[];
  readonly stderr: string;
  constructor(argv: readonly string[], stderr: string, options?: { cause?: unknown }) {
    const what = stderr.trim().split('\n').slice(0, 3).join('; ') || 'no output';
    super('FELIX_DATAPLANE_COMMAND', `${argv.join(' ')} failed: ${what}`, options);
    this.argv = argv;
    this.stderr = stderr;
  }
}

/** An endpoint could not be programmed (its interface is missing); retried on the next apply. */
export class EndpointNotReadyError extends FelixError {
  readonly endpoint: string;
  constructor(endpoint: string, problem: string, options?: { cause?: unknown }) {
    super('FELIX_ENDPOINT_NOT_READY', `workload endpoint ${endpoint}: ${problem}; will retry`, options);
    this.endpoint = endpoint;
  }
}
