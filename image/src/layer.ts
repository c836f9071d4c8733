/**
 * What goes into one image layer, and its content as sorted tar entries.
 *
 * A layer is described as data (`LayerSpec`): a whole directory tree (a rootfs), or a list of
 * items each placed at a path in the image — a host file ("this static binary at /pause"), bytes,
 * a symlink, a directory, or a directory tree grafted under a path. `layerEntries` turns the
 * description into tar entries, sorted by path bytes (so a parent always precedes its children
 * and the order never depends on readdir), with every missing parent directory added (0755,
 * root), hard links within the layer kept as links (the first path in sorted order holds the
 * content), and two items claiming one path refused.
 *
 * Device nodes, FIFOs and sockets found in a tree are left out: a container runtime creates
 * /dev itself, and an unprivileged unpacker could not create them anyway. A directory that is
 * a mount point of another file system is kept, empty. Owners come from the
 * tree as they are on disk (numeric), unless the item says otherwise; items that are not trees
 * belong to root.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { chmod, copyFile, lchown, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ImageInputError } from './errors.js';
import type { TarEntry } from './tar.js';

/** One thing placed in a layer at `path` (absolute or relative to the image root). */
export type LayerItem =
  | { path: string; file: string; mode?: number; uid?: number; gid?: number }
  | { path: string; content: string | Buffer; mode?: number; uid?: number; gid?: number }
  | { path: string; symlink: string; uid?: number; gid?: number }
  | { path: string; directory: true; mode?: number; uid?: number; gid?: number }
  | { path: string; tree: string; uid?: number; gid?: number; exclude?: (relPath: string) => boolean };

/**
 * A layer: a directory whose whole tree is the layer (a rootfs), `{ items }`, or a layer built
 * before (`PrebuiltLayer`, e.g. a cached base) whose blob is used as it is.
 */
export type LayerSpec = string | { items: LayerItem[]; comment?: string } | PrebuiltLayer;

