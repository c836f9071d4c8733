/**
 * Where the built Go shim (tools/cni-shim) is: scripts/setup.sh builds it into a cache keyed by
 * the hash of its source and links it as .tools/bin/cattail-cni-shim. The image build and the
 * tests take it from there, and refuse a link to a build of other source (setup.sh was not
 * run after tools/cni-shim changed) rather than test or ship a stale binary.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShimMissingError } from './errors.js';

export const SHIM_LINK = join('.tools', 'bin', 'cattail-cni-shim');
const SHIM_SOURCES = ['go.mod', 'main.go'];

/** The repository root holding this package (the first ancestor with tools/cni-shim). */
export function repoRootOfCni(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'tools', 'cni-shim', 'main.go'))) return dir;
  }
  throw new ShimMissingError('tools/cni-shim is not found above @cattail/cni: the shim is built from a repository checkout');
}

/** The hash setup.sh keys the build by: sha256 of the sources, concatenated, first 16 hex digits. */
export function shimSourceHash(repoRoot: string): string {
  const h = createHash('sha256');
  for (const f of SHIM_SOURCES) h.update(readFileSync(join(repoRoot, 'tools', 'cni-shim', f)));
  return h.digest('hex').slice(0, 16);
}

/** The up-to-date shim binary's real path; ShimMissingError saying what to run otherwise. */
export function findShimBinary(repoRoot = repoRootOfCni()): string {
  const link = join(repoRoot, SHIM_LINK);
  if (!existsSync(link)) throw new ShimMissingError(`${link} is missing: run bash scripts/setup.sh (it builds tools/cni-shim with Go)`);
  const real = realpathSync(link);
  const want = `cni-shim-${shimSourceHash(repoRoot)}`;
  if (basename(dirname(real)) !== want) {
    throw new ShimMissingError(`${link} is a build of other source than tools/cni-shim (${real}, want …/${want}): run bash scripts/setup.sh`);
  }
  return real;
}
