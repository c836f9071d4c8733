/**
 * A daemonless OCI image writer: layers described as data (`layer.ts`) in, an OCI image layout
 * (directory) or an OCI archive (that layout as one tar) out, ready for
 * `ctr -n k8s.io images import`, `skopeo copy oci-archive:…` or `podman load`.
 *
 *   layout/
 *     oci-layout                 {"imageLayoutVersion":"1.0.0"}
 *     index.json                 one manifest, annotated org.opencontainers.image.ref.name
 *     blobs/sha256/<manifest>    config + layers by digest
 *     blobs/sha256/<config>      Entrypoint, Cmd, Env, WorkingDir, rootfs.diff_ids
 *     blobs/sha256/<layer>…      gzip of a deterministic tar (tar.ts)
 *
 * Deterministic: the same inputs give the same digests (fixed `created` and mtimes, sorted
 * entries, numeric owners, gzip without a name or time). Each layer streams file → tar →
 * sha256 (diff_id) → gzip → sha256 (digest) → blob, so a 100 MB binary is never held in memory.
 *
 * The archive is written beside `out` and renamed into place, so a reader never sees half an
 * archive, and a bad layer description fails before anything is written.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ImageInputError, InvalidArchiveError } from './errors.js';
import { isPrebuilt, layerEntries, type LayerSpec, type PrebuiltLayer } from './layer.js';
import { tarStream } from './tar.js';

export const MEDIA_TYPE = Object.freeze({
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
});

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** The runtime part of the image config (the OCI config's `config` object, in our casing). */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** `NAME=value` strings. */
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** e.g. `5473/tcp`. */
  exposedPorts?: string[];
  stopSignal?: string;
}

export interface OciImageOptions {
  /** Bottom layer first. */
  layers: LayerSpec[];
  config: ImageRunConfig;
  /**
   * The index's `org.opencontainers.image.ref.name`: a tag (`0.1.0`) or a whole reference
   * (`cattail/cattail:0.1.0`). containerd's importer keeps a whole reference as it is and
   * prefixes a bare tag with its `--base-name`.
   */
  refName: string;
  /** GOARCH spelling; default: this machine's. */
  architecture?: string;
  os?: string;
  /** RFC 3339; default the epoch, so digests do not change with the clock. */
  created?: string;
  /** Every tar entry's mtime, seconds; default 0. */
  mtime?: number;
  /** gzip level 1..9; default 6. */
  gzipLevel?: number;
  /** Extra annotations on the index's manifest descriptor. */
  annotations?: Record<string, string>;
}

export interface WrittenLayer {
  digest: string;
  diffId: string;
  size: number;
}

export interface OciImageResult {
  manifestDigest: string;
  configDigest: string;
  layers: WrittenLayer[];
  /** Sum of the blob sizes (what a registry stores, what `ctr import` reads). */
  size: number;
}

