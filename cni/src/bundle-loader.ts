/**
 * Runs the bundled plugin (one CommonJS file, `node image/dist/src/main.js cni-bundle`) through
 * V8's code cache, as Node 22's module compile cache would; Node 20 has none for modules, so
 * this does by hand what `v8-compile-cache` did:
 *
 *   cattail-cni.cjs ──vm.Script(source, { cachedData: cattail-cni.cjs.cache })──▶ run
 *        first run, or cache rejected (another bundle, another V8, other flags):
 *        at exit ──script.createCachedData()──▶ cattail-cni.cjs.cache.<pid> ──rename──▶ .cache
 *
 * The cache is written at exit, after the call ran, so it also holds the functions V8 compiled
 * lazily on the way (the ones an ADD uses), not only the top level. V8 checks the cache
 * against the source, its own version and its flags and rejects a stale one (then it is
 * rewritten); the rename makes concurrent first calls safe (the last one wins, each complete).
 * A directory that cannot be written (a read-only /opt/cni/bin) only means no cache: the
 * plugin still runs, compiling as usual.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

export interface BundleRun<T> {
  /** What the bundle exports. */
  exports: T;
  /** 'hit': compiled from the cache; 'miss': no cache file; 'rejected': V8 refused it. */
  cache: 'hit' | 'miss' | 'rejected';
}

export interface LoadBundleOptions {
  /** Default `${bundlePath}.cache`. */
  cachePath?: string;
  /** Write the cache at exit when it was missing or rejected (default true). */
  writeCache?: boolean;
}

export function loadBundle<T>(bundlePath: string, opts: LoadBundleOptions = {}): BundleRun<T> {
  const cachePath = opts.cachePath ?? `${bundlePath}.cache`;
  const source = readFileSync(bundlePath, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundlePath,
    ...(cachedData ? { cachedData } : {}),
  });
  const cache = cachedData === undefined ? 'miss' : script.cachedDataRejected === true ? 'rejected' : 'hit';
  if (cache !== 'hit' && opts.writeCache !== false) process.once('exit', () => writeCache(script, cachePath));
  const module = { exports: {} as T };
  const wrapper = script.runInThisContext() as (e: T, r: NodeRequire, m: { exports: T }, f: string, d: string) => void;
  wrapper(module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return { exports: module.exports, cache };
}

function writeCache(script: Script, cachePath: string): void {
  const tmp = `${cachePath}.${process.pid}`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cachePath);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}
