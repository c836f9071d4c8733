/**
 * Reads what `-f` names, as calicoctl does: a file, `-` for stdin, or a directory, whose
 * `.yaml`, `.yml` and `.json` files are read in name order (with `-R`, sub-directories too).
 * Returns the raw text with the name the user will see in messages; parsing is the loader's job.
 *
 * Reading is bounded (input-limits.ts): each file and stdin by `sourceBytes`, all the files of a
 * directory together by `totalBytes`. A regular file over the limit is refused from its size
 * alone; anything else (stdin, a pipe, a file still growing) is read up to the limit and no
 * further. Over a limit, InputLimitError names the file and both sizes.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, CommandFailedError, InputLimitError } from './errors.js';
import { formatBytes, INPUT_LIMITS, type InputLimits } from './input-limits.js';
import { readBounded, type RunOptions } from './io.js';

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
  limits?: InputLimits;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

export async function readSources(filename: string, opts: ReadSourcesOptions): Promise<Source[]> {
  const limits = opts.limits ?? INPUT_LIMITS;
  if (filename === '-') {
    const read = await readBounded(opts.stdin, limits.sourceBytes, opts.signal);
    if ('overBytes' in read) throw tooLarge('<stdin>', read.overBytes, limits.sourceBytes, false);
    return [{ name: '<stdin>', text: read.text }];
  }
  const path = resolve(opts.cwd, filename);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw openFailed(filename, err);
  }
  if (!isDir) return [{ name: filename, text: await readText(filename, path, limits.sourceBytes, opts.signal) }];

  const names = await listManifests(path, filename, opts.recursive);
  if (names.length === 0) throw new CommandFailedError(`No resources specified in directory ${filename}`);
  const sources: Source[] = [];
  let total = 0;
  for (const { shown, full } of names) {
    const left = limits.totalBytes - total;
    // A file may only use what the directory has left; past that, it is the total that is too big.
    const text =
      left < limits.sourceBytes
        ? await readText(shown, full, left, opts.signal, () => totalTooLarge(filename, shown, limits.totalBytes))
        : await readText(shown, full, limits.sourceBytes, opts.signal);
    sources.push({ name: shown, text });
    total += Buffer.byteLength(text);
  }
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

/**
 * One file, at most `maxBytes`. A regular file is measured before it is read, so a huge one
 * costs nothing; the read itself is capped too, for pipes, devices and files that grow.
 */
async function readText(
  shown: string,
  path: string,
  maxBytes: number,
  signal: AbortSignal | undefined,
  overLimit: (bytes: number) => InputLimitError = (bytes) => tooLarge(shown, bytes, maxBytes, true),
): Promise<string> {
  let size: number;
  let isFile: boolean;
  try {
    const st = await stat(path);
    size = st.size;
    isFile = st.isFile();
  } catch (err) {
    throw openFailed(shown, err);
  }
  if (isFile && size > maxBytes) throw overLimit(size);
  let read;
  try {
    read = await readBounded(createReadStream(path), maxBytes, signal);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw openFailed(shown, err);
  }
  if ('overBytes' in read) throw overLimit(read.overBytes);
  return read.text;
}

/** `big.yaml: 4000000 bytes, over the limit of 3 MiB (3145728 bytes) for one file; ...` */
function tooLarge(name: string, bytes: number, limit: number, exact: boolean): InputLimitError {
  const size = exact ? `${bytes} bytes` : `more than ${limit} bytes`;
  return new InputLimitError(`${name}: ${size}, over the limit of ${formatBytes(limit)} for one file or stdin; split it into several files in a directory`);
}

function totalTooLarge(dir: string, at: string, limit: number): InputLimitError {
  return new InputLimitError(
    `${dir}: the files add up to more than ${formatBytes(limit)} at ${at}, over the limit for one command; apply them in several runs`,
  );
}

/** calicoctl's wording: `Failed to execute command: open pool.yaml: no such file or directory`. */
function openFailed(name: string, err: unknown): CommandFailedError {
  const code = (err as { code?: string }).code;
  const reason =
    code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
  return new CommandFailedError(`Failed to execute command: open ${name}: ${reason}`, 1, { cause: err });
}
