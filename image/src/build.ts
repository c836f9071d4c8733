/**
 * The cattail image, built without a daemon:
 *
 *   layer 1  Debian bookworm minbase + bird2 nftables iproute2 procps ca-certificates
 *            (base.ts; cached outside the repo, keyed by the package list)
 *   layer 2  /usr/local/bin/node: this machine's Node 20, stripped (cached, keyed by its sha256)
 *   layer 3  /opt/cattail/cni/cattail-cni: the CNI shim (tools/cni-shim, static Go, built by
 *            scripts/setup.sh), and beside it cattail-cni-direct: the standalone CNI plugin
 *            (cni-binary.ts) the shim runs when the daemon does not answer
 *   layer 4  /opt/cattail: the built packages and their production dependencies, and
 *            /usr/local/bin/cattail (app.ts)
 *
 *   → .tools/images/cattail-<version>.oci.tar, ref name cattail/cattail:<version>
 *
 * image/Containerfile builds the same file layout from Node's official bookworm-slim image,
 * with the same packages and `main.js stage` writing layers 3 and 4 into it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findShimBinary } from '@cattail/cni/daemon';
import { appClosure, APP_DIR, CNI_BINARY_PATH, CNI_DIRECT_PATH } from './app.js';
import { baseLayer, BASE_PACKAGES, cacheRoot } from './base.js';
import { buildCniBinary } from './cni-binary.js';
import { writeLayerTree, type LayerItem, type PrebuiltLayer } from './layer.js';
import { prebuildLayer, writeOciArchive, type OciImageResult } from './oci.js';
import { ImageBuildError } from './errors.js';
import { run } from './run.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const IMAGE_REPOSITORY = 'cattail/cattail';
export const NODE_PATH = '/usr/local/bin/node';
export const CATTAIL_PATH = '/usr/local/bin/cattail';
const CLI_BIN = `${APP_DIR}/node_modules/@cattail/cli/bin/cattail.js`;

export const IMAGE_ENV = Object.freeze(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production']);

/** The image's version: the CLI's, which is the chart's appVersion (checked by the image test). */
export function imageVersion(repoRoot = REPO_ROOT): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'cli', 'package.json'), 'utf8')) as { version: string }).version;
}

export function defaultArchivePath(repoRoot = REPO_ROOT, version = imageVersion(repoRoot)): string {
  return join(repoRoot, '.tools', 'images', `cattail-${version}.oci.tar`);
}

export interface CattailImageOptions {
  out?: string;
  refName?: string;
  repoRoot?: string;
  nodeBinary?: string;
  log?: (msg: string) => void;
}

export interface CattailImage extends OciImageResult {
  out: string;
  refName: string;
  version: string;
  /** `dpkg-query` listing of the base layer. */
  packagesFile: string;
}

