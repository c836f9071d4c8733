/**
 * Errors of the CLI, one class per condition with a stable `code` and the exit code the process
 * ends with. `run()` turns any of these into one message on stderr and that exit code; anything
 * else escaping a command is a bug and is reported as such.
 *
 * Exit codes follow calicoctl: 1 for every failure (bad usage, invalid input, datastore error).
 * The exceptions are documented where they are made (`selector test` uses 2 for input it could
 * not evaluate, so scripts can tell "false" from "broken"), and 130 (SIGINT) or 143 (SIGTERM)
 * for an interrupted command.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
import type { DatastoreLocation } from './datastore-config.js';

export class CliError extends CattailError<ErrorCodeOf<'cli'>> {
  readonly exitCode: number;
  constructor(code: ErrorCodeOf<'cli'>, message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(code, message, options);
    this.exitCode = exitCode;
  }
}

/**
 * The command line itself is wrong (unknown flag, missing value, wrong number of arguments).
 * `usage` is the command's usage block, printed after the message so the user sees what is
 * accepted.
 */
export class UsageError extends CliError {
  readonly usage: string | undefined;
  constructor(message: string, usage?: string, exitCode = 1) {
    super('CLI_USAGE', message, exitCode);
    this.usage = usage;
  }

  withUsage(usage: string, exitCode: number): UsageError {
    return new UsageError(this.message, this.usage ?? usage, exitCode);
  }
}

/** The command ran and failed; `message` is already the complete text for the user. */
export class CommandFailedError extends CliError {
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super('CLI_COMMAND_FAILED', message, exitCode, options);
  }
}

/** No answer from the datastore: refused, timed out, or unreachable. Names where we tried and what sets it. */
export class DatastoreUnreachableError extends CliError {
  readonly location: DatastoreLocation;
  constructor(location: DatastoreLocation, reason: string, options?: { cause?: unknown }) {
    const check =
      location.type === 'etcdv3'
        ? '--etcd-endpoints or ETCD_ENDPOINTS (and the ETCD_* TLS settings)'
        : '--kubeconfig or KUBECONFIG (and K8S_API_ENDPOINT and the K8S_* credential settings)';
    super('CLI_DATASTORE_UNREACHABLE', `cannot reach ${describeLocation(location)}: ${reason}; check ${check}`, 1, options);
    this.location = location;
  }
}

/** `etcd at <endpoints>`, `the Kubernetes API server (kubeconfig <file>)`, … */
function describeLocation(location: DatastoreLocation): string {
  if (location.type === 'etcdv3') return `etcd at ${location.endpoints.join(',')}`;
  if (location.apiEndpoint !== undefined) return `the Kubernetes API server at ${location.apiEndpoint}`;
  if (location.kubeconfig !== undefined) return `the Kubernetes API server (kubeconfig ${location.kubeconfig})`;
  return 'the Kubernetes API server (in-cluster service account)';
}

/** The datastore client could not even be made (bad endpoint syntax, unreadable certificate). */
export class DatastoreConfigError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CLI_DATASTORE_CONFIG', message, 1, options);
  }
}

/** The conventional exit codes of a process stopped by a signal: 128 + the signal's number. */
export const SIGNAL_EXIT_CODES: Readonly<Record<string, number>> = Object.freeze({ SIGINT: 130, SIGTERM: 143 });

/**
 * SIGINT/SIGTERM arrived while a command was working. The exit code is the signal's (130 for
 * SIGINT, 143 for SIGTERM; 130 when the abort did not say which signal). `detail`, after the
 * signal, says what the command had done by then.
 */
export class InterruptedError extends CliError {
  readonly signalName: string | undefined;
  constructor(signalName?: string, detail?: string) {
    const what = signalName ? `interrupted by ${signalName}` : 'interrupted';
    super('CLI_INTERRUPTED', detail ? `${what}: ${detail}` : what, exitCodeOf(signalName));
    this.signalName = signalName;
  }
}

/** The InterruptedError for an aborted signal: main.ts aborts with the signal's name as reason. */
export function interruptedBy(signal: AbortSignal | undefined, detail?: string): InterruptedError {
  const reason: unknown = signal?.reason;
  return new InterruptedError(typeof reason === 'string' && reason in SIGNAL_EXIT_CODES ? reason : undefined, detail);
}

function exitCodeOf(signalName: string | undefined): number {
  return (signalName && SIGNAL_EXIT_CODES[signalName]) || 130;
}

/**
 * The input is over one of the bounds of input-limits.ts. The message is the complete line: the
 * file, where in it, the limit and the value.
 */
export class InputLimitError extends CliError {
  constructor(message: string) {
    super('CLI_INPUT_LIMIT', message);
  }
}

/**
 * One resource of a batch was refused by the CLI's own rules (calicoctl's), not by the
 * datastore: e.g. ClusterInformation is read-only, or `create` was given a resourceVersion. Not
 * a CliError: the batch goes on with the next resource, as calicoctl's does.
 */
export class ResourceRejectedError extends CattailError<ErrorCodeOf<'cli'>> {}

/** The first line of an error's message: the CLI's errors are one line each. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const nl = text.indexOf('\n');
  return nl === -1 ? text : text.slice(0, nl);
}