/** Writes the image as an OCI archive (a tar of the layout) at `out`. */
export async function writeOciArchive(opts: OciImageOptions & { out: string }): Promise<OciImageResult & { out: string }> {
  checkOptions(opts);
  await mkdir(dirname(opts.out), { recursive: true });
  const staging = await mkdtemp(`${opts.out}.staging-`);
  try {
    const result = await writeLayout({ ...opts, dir: join(staging, 'layout') });
    const partial = join(staging, 'archive.tar');
    await pipeline(
      Readable.from(tarStream(layerEntries({ items: [{ path: '/', tree: join(staging, 'layout'), uid: 0, gid: 0 }] }), opts.mtime ?? 0)),
      createWriteStream(partial),
    );
    await rename(partial, opts.out);
    return { ...result, out: opts.out };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Writes the image as an OCI image layout directory `dir` (created; must not hold another layout). */
export async function writeOciLayout(opts: OciImageOptions & { dir: string }): Promise<OciImageResult> {
  checkOptions(opts);
  return writeLayout(opts);
}

async function writeLayout(opts: OciImageOptions & { dir: string }): Promise<OciImageResult> {
  const blobs = join(opts.dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layers: WrittenLayer[] = [];
  const history: Array<Record<string, unknown>> = [];
  const created = opts.created ?? '1970-01-01T00:00:00Z';
  for (const [i, spec] of opts.layers.entries()) {
    let layer: WrittenLayer;
    if (isPrebuilt(spec)) {
      layer = { digest: spec.digest, diffId: spec.diffId, size: spec.size };
      await copyFile(spec.blob, join(blobs, hex(spec.digest)));
    } else {
      const tmp = join(opts.dir, `layer-${i}.partial`);
      layer = await writeLayerBlob(spec, tmp, { mtime: opts.mtime, gzipLevel: opts.gzipLevel });
      await rename(tmp, join(blobs, hex(layer.digest)));
    }
    layers.push(layer);
    // A tree's host path is not recorded: it would make the config's digest depend on it.
    const comment = typeof spec === 'string' ? undefined : spec.comment;
    history.push({ created, created_by: 'cattail image writer', ...(comment ? { comment } : {}) });
  }
  const c = opts.config;
  const runConfig: Record<string, unknown> = {};
  if (c.user) runConfig.User = c.user;
  if (c.exposedPorts?.length) runConfig.ExposedPorts = Object.fromEntries(c.exposedPorts.map((p) => [p, {}]));
  if (c.env?.length) runConfig.Env = c.env;
  if (c.entrypoint) runConfig.Entrypoint = c.entrypoint;
  if (c.cmd) runConfig.Cmd = c.cmd;
  if (c.workingDir) runConfig.WorkingDir = c.workingDir;
  if (c.labels && Object.keys(c.labels).length > 0) runConfig.Labels = c.labels;
  if (c.stopSignal) runConfig.StopSignal = c.stopSignal;
  const architecture = opts.architecture ?? goArch(process.arch);
  const os = opts.os ?? 'linux';
  const config = {
    created,
    architecture,
    os,
    config: runConfig,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  const configDesc = await writeJsonBlob(blobs, config, MEDIA_TYPE.config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config: configDesc,
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPE.layerGzip, digest: l.digest, size: l.size })),
  };
  const manifestDesc = await writeJsonBlob(blobs, manifest, MEDIA_TYPE.manifest);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.index,
    manifests: [{ ...manifestDesc, platform: { architecture, os }, annotations: { ...opts.annotations, [REF_NAME_ANNOTATION]: opts.refName } }],
  };
  await writeFile(join(opts.dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
  await writeFile(join(opts.dir, 'index.json'), JSON.stringify(index));
  return {
    manifestDigest: manifestDesc.digest,
    configDigest: configDesc.digest,
    layers,
    size: layers.reduce((n, l) => n + l.size, configDesc.size + manifestDesc.size),
  };
}

/**
 * Writes one layer as a gzip blob at `out` and returns its digests: the way to build a layer
 * once and reuse it (`PrebuiltLayer`) in later images, e.g. a cached base rootfs.
 */
export async function writeLayerBlob(
  spec: Exclude<LayerSpec, PrebuiltLayer>,
  out: string,
  opts: { mtime?: number; gzipLevel?: number } = {},
): Promise<WrittenLayer> {
  const entries = layerEntries(spec);
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  const counter = { size: 0 };
  await pipeline(
    Readable.from(tarStream(entries, opts.mtime ?? 0)),
    hashing(tarHash),
    createGzip({ level: opts.gzipLevel ?? 6 }),
    hashing(gzHash, counter),
    createWriteStream(out),
  );
  return { digest: `sha256:${gzHash.digest('hex')}`, diffId: `sha256:${tarHash.digest('hex')}`, size: counter.size };
}

/** As `writeLayerBlob`, returned as a `PrebuiltLayer` for `layers`. */
export async function prebuildLayer(
  spec: Exclude<LayerSpec, PrebuiltLayer>,
  out: string,
  opts: { mtime?: number; gzipLevel?: number } = {},
): Promise<PrebuiltLayer> {
  const written = await writeLayerBlob(spec, out, opts);
  return { blob: out, ...written, ...(typeof spec === 'object' && spec.comment ? { comment: spec.comment } : {}) };
}

export interface VerifiedLayout {
  refName: string;
  manifestDigest: string;
  config: { architecture: string; os: string; config: Record<string, unknown>; rootfs: { diff_ids: string[] } };
  layers: Array<{ digest: string; size: number; mediaType: string }>;
}

/**
 * Reads an OCI image layout back and checks that it holds together: oci-layout version,
 * index → manifest → config + layers, every blob's sha256 and size equal to its descriptor,
 * the media types, and one diff_id per layer. Throws InvalidArchiveError naming the first
 * mismatch. Checks a single-image layout, the kind this module writes.
 */
export async function verifyOciLayout(dir: string): Promise<VerifiedLayout> {
  const layoutFile = await readJson(join(dir, 'oci-layout'));
  if (layoutFile.imageLayoutVersion !== '1.0.0')
    throw new InvalidArchiveError(`${dir}/oci-layout: imageLayoutVersion is ${String(layoutFile.imageLayoutVersion)}, not 1.0.0`);
  const index = await readJson(join(dir, 'index.json'));
  const manifests = index.manifests as Array<Record<string, unknown>> | undefined;
  if (index.schemaVersion !== 2 || !Array.isArray(manifests) || manifests.length !== 1)
    throw new InvalidArchiveError(`${dir}/index.json: want schemaVersion 2 and one manifest`);
  const mdesc = manifests[0];
  const refName = (mdesc.annotations as Record<string, string> | undefined)?.[REF_NAME_ANNOTATION];
  if (!refName) throw new InvalidArchiveError(`${dir}/index.json: the manifest has no ${REF_NAME_ANNOTATION}`);
  const manifest = JSON.parse(await readBlob(dir, mdesc, MEDIA_TYPE.manifest)) as Record<string, unknown>;
  if (manifest.mediaType !== MEDIA_TYPE.manifest) throw new InvalidArchiveError(`manifest mediaType is ${String(manifest.mediaType)}`);
  const cdesc = manifest.config as Record<string, unknown>;
  const config = JSON.parse(await readBlob(dir, cdesc, MEDIA_TYPE.config)) as VerifiedLayout['config'];
  const layers = manifest.layers as Array<{ digest: string; size: number; mediaType: string }>;
  for (const l of layers) await checkBlob(dir, l, MEDIA_TYPE.layerGzip);
  if (config.rootfs?.diff_ids?.length !== layers.length)
    throw new InvalidArchiveError(`config has ${config.rootfs?.diff_ids?.length} diff_ids for ${layers.length} layers`);
  return { refName, manifestDigest: String(mdesc.digest), config, layers };
}

function checkOptions(opts: OciImageOptions): void {
  if (opts.layers.length === 0) throw new ImageInputError('an image needs at least one layer');
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(opts.refName))
    throw new ImageInputError(`refName ${JSON.stringify(opts.refName)} is not an image reference or tag`);
  if (opts.gzipLevel !== undefined && !(Number.isInteger(opts.gzipLevel) && opts.gzipLevel >= 1 && opts.gzipLevel <= 9)) {
    throw new ImageInputError(`gzipLevel ${opts.gzipLevel} is outside 1..9`);
  }
  for (const e of opts.config.env ?? []) if (!/^[^=]+=/.test(e)) throw new ImageInputError(`env entry ${JSON.stringify(e)} is not NAME=value`);
  // Every layer described as data is checked (sorted, paths, sources) before the first blob.
  for (const spec of opts.layers) if (!isPrebuilt(spec)) layerEntries(spec);
}

function hashing(hash: ReturnType<typeof createHash>, counter?: { size: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      hash.update(chunk);
      if (counter) counter.size += chunk.length;
      cb(null, chunk);
    },
  });
}

