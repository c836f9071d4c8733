/**
 * The client version: cli/package.json's, read once (the compiled module lives at
 * cli/dist/src/version-info.js, two levels below it). Printed with calicoctl's `v` prefix.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function clientVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? `v${pkg.version}` : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
