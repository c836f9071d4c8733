/**
 * Reads what `-f` names, as calicoctl does: a file, `-` for stdin, or a directory, whose
 * `.yaml`, `.yml` and `.json` files are read in name order (with `-R`, sub-directories too).
 * Returns the raw text with the name the user will see in messages; parsing is the loader's job.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CommandFailedError } from './errors.js';
import { readAll, type RunOptions } from './io.js';

export interface Source {
  /** As the user wrote it (`pools.yaml`, `dir/a.yaml`), or `<stdin>`. */
  readonly name: string;
  readonly text: string;
}

export interface ReadSourcesOptions {
  cwd: string;
  stdin: RunOptions['stdin'];
  recursive: boolean;
  signal?: AbortSignal;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

export async function readSources(filename: string, opts: ReadSourcesOptions): Promise<Source[]> {
  if (filename === '-') return [{ name: '<stdin>', text: await readAll(opts.stdin, opts.signal) }];
  const path = resolve(opts.cwd, filename);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw openFailed(filename, err);
  }
  if (!isDir) return [{ name: filename, text: await readText(filename, path) }];

  const names = await listManifests(path, filename, opts.recursive);
  if (names.length === 0) throw new CommandFailedError(`No resources specified in directory ${filename}`);
  const sources: Source[] = [];
  for (const { shown, full } of names) sources.push({ name: shown, text: await readText(shown, full) });
  return sources;
}

async function listManifests(dir: string, shownDir: string, recursive: boolean): Promise<{ shown: string; full: string }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw openFailed(shownDir, err);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: { shown: string; full: string }[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    const shown = join(shownDir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await listManifests(full, shown, true)));
    } else if (MANIFEST_EXTENSIONS.some((ext) => e.name.endsWith(ext))) {
      out.push({ shown, full });
    }
  }
  return out;
}

async function readText(shown: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw openFailed(shown, err);
  }
}

/** calicoctl's wording: `Failed to execute command: open pool.yaml: no such file or directory`. */
function openFailed(name: string, err: unknown): CommandFailedError {
  const code = (err as { code?: string }).code;
  const reason =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : (err as Error).message;
  return new CommandFailedError(`Failed to execute command: open ${name}: ${reason}`, 1, { cause: err });
}
