/**
 * The runner's errors, one class per condition with a stable `code` (LOADTEST_*), each saying
 * what was wrong and what to do.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
export class LoadtestError extends CattailError<ErrorCodeOf<'loadtest'>> {}

/** A bad command line; exit code 2. */
export class UsageError extends LoadtestError {
  constructor(message: string) {
    super('LOADTEST_USAGE', message);
  }
}

/** k6 is not installed and could not be built. */
export class K6MissingError extends LoadtestError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      'LOADTEST_K6_MISSING',
      `k6 is not available: ${detail}. Install Go and run \`bash scripts/go-tool.sh k6\` (go install go.k6.io/k6@v1.8.1), or pass --k6 PATH`,
      options,
    );
  }
}

/** Something the run depends on did not happen in time (clients in sync, drain, k6 exit). */
export class RunTimeoutError extends LoadtestError {
  constructor(message: string) {
    super('LOADTEST_TIMEOUT', message);
  }
}