async function writeJsonBlob(blobs: string, value: unknown, mediaType: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(blobs, hex(digest)), bytes);
  return { mediaType, digest, size: bytes.length };
}

function hex(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new ImageInputError(`${digest} is not a sha256 digest`);
  return m[1];
}

function goArch(arch: string): string {
  return (
    ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch
  );
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArchiveError(`${path}: ${(err as Error).message}`);
  }
}

async function readBlob(dir: string, desc: Record<string, unknown>, mediaType: string): Promise<string> {
  const d = desc as { digest: string; size: number; mediaType: string };
  await checkBlob(dir, d, mediaType);
  return readFile(join(dir, 'blobs', 'sha256', hex(d.digest)), 'utf8');
}

async function checkBlob(dir: string, d: { digest: string; size: number; mediaType: string }, mediaType: string): Promise<void> {
  if (d.mediaType !== mediaType) throw new InvalidArchiveError(`blob ${d.digest}: mediaType ${d.mediaType}, want ${mediaType}`);
  const path = join(dir, 'blobs', 'sha256', hex(d.digest));
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new InvalidArchiveError(`blob ${d.digest} is missing from ${dir}`);
  if (st.size !== d.size) throw new InvalidArchiveError(`blob ${d.digest}: ${st.size} bytes, the descriptor says ${d.size}`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== d.digest) throw new InvalidArchiveError(`blob ${d.digest} has sha256 ${actual}`);
}

/** Every blob file in a layout, for tests that check nothing is left unreferenced. */
export async function listBlobs(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'blobs', 'sha256'))).map((h) => `sha256:${h}`).sort();
}
