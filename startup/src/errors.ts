/** The node start-up's errors: one class, a stable `code` per condition (api/src/error-catalog.ts). */
import { CattailError, type ErrorCodeOf } from '@cattail/api';

export class StartupError extends CattailError<ErrorCodeOf<'startup'>> {}
