/**
 * The image package's errors: one class per condition, each with a stable `code` (the `image`
 * row of @cattail/api's catalog) and a message that says what was wrong and what to do.
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class ImageError extends CattailError<ErrorCodeOf<'image'>> {}

/** A layer, config or reference given to the writer is wrong; nothing was written. */
export class ImageInputError extends ImageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IMAGE_BAD_INPUT', message, options);
  }
}

/** A program the build needs is missing, or the build is not run as root. */
export class ImageToolMissingError extends ImageError {
  constructor(message: string) {
    super('IMAGE_TOOL_MISSING', message);
  }
}

/** A build step failed; the message ends with the step's output. */
export class ImageBuildError extends ImageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IMAGE_BUILD_FAILED', message, options);
  }
}

/** An OCI layout or archive read back does not hold together. */
export class InvalidArchiveError extends ImageError {
  constructor(message: string) {
    super('IMAGE_INVALID_ARCHIVE', message);
  }
}
