/**
 * The CNI spec versions this plugin speaks. Alone in this file so VERSION (main.ts) answers
 * without loading the config engine of config.ts.
 */

/** Versions whose result shape we can write; CHECK exists from 0.4.0 on. */
export const SUPPORTED_VERSIONS = Object.freeze(['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const);
