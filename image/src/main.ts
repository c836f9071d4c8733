/**
 * `node image/dist/src/main.js <command>` (`npm run image` runs `build`):
 *
 *   build [--out FILE] [--ref NAME]   the OCI archive (default .tools/images/cattail-<v>.oci.tar,
 *                                     ref cattail/cattail:<v>)
 *   stage DIR [--cni-shim FILE]       what image/Containerfile copies onto node:20-bookworm-slim
 *                                     (the shim: FILE, else .tools/bin/cattail-cni-shim)
 *   cni-binary FILE                   only the standalone CNI plugin
 *   cni-bundle [FILE]                 the plugin as one file for `node cni/bin/cattail-cni.js`
 *                                     (default cni/dist/bundle/cattail-cni.cjs, where it looks)
 */
import { fileURLToPath } from 'node:url';
import { buildCniBinary, bundleCni } from './cni-binary.js';
import { buildCattailImage, stageForContainerfile } from './build.js';
import { CattailError } from '@cattail/api';

const USAGE = `usage: main.js build [--out FILE] [--ref NAME] | stage DIR [--cni-shim FILE] | cni-binary FILE | cni-bundle [FILE]`;
const DEFAULT_CNI_BUNDLE = fileURLToPath(new URL('../../../cni/dist/bundle/cattail-cni.cjs', import.meta.url));

function log(msg: string): void {
  process.stderr.write(`[image] ${msg}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'build') {
    const opts: { out?: string; refName?: string } = {};
    for (let i = 0; i < rest.length; i++) {
      const value = rest[i + 1];
      if ((rest[i] === '--out' || rest[i] === '--ref') && value) {
        if (rest[i] === '--out') opts.out = value;
        else opts.refName = value;
        i++;
      } else {
        process.stderr.write(`unknown or incomplete option ${rest[i]}\n${USAGE}\n`);
        return 2;
      }
    }
    const started = Date.now();
    const img = await buildCattailImage({ ...opts, log });
    log(
      `${img.out}: ${img.refName}, ${(img.size / 1e6).toFixed(1)} MB compressed, ${img.layers.length} layers, manifest ${img.manifestDigest} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
    return 0;
  }
  if (cmd === 'stage' && (rest.length === 1 || (rest.length === 3 && rest[1] === '--cni-shim'))) {
    await stageForContainerfile(rest[0], undefined, rest[2]);
    return 0;
  }
  if (cmd === 'cni-binary' && rest.length === 1) {
    await buildCniBinary({ out: rest[0] });
    return 0;
  }
  if (cmd === 'cni-bundle' && rest.length <= 1) {
    const outfile = rest[0] ?? DEFAULT_CNI_BUNDLE;
    const { bytes } = await bundleCni({ outfile, entry: 'export' });
    log(`${outfile}: ${(bytes / 1e6).toFixed(2)} MB`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof CattailError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