/** A gzip layer blob written earlier by `writeLayerBlob`, with the digests it was written with. */
export interface PrebuiltLayer {
  blob: string;
  /** sha256:… of the gzip blob. */
  digest: string;
  /** sha256:… of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  size: number;
  comment?: string;
}

export function isPrebuilt(spec: LayerSpec): spec is PrebuiltLayer {
  return typeof spec === 'object' && 'blob' in spec;
}

type Pending = TarEntry & { inode?: string };

/** The sorted tar entries of a layer description. Throws ImageInputError, touching nothing. */
export function layerEntries(spec: string | { items: LayerItem[] }): TarEntry[] {
  const items: LayerItem[] = typeof spec === 'string' ? [{ path: '/', tree: spec }] : spec.items;
  const byPath = new Map<string, Pending>();
  const add = (e: Pending, what: string): void => {
    const prior = byPath.get(e.path);
    if (prior && !(prior.type === 'dir' && e.type === 'dir')) throw new ImageInputError(`layer: ${what} and another item both claim /${e.path}`);
    byPath.set(e.path, e);
  };
  for (const item of items) {
    const path = imagePath(item.path);
    const uid = item.uid ?? 0;
    const gid = item.gid ?? 0;
    if ('tree' in item) {
      walkTree(item.tree, path, item, add);
    } else if ('file' in item) {
      const st = statOf(item.file, `layer item /${path}`);
      if (!st.isFile()) throw new ImageInputError(`layer item /${path}: ${item.file} is not a regular file`);
      add({ type: 'file', path, mode: item.mode ?? st.mode & 0o7777, uid, gid, size: st.size, source: item.file }, item.file);
    } else if ('content' in item) {
      const buf = Buffer.isBuffer(item.content) ? item.content : Buffer.from(item.content, 'utf8');
      add({ type: 'file', path, mode: item.mode ?? 0o644, uid, gid, size: buf.length, source: buf }, `content for /${path}`);
    } else if ('symlink' in item) {
      if (!item.symlink) throw new ImageInputError(`layer item /${path}: empty symlink target`);
      add({ type: 'symlink', path, target: item.symlink, uid, gid }, `symlink /${path}`);
    } else {
      if (path === '') throw new ImageInputError('layer item: the image root itself is not an entry');
      add({ type: 'dir', path, mode: item.mode ?? 0o755, uid, gid }, `directory /${path}`);
    }
  }
  // Parents nobody listed: 0755, root.
  for (const path of [...byPath.keys()]) {
    for (let p = posix.dirname(path); p !== '.' && p !== '/' && p !== ''; p = posix.dirname(p)) {
      const existing = byPath.get(p);
      if (existing && existing.type !== 'dir') throw new ImageInputError(`layer: /${p} is a ${existing.type} but /${path} is inside it`);
      if (!existing) byPath.set(p, { type: 'dir', path: p, mode: 0o755, uid: 0, gid: 0 });
    }
  }
  const sorted = [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  // Hard links: the first path (in sorted order) of an inode carries the content.
  const firstOf = new Map<string, string>();
  return sorted.map((e): TarEntry => {
    const { inode, ...entry } = e;
    if (inode === undefined || entry.type !== 'file') return entry;
    const first = firstOf.get(inode);
    if (first === undefined) {
      firstOf.set(inode, entry.path);
      return entry;
    }
    return { type: 'hardlink', path: entry.path, target: first, mode: entry.mode, uid: entry.uid, gid: entry.gid };
  });
}

/** `/usr/bin/x`, `usr/bin/x`, `./usr/bin/x` → `usr/bin/x`; refuses `..` and empty components. */
export function imagePath(p: string): string {
  const norm = posix.normalize(`/${p}`);
  if (p.split('/').includes('..') || /\0/.test(p)) throw new ImageInputError(`layer path ${JSON.stringify(p)} leaves the image root`);
  return norm.replace(/^\/+/, '').replace(/\/+$/, '');
}

function statOf(path: string, what: string): Stats {
  try {
    return lstatSync(path);
  } catch (err) {
    throw new ImageInputError(`${what}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function walkTree(
  root: string,
  at: string,
  item: { uid?: number; gid?: number; exclude?: (relPath: string) => boolean },
  add: (e: Pending, what: string) => void,
): void {
  const rootStat = statOf(root, `layer tree for /${at}`);
  if (!rootStat.isDirectory()) throw new ImageInputError(`layer tree for /${at}: ${root} is not a directory`);
  const owner = (st: Stats): { uid: number; gid: number } => ({ uid: item.uid ?? st.uid, gid: item.gid ?? st.gid });
  if (at !== '') add({ type: 'dir', path: at, mode: rootStat.mode & 0o7777, ...owner(rootStat) }, root);
  const visit = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const relPath = rel ? `${rel}/${name}` : name;
      if (item.exclude?.(relPath)) continue;
      const full = join(dir, name);
      const st = statOf(full, `layer tree ${root}`);
      const path = at ? `${at}/${relPath}` : relPath;
      if (st.isDirectory()) {
        add({ type: 'dir', path, mode: st.mode & 0o7777, ...owner(st) }, full);
        // One file system, as `tar --one-file-system`: a /proc or /sys mounted in a rootfs
        // being built stays an empty directory.
        if (st.dev === rootStat.dev) visit(full, relPath);
      } else if (st.isFile()) {
        const inode = st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined;
        add({ type: 'file', path, mode: st.mode & 0o7777, ...owner(st), size: st.size, source: full, inode }, full);
      } else if (st.isSymbolicLink()) {
        add({ type: 'symlink', path, target: readlinkSync(full), ...owner(st) }, full);
      }
      // Devices, FIFOs, sockets: left out (module comment).
    }
  };
  visit(root, '');
}

/**
 * Writes a layer's content as a directory tree under `dir` (for a Containerfile's `COPY` of
 * the same content the daemonless build packs): directories, files, symlinks and hard links,
 * with their modes; owners as in the entries when run as root.
 */
export async function writeLayerTree(spec: string | { items: LayerItem[] }, dir: string): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  for (const e of layerEntries(spec)) {
    const target = join(dir, e.path);
    if (e.type === 'dir') await mkdir(target, { recursive: true });
    else if (e.type === 'file') {
      if (Buffer.isBuffer(e.source)) await writeFile(target, e.source);
      else await copyFile(e.source, target);
    } else if (e.type === 'symlink') await symlink(e.target, target);
    else await link(join(dir, e.target), target);
    if (e.type !== 'symlink' && e.type !== 'hardlink') await chmod(target, e.mode);
    if (asRoot) await lchown(target, e.uid, e.gid);
  }
}
