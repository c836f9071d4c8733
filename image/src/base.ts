/**
 * The image's base layer: a Debian bookworm rootfs made by `debootstrap --variant=minbase`
 * with the packages every cattail container needs, trimmed, and packed into one layer blob
 * that is cached outside the repo, keyed by everything that shapes it:
 *
 *   ~/.cache/cattail/image-base-<sha256(recipe)[:16]>/
 *     layer.tar.gz   the layer (a PrebuiltLayer for writeOciArchive)
 *     layer.json     its digest, diff_id and size
 *     packages.txt   `dpkg-query` of what is inside, for the record
 *
 * A second build reuses the blob as it is (seconds); the first takes a few minutes, most of it
 * debootstrap. Packages come from the Debian mirror this machine's apt already uses (or
 * CATTAIL_DEBIAN_MIRROR), so the build needs no address of its own.
 *
 * Why debootstrap's `--include` and not `chroot apt-get install`: debootstrap mounts and
 * unmounts /proc itself and resolves the packages' dependencies from the same mirror, so the
 * build never leaves a mount behind when it fails halfway.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ImageBuildError, ImageToolMissingError } from './errors.js';
import type { PrebuiltLayer } from './layer.js';
import { prebuildLayer } from './oci.js';
import { run } from './run.js';

/** What the containers run besides Node: BIRD 2, nft, ip, sysctl (Felix), CA roots. */
export const BASE_PACKAGES = Object.freeze(['bird2', 'nftables', 'iproute2', 'procps', 'ca-certificates']);
export const BASE_SUITE = 'bookworm';
/** Bump when the trimming below changes: it is part of the cache key. */
const RECIPE_VERSION = 1;

/** Trimmed from the rootfs: documentation, caches, logs, and what the runtime provides. */
const TRIM = [
  'var/cache/apt',
  'var/lib/apt/lists',
  'var/log',
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'var/cache/debconf/templates.dat-old',
  'var/cache/debconf/config.dat-old',
  'var/lib/dpkg/status-old',
  'var/lib/dpkg/diversions-old',
  'var/cache/ldconfig/aux-cache',
];
/** Emptied: the container runtime bind-mounts its own, and the build machine's must not leak. */
const EMPTIED = ['etc/hostname', 'etc/resolv.conf', 'etc/machine-id'];
/** Recreated empty after trimming (apt and dpkg expect them). */
const RECREATED = ['var/cache/apt/archives/partial', 'var/lib/apt/lists/partial', 'var/log'];

export interface BaseOptions {
  cacheRoot?: string;
  mirror?: string;
  packages?: readonly string[];
  log?: (msg: string) => void;
}

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cattail');
}

/** The cached base layer, made first when missing. */
export async function baseLayer(opts: BaseOptions = {}): Promise<PrebuiltLayer & { cacheDir: string; packagesFile: string }> {
  const log = opts.log ?? (() => {});
  const packages = [...(opts.packages ?? BASE_PACKAGES)].sort();
  const mirror = opts.mirror ?? debianMirror();
  const arch = debianArch(process.arch);
  const key = createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, suite: BASE_SUITE, arch, mirror, packages }))
    .digest('hex')
    .slice(0, 16);
  const root = opts.cacheRoot ?? cacheRoot();
  const cacheDir = join(root, `image-base-${key}`);
  const meta = join(cacheDir, 'layer.json');
  if (!existsSync(meta)) {
    if (process.getuid?.() !== 0)
      throw new ImageToolMissingError('building the base rootfs needs root (debootstrap creates device nodes and owned files): run as root');
    log(`base rootfs: debootstrap ${BASE_SUITE} (${packages.join(', ')}); once per package list, a few minutes`);
    await mkdir(root, { recursive: true });
    const tmp = await mkdtemp(`${cacheDir}.partial-`);
    await chmod(tmp, 0o755);
    try {
      const rootfs = join(tmp, 'rootfs');
      await run('debootstrap', ['--variant=minbase', `--arch=${arch}`, `--include=${packages.join(',')}`, BASE_SUITE, rootfs, mirror], { pkg: 'debootstrap' });
      const pkgList = await run('chroot', [rootfs, 'dpkg-query', '-W', '-f', '${Package} ${Version}\\n'], { pkg: 'coreutils' });
      await trim(rootfs);
      log('base rootfs: packing the layer');
      const layer = await prebuildLayer(
        { items: [{ path: '/', tree: rootfs }], comment: `debian ${BASE_SUITE} minbase + ${packages.join(' ')}` },
        join(tmp, 'layer.tar.gz'),
      );
      await writeFile(join(tmp, 'packages.txt'), pkgList.split('\n').filter(Boolean).sort().join('\n') + '\n');
      await writeFile(
        join(tmp, 'layer.json'),
        JSON.stringify({ digest: layer.digest, diffId: layer.diffId, size: layer.size, comment: layer.comment }, null, 2),
      );
      await rm(rootfs, { recursive: true, force: true });
      await rename(tmp, cacheDir).catch(async (err: NodeJS.ErrnoException) => {
        // Another build finished the same base first: use theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  } else {
    log(`base rootfs: cached at ${cacheDir}`);
  }
  const m = JSON.parse(await readFile(meta, 'utf8')) as Omit<PrebuiltLayer, 'blob'>;
  return { ...m, blob: join(cacheDir, 'layer.tar.gz'), cacheDir, packagesFile: join(cacheDir, 'packages.txt') };
}

async function trim(rootfs: string): Promise<void> {
  for (const p of TRIM) await rm(join(rootfs, p), { recursive: true, force: true });
  for (const p of EMPTIED) await writeFile(join(rootfs, p), '');
  for (const p of RECREATED) await mkdir(join(rootfs, p), { recursive: true });
  for (const name of readdirSync(join(rootfs, 'tmp'))) await rm(join(rootfs, 'tmp', name), { recursive: true, force: true });
  if (existsSync(join(rootfs, 'debootstrap'))) throw new ImageBuildError(`${rootfs}/debootstrap is still there: debootstrap did not finish`);
}

/**
 * The Debian mirror: CATTAIL_DEBIAN_MIRROR, else the first `deb` URI this machine's apt
 * sources use for the main archive (deb822 `.sources` or one-line `sources.list`).
 */
export function debianMirror(): string {
  const env = process.env.CATTAIL_DEBIAN_MIRROR;
  if (env) return env;
  const files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) files.push(join(dir, f));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri && /^Types:.*\bdeb\b/m.test(stanza) && suites.includes(BASE_SUITE) && !/security/.test(uri)) return uri;
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && m[2] === BASE_SUITE && !/security/.test(m[1])) return m[1];
    }
  }
  throw new ImageToolMissingError(`no Debian ${BASE_SUITE} mirror in this machine's apt sources: set CATTAIL_DEBIAN_MIRROR to one`);
}

function debianArch(arch: string): string {
  const m: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ppc64: 'ppc64el', s390x: 's390x', ia32: 'i386', riscv64: 'riscv64' };
  return m[arch] ?? arch;
}
