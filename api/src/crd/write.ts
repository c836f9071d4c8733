/**
 * `npm run crds`: write every generated CRD to `api/crds/`, one file each, and remove the files
 * of CRDs no longer generated. A build step, not part of the package's (pure) surface.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { crdFileName, generateCRDs } from './generate.js';
import { renderCRD } from './render.js';

/** `api/crds/`, from `api/dist/src/crd/write.js`. */
const dir = new URL('../../../crds/', import.meta.url);

mkdirSync(dir, { recursive: true });
const files = new Map(generateCRDs().map((crd) => [crdFileName(crd), renderCRD(crd)]));
for (const name of readdirSync(dir)) {
  if (/^crd\.projectcalico\.org_.*\.yaml$/.test(name) && !files.has(name)) {
    rmSync(new URL(name, dir));
    process.stdout.write(`removed api/crds/${name}\n`);
  }
}
for (const [name, text] of files) writeFileSync(new URL(name, dir), text);
process.stdout.write(`wrote ${files.size} CRDs to api/crds/\n`);
