/**
 * confd's errors: one class per condition with a stable `code` and the low-level `cause`.
 * They surface in the log (under `err`), in `/status` (`lastError.code`) and in the
 * `confd_config_failures_total{stage}` counter, so an operator can tell a configuration that
 * BIRD refused from a BIRD that is not running.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class ConfdError extends CattailError<ErrorCodeOf<'confd'>> {}

/** A CONFD_* / CALICO_* setting is missing or invalid; raised once at start. */
export class ConfdConfigError extends ConfdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFD_CONFIG_INVALID', message, options);
  }
}

/**
 * The datastore holds something this node's BIRD configuration cannot express (no BGP address
 * for this node, a password BIRD cannot quote, a secret that cannot be read). Nothing is
 * written; the running BIRD keeps its configuration.
 */
export class RenderError extends ConfdError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('CONFD_RENDER_FAILED', `cannot render the BIRD configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** `bird -p` refused the candidate. `output` is BIRD's own message (file:line:col reason). */
export class ConfigCheckError extends ConfdError {
  readonly output: string;
  constructor(output: string, options?: { cause?: unknown }) {
    super('CONFD_CHECK_FAILED', `bird -p rejected the candidate configuration: ${output}`, options);
    this.output = output;
  }
}

/** BIRD answered `configure` with an error reply (8xxx/9xxx); the previous file was restored. */
export class ReloadRejectedError extends ConfdError {
  readonly reply: string;
  constructor(reply: string) {
    super('CONFD_RELOAD_REJECTED', `BIRD refused to reconfigure: ${reply}`);
    this.reply = reply;
  }
}

/**
 * BIRD's control socket did not answer (BIRD not running yet, wrong CONFD_BIRDSOCKET). The
 * file is in place, so a BIRD started later reads it; confd retries the reload.
 */
export class BirdUnreachableError extends ConfdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFD_BIRD_UNREACHABLE', message, options);
  }
}

/** Writing or renaming the configuration file failed (permissions, full disk). */
export class ConfigWriteError extends ConfdError {
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super('CONFD_WRITE_FAILED', `cannot write ${path}: ${errorMessage(options?.cause)}`, options);
    this.path = path;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
