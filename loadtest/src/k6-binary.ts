/**
 * Finds k6: `--k6 PATH`, else `scripts/go-tool.sh k6`, which prints the binary's path and builds
 * it with `go install go.k6.io/k6@v1.8.1` when it is missing (a few minutes, once).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { K6MissingError } from './errors.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const K6_DIR = fileURLToPath(new URL('../../k6/', import.meta.url));

export function findK6(explicit?: string): string {
  if (explicit !== undefined) {
    try {
      accessSync(explicit, constants.X_OK);
      return explicit;
    } catch (err) {
      throw new K6MissingError(`--k6 ${explicit} is not an executable file`, { cause: err });
    }
  }
  const res = spawnSync('bash', [`${REPO_ROOT}scripts/go-tool.sh`, 'k6'], { encoding: 'utf8', timeout: 15 * 60_000 });
  const path = res.stdout?.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || path === '') {
    throw new K6MissingError(`scripts/go-tool.sh k6 failed (${res.error?.message ?? `exit ${res.status}`}): ${(res.stderr ?? '').trim().slice(-400)}`);
  }
  try {
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new K6MissingError(`scripts/go-tool.sh printed ${path}, which is not executable`, { cause: err });
  }
  return path;
}
