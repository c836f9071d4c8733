/** VERSION: the spec versions this plugin speaks; needs no config and touches nothing. */
import { versionResult } from '../result.js';

export function cmdVersion(): Record<string, unknown> {
  return versionResult();
}
