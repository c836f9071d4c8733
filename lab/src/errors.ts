/**
 * The lab's errors: one class per condition, each with a stable `code` and a message that says
 * what to do. The CLI prints `message`; tests match on `code`.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
export class LabError extends CattailError<ErrorCodeOf<'lab'>> {}

/** A program the lab needs is not installed, or we are not root. */
export class LabToolMissingError extends LabError {
  constructor(message: string) {
    super('LAB_TOOL_MISSING', message);
  }
}

/** The state file is unreadable or of another shape. */
export class LabStateError extends LabError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LAB_STATE_INVALID', message, options);
  }
}

/** A condition in another process (BIRD, Felix, etcd) did not hold in time. */
export class LabTimeoutError extends LabError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LAB_TIMEOUT', message, options);
  }
}

/** A command the lab runs (ip, birdc, the CNI plugin) failed. */
export class LabCommandError extends LabError {
  readonly stderr: string;
  constructor(message: string, stderr: string, options?: { cause?: unknown }) {
    super('LAB_COMMAND_FAILED', message, options);
    this.stderr = stderr;
  }
}

/** A request the lab cannot carry out as asked (bad flag value, mode change on a running lab). */
export class LabUsageError extends LabError {
  constructor(message: string) {
    super('LAB_USAGE', message);
  }
}