/** Builds the image archive. The packages must be built first (`npx tsc -b`). */
export async function buildCattailImage(opts: CattailImageOptions = {}): Promise<CattailImage> {
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const log = opts.log ?? (() => {});
  const version = imageVersion(repoRoot);
  const refName = opts.refName ?? `${IMAGE_REPOSITORY}:${version}`;
  const out = opts.out ?? defaultArchivePath(repoRoot, version);
  const nodeBinary = opts.nodeBinary ?? process.execPath;
  const base = await baseLayer({ log });
  const node = await nodeLayer(nodeBinary, log);
  const work = await mkdtemp(join(cacheRoot(), 'image-work-'));
  try {
    const shim = cniShim(repoRoot);
    log('CNI plugin: esbuild bundle + Node single executable');
    const cni = join(work, 'cattail-cni-direct');
    await buildCniBinary({ out: cni, nodeBinary });
    log('app: the built packages and their production dependencies');
    const app = appItems(repoRoot);
    log(`writing ${out}`);
    const result = await writeOciArchive({
      layers: [
        base,
        node,
        {
          comment: 'cattail-cni',
          items: [
            { path: CNI_BINARY_PATH, file: shim, mode: 0o755 },
            { path: CNI_DIRECT_PATH, file: cni, mode: 0o755 },
          ],
        },
        { comment: 'cattail', items: app },
      ],
      config: {
        env: [...IMAGE_ENV],
        entrypoint: [CATTAIL_PATH],
        cmd: ['--help'],
        workingDir: '/',
        labels: {
          'org.opencontainers.image.title': 'cattail',
          'org.opencontainers.image.version': version,
          'org.opencontainers.image.description': 'Cattail: Typha, Felix, confd + BIRD 2, kube-controllers and the CNI plugin',
        },
      },
      refName,
      out,
    });
    return { ...result, out, refName, version, packagesFile: base.packagesFile };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The app layer's items: the CLI's package closure and `cattail` on PATH. */
export function appItems(repoRoot = REPO_ROOT): LayerItem[] {
  const { items } = appClosure(repoRoot, ['cli']);
  for (const required of ['cli/dist/src/main.js', 'cni/dist/src/main.js']) {
    if (!existsSync(join(repoRoot, required))) throw new ImageBuildError(`${required} is missing: build the packages first (npx tsc -b)`);
  }
  return [...items, { path: CATTAIL_PATH, symlink: CLI_BIN }];
}

/**
 * Writes what image/Containerfile copies onto Node's bookworm-slim image: the app layer, the CNI
 * shim (`shimBinary`, which the Containerfile builds in a Go stage; else setup.sh's) and the CNI
 * binary, as a directory tree under `dir`.
 */
export async function stageForContainerfile(dir: string, repoRoot = REPO_ROOT, shimBinary?: string): Promise<void> {
  await writeLayerTree({ items: appItems(repoRoot) }, dir);
  await mkdir(join(dir, 'opt', 'cattail', 'cni'), { recursive: true });
  const shim = join(dir, CNI_BINARY_PATH);
  await copyFile(shimBinary ?? cniShim(repoRoot), shim);
  await chmod(shim, 0o755);
  const cni = join(dir, CNI_DIRECT_PATH);
  await buildCniBinary({ out: cni });
  await chmod(cni, 0o755);
}

/** The Go shim setup.sh built from this tree's tools/cni-shim (ImageBuildError when missing or stale). */
function cniShim(repoRoot: string): string {
  try {
    return findShimBinary(repoRoot);
  } catch (err) {
    throw new ImageBuildError(`the CNI shim: ${(err as Error).message}`, { cause: err });
  }
}

/** Node as its own layer, cached by the binary's sha256: it changes only with Node itself. */
async function nodeLayer(nodeBinary: string, log: (msg: string) => void): Promise<PrebuiltLayer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(nodeBinary)) hash.update(chunk as Buffer);
  const dir = join(cacheRoot(), `image-node-${hash.digest('hex').slice(0, 16)}`);
  const meta = join(dir, 'layer.json');
  if (!existsSync(meta)) {
    await checkSelfContainedNode(nodeBinary);
    log(`node layer: ${nodeBinary}, stripped`);
    await mkdir(cacheRoot(), { recursive: true });
    const tmp = await mkdtemp(`${dir}.partial-`);
    await chmod(tmp, 0o755);
    try {
      const stripped = join(tmp, 'node');
      await copyFile(nodeBinary, stripped);
      await run('strip', ['--strip-all', stripped], { pkg: 'binutils' });
      const layer = await prebuildLayer(
        { comment: `node ${process.version}`, items: [{ path: NODE_PATH, file: stripped, mode: 0o755 }] },
        join(tmp, 'layer.tar.gz'),
      );
      await rm(stripped);
      await writeFile(
        join(tmp, 'layer.json'),
        JSON.stringify({ digest: layer.digest, diffId: layer.diffId, size: layer.size, comment: layer.comment }, null, 2),
      );
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  const m = JSON.parse(await readFile(meta, 'utf8')) as Omit<PrebuiltLayer, 'blob'>;
  return { ...m, blob: join(dir, 'layer.tar.gz') };
}

/**
 * The image carries the node binary alone, so it must not link libraries that only its build
 * machine has: a distribution's node built against a shared libnode, OpenSSL, libuv… (Debian's
 * own `nodejs` package is) would start nowhere else. Node's official and NodeSource builds
 * link only glibc and libstdc++, which the base layer has.
 */
async function checkSelfContainedNode(nodeBinary: string): Promise<void> {
  const vars = JSON.parse(await run(nodeBinary, ['-p', 'JSON.stringify(process.config.variables)'])) as Record<string, unknown>;
  const shared = Object.keys(vars).filter((k) => /^node_shared(_|$)/.test(k) && vars[k] === true);
  if (shared.length > 0) {
    throw new ImageBuildError(
      `${nodeBinary} links shared libraries the image would not carry (${shared.join(', ')}): build with Node's official or NodeSource binary (nodeBinary option)`,
    );
  }
}

export { BASE_PACKAGES };
