/**
 * The application part of the image, as layer items:
 *
 *   /opt/cattail/node_modules/@cattail/<pkg>/   package.json, bin/, dist/src/ of each package
 *                                               the CLI needs (no tests, types or maps)
 *   /opt/cattail/node_modules/<dep>/            their production dependencies
 *   /usr/local/bin/cattail  →  the CLI's bin script (`#!/usr/bin/env node`)
 *   /usr/local/bin/node                          Node 20 (this machine's, stripped)
 *   /opt/cattail/cni/cattail-cni                 the CNI shim (tools/cni-shim, static Go): hands each
 *                                               call to `cattail cni-daemon`
 *   /opt/cattail/cni/cattail-cni-direct          the standalone CNI plugin (cni-binary.ts): the
 *                                               shim's fallback when no daemon answers
 *
 * The production dependencies are the closure of the packages' `dependencies` (and optional
 * and peer ones that are installed) resolved through package-lock.json exactly as Node resolves
 * them (nearest node_modules up the tree), copied from the repo's own node_modules. That is what
 * `npm ci --omit=dev` would install, without a network, a second install or a lockfile that
 * must match a partial set of workspaces. The workspace packages are copied, not linked.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageBuildError } from './errors.js';
import type { LayerItem } from './layer.js';

export const APP_DIR = '/opt/cattail';
/** What the runtime executes: the shim. */
export const CNI_BINARY_PATH = '/opt/cattail/cni/cattail-cni';
/** The whole plugin, beside the shim, which runs it when the daemon is not there. */
export const CNI_DIRECT_PATH = '/opt/cattail/cni/cattail-cni-direct';

interface LockPackage {
  name?: string;
  version?: string;
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Files of a workspace package the image carries: the compiled source and the bin scripts. */
function keepWorkspaceFile(rel: string): boolean {
  if (rel === 'package.json') return true;
  if (!rel.startsWith('dist/src/') && !rel.startsWith('bin/') && rel !== 'dist' && rel !== 'dist/src' && rel !== 'bin') return false;
  return !/\.(d\.ts|map|tsbuildinfo)$/.test(rel);
}

function keepDependencyFile(rel: string): boolean {
  // Nested node_modules are lock entries of their own, copied only when in the closure.
  return !/(^|\/)node_modules(\/|$)/.test(rel) && !/\.(d\.ts|d\.mts|d\.cts|map)$/.test(rel);
}

export interface AppClosure {
  /** Lock keys in the closure: workspace dirs (`cli`) and `node_modules/…` paths. */
  locations: string[];
  /** The same, as layer items under /opt/cattail. */
  items: LayerItem[];
}

/**
 * The layer items of the workspace packages `roots` (lock keys such as `cli`) and everything
 * they need at run time, read from `repoRoot`'s package-lock.json and node_modules.
 */
export function appClosure(repoRoot: string, roots: readonly string[]): AppClosure {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const pkgs = lock.packages;
  const seen = new Set<string>();
  const queue = [...roots];
  for (const r of roots) if (!pkgs[r]) throw new ImageBuildError(`package-lock.json has no workspace ${r}`);
  while (queue.length > 0) {
    const loc = queue.shift()!;
    if (seen.has(loc)) continue;
    seen.add(loc);
    const p = pkgs[loc];
    const wanted: Array<[string, boolean]> = [
      ...Object.keys(p.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(p.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(p.peerDependencies ?? {}).map((n): [string, boolean] => [n, true]),
    ];
    for (const [name, optional] of wanted) {
      const found = resolveInLock(pkgs, loc, name);
      const target = found && pkgs[found].link ? pkgs[found].resolved : found;
      if (!target || !existsSync(join(repoRoot, target))) {
        if (optional) continue; // another platform's binary, or an uninstalled optional peer
        throw new ImageBuildError(`${loc || 'the root'} needs ${name}, which is not installed: run npm ci`);
      }
      queue.push(target);
    }
  }
  const locations = [...seen].sort();
  const items: LayerItem[] = locations.map((loc) => {
    const isWorkspace = !loc.startsWith('node_modules/') && !loc.includes('/node_modules/');
    const dest = `${APP_DIR}/${imageLocation(pkgs, loc)}`;
    return {
      path: dest,
      tree: join(repoRoot, loc),
      uid: 0,
      gid: 0,
      exclude: isWorkspace ? (rel: string) => !keepWorkspaceFile(rel) : (rel: string) => !keepDependencyFile(rel),
    };
  });
  return { locations, items };
}

/** Where a lock location lives under /opt/cattail: workspaces become node_modules/<name>. */
function imageLocation(pkgs: Record<string, LockPackage>, loc: string): string {
  const first = loc.split('/node_modules/')[0];
  if (first.startsWith('node_modules/')) return loc;
  const name = pkgs[first]?.name;
  if (!name) throw new ImageBuildError(`package-lock.json: workspace ${first} has no name`);
  return `node_modules/${name}${loc.slice(first.length)}`;
}

/** Node's lookup: `<loc>/node_modules/<name>`, then each enclosing package's, then the root's. */
function resolveInLock(pkgs: Record<string, LockPackage>, from: string, name: string): string | undefined {
  let loc = from;
  for (;;) {
    const cand = `${loc ? `${loc}/` : ''}node_modules/${name}`;
    if (pkgs[cand]) return cand;
    if (loc === '') return undefined;
    const i = loc.lastIndexOf('/node_modules/');
    loc = i >= 0 ? loc.slice(0, i) : '';
  }
}
