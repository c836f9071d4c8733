/**
 * The images of a `--engine kubernetes` lab, made here and imported into each node's
 * containerd (`ctr images import`): nothing is ever pulled from a registry.
 *
 *   cattail.local/pause:1     the pod sandbox: tools/pause (a static Go program setup.sh builds
 *                             into .tools/bin/cattail-pause) as /pause
 *   cattail.local/busybox:1   the workload: Debian's busybox-static as /bin/busybox, with a link
 *                             per applet in /bin (sh, ping, nc, sleep, ip, wget, httpd …);
 *                             entrypoint /bin/sh
 *
 * Each is an OCI image layout in a tar archive (oci-layout, index.json, blobs/sha256/…) with one
 * uncompressed layer, its name in the `io.containerd.image.name` annotation, which is how
 * `ctr images import` names what it imports. The layer is made with tar's deterministic options,
 * so the same inputs give the same digests.
 *
 * TODO: @cattail/image's `writeOciArchive` (image/src/oci.ts) is the project's general OCI writer,
 * but `image` depends on `cli`, which depends on `lab`: the lab cannot import it until the writer
 * moves to a package below both (its own, or `datastore`'s testing kit). Until then this small
 * single-layer writer stays.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run } from './exec.js';
import { findClusterBinary, SANDBOX_IMAGE } from './kube-node.js';

export const BUSYBOX_IMAGE = 'cattail.local/busybox:1';
const BUSYBOX = '/bin/busybox';

export interface ImageSpec {
  /** Full reference, e.g. `cattail.local/pause:1`. */
  ref: string;
  /** Files of the single layer: path in the image → file on this machine (copied with its mode). */
  files: Record<string, string>;
  /** Symbolic links: path in the image → target. */
  links?: Record<string, string>;
  entrypoint: string[];
  cmd?: string[];
  env?: string[];
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `spec` as an OCI image layout tar archive at `out` (atomically). */
export async function writeOciArchive(spec: ImageSpec, out: string): Promise<void> {
  const work = mkdtempSync(`${out}.work-`);
  try {
    const rootfs = join(work, 'rootfs');
    for (const [path, src] of Object.entries(spec.files)) {
      const dst = join(rootfs, path);
      mkdirSync(join(dst, '..'), { recursive: true });
      copyFileSync(src, dst);
    }
    for (const [path, target] of Object.entries(spec.links ?? {})) {
      mkdirSync(join(rootfs, path, '..'), { recursive: true });
      symlinkSync(target, join(rootfs, path));
    }
    const layerFile = join(work, 'layer.tar');
    await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', rootfs, '-cf', layerFile, '.'], { timeoutMs: 60_000 });
    const blobs = join(work, 'layout', 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const blob = (data: Buffer): { digest: string; size: number } => {
      const hex = sha256(data);
      writeFileSync(join(blobs, hex), data);
      return { digest: `sha256:${hex}`, size: data.length };
    };
    const layerData = readFileSync(layerFile);
    const layer = blob(layerData);
    const config = blob(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Entrypoint: spec.entrypoint, ...(spec.cmd ? { Cmd: spec.cmd } : {}), Env: spec.env ?? ['PATH=/bin'] },
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
        }),
      ),
    );
    const manifest = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        }),
      ),
    );
    const tag = spec.ref.slice(spec.ref.lastIndexOf(':') + 1);
    writeFileSync(
      join(work, 'layout', 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: { 'io.containerd.image.name': spec.ref, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    writeFileSync(join(work, 'layout', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', join(work, 'layout'), '-cf', `${out}.tmp`, '.'], {
      timeoutMs: 60_000,
    });
    renameSync(`${out}.tmp`, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether an ELF64 executable names a program interpreter (PT_INTERP): then it is dynamically linked. */
export function hasInterpreter(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) {
    const at = phoff + i * size;
    if (at + 4 <= elf.length && elf.readUInt32LE(at) === 3) return true;
  }
  return false;
}

/** The static busybox, or a clear error (Debian's dynamic `busybox` would not run in an image without libc). */
function busybox(): string {
  if (!existsSync(BUSYBOX)) throw new LabError('LAB_TOOL_MISSING', `${BUSYBOX} not found: apt-get install busybox-static (or bash scripts/setup.sh)`);
  if (hasInterpreter(readFileSync(BUSYBOX))) {
    throw new LabError('LAB_TOOL_MISSING', `${BUSYBOX} is dynamically linked: apt-get install busybox-static (it replaces busybox)`);
  }
  return BUSYBOX;
}

/** The lab's images as archives in `dir` (made once): ref → archive path. */
export async function ensureImageArchives(dir: string): Promise<Map<string, string>> {
  mkdirSync(dir, { recursive: true });
  const pause = findClusterBinary('cattail-pause');
  const bb = busybox();
  const applets = (await run(bb, ['--list'])).split('\n').filter((a) => /^[a-z0-9._[-]+$/.test(a) && a !== 'busybox');
  const specs: ImageSpec[] = [
    { ref: SANDBOX_IMAGE, files: { pause }, entrypoint: ['/pause'] },
    {
      ref: BUSYBOX_IMAGE,
      files: { 'bin/busybox': bb },
      links: Object.fromEntries(applets.map((a) => [`bin/${a}`, 'busybox'])),
      entrypoint: ['/bin/sh'],
    },
  ];
  const out = new Map<string, string>();
  for (const spec of specs) {
    const name = spec.ref.slice(spec.ref.indexOf('/') + 1).replace(':', '-');
    const file = join(dir, `${name}.tar`);
    if (!existsSync(file) || statSync(file).size === 0) await writeOciArchive(spec, file);
    out.set(spec.ref, file);
  }
  return out;
}
