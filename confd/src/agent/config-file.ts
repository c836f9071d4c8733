/**
 * The configuration file on disk, changed only by atomic rename: BIRD (or a person, or a
 * crash) only ever sees the old file or the new one, never half of one. The candidate is
 * written beside the live file (`.<name>.candidate`, same directory, so the rename never
 * crosses a filesystem), synced, checked by the caller, then renamed over the live path.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigWriteError } from '../errors.js';

export function candidatePath(live: string): string {
  return join(dirname(live), `.${basename(live)}.candidate`);
}

/** The live file's text, or undefined when there is none yet. */
export async function readConfigFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigWriteError(path, { cause: err });
  }
}

/** Writes and fsyncs `text` to `path` (replacing it). */
export async function writeSynced(path: string, text: string): Promise<void> {
  try {
    const fh = await open(path, 'w', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new ConfigWriteError(path, { cause: err });
  }
}

/** Renames `from` over `to` and syncs the directory so the rename survives a crash. */
export async function renameOver(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    throw new ConfigWriteError(to, { cause: err });
  }
  try {
    const dir = await open(dirname(to), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  }
}

export async function discard(path: string): Promise<void> {
  await rm(path, { force: true });
}
