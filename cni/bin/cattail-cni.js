#!/usr/bin/env node
// The CNI plugin executable. When the one-file bundle is built (`node image/dist/src/main.js
// cni-bundle` writes cni/dist/bundle/cattail-cni.cjs) it runs that, through V8's code cache
// (cni/src/bundle-loader.ts); otherwise the compiled modules of cni/dist/src (development:
// `npx tsc -b` is enough), and always for VERSION. A bundle older than the last build of a
// package it holds is stale and is not used (with a warning on stderr); CATTAIL_CNI_BUNDLE=0
// forces the modules.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = here('../dist/bundle/cattail-cni.cjs');
const builds = ['../dist/tsconfig.tsbuildinfo', '../../datastore/dist/tsconfig.tsbuildinfo', '../../api/dist/tsconfig.tsbuildinfo'];

function staleness() {
  const made = statSync(bundle).mtimeMs;
  return builds.map(here).find((p) => existsSync(p) && statSync(p).mtimeMs > made);
}

// VERSION needs five small modules (main.ts answers it before loading the rest): cheaper than
// reading the whole bundle and its cache.
const version = (process.env.CNI_COMMAND ?? '').trim().toUpperCase() === 'VERSION';
const newer = !version && process.env.CATTAIL_CNI_BUNDLE !== '0' && existsSync(bundle) ? staleness() : null;
if (newer === undefined) {
  const { loadBundle } = await import('../dist/src/bundle-loader.js');
  await loadBundle(bundle).exports.main();
} else {
  if (newer) {
    const msg = `${bundle} is older than ${newer}: running the compiled modules; rebuild it with node image/dist/src/main.js cni-bundle`;
    process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), msg })}\n`);
  }
  const { main } = await import('../dist/src/main.js');
  await main();
}
