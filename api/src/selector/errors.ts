/**
 * Errors raised by the selector module.
 *
 * The class extends the package's `ApiError` so a caller catching `ApiError` sees selector
 * errors too; it is declared here, beside the code that throws it, because the selector module
 * is owned separately from the package-wide catalog in `../errors.ts`.
 */

import { ApiError } from '../errors.js';

/**
 * A selector string is not valid Calico selector syntax.
 *
 * The message always has the shape `<what went wrong> at position <n>, expected <what>`, so a
 * user editing a policy can find the spot and knows what would have been accepted there.
 * `position` is a 0-based offset into `selector` (UTF-16 code units, as JavaScript indexes
 * strings; outside string literals a valid selector is ASCII, so this equals the byte offset).
 */
export class SelectorSyntaxError extends ApiError {
  declare readonly code: 'SELECTOR_SYNTAX';
  /** The text that failed to parse. */
  readonly selector: string;
  /** 0-based offset of the offending character or token. */
  readonly position: number;
  /** What would have been accepted at `position`, e.g. `a quoted string`. */
  readonly expected: string;

  constructor(selector: string, position: number, problem: string, expected: string, options?: { cause?: unknown }) {
    super('SELECTOR_SYNTAX', `${problem} at position ${position}, expected ${expected}`, options);
    this.selector = selector;
    this.position = position;
    this.expected = expected;
  }
}
