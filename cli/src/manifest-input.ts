/**
 * `-f` as the resource commands use it: read the sources (source-reader.ts), then load them
 * (resource-loader.ts), within the input limits and interruptible by the command's signal. A
 * source over a size limit is reported like every other problem of the input, so the caller has
 * one path for "the input is wrong, nothing is written".
 *
 * Each step is logged at debug level (`-l debug`): what an operator needs to see where a slow
 * apply spends its time, and what tests wait for to signal the CLI at a known point.
 */
import type { CommandContext } from './command.js';
import { InputLimitError } from './errors.js';
import { loadResources, type LoadResult } from './resource-loader.js';
import { readSources } from './source-reader.js';

export async function readManifests(ctx: CommandContext, filename: string, mode: 'validate' | 'identify'): Promise<LoadResult> {
  const { args, logger, signal } = ctx;
  logger.debug({ filename }, 'reading manifests');
  let sources;
  try {
    sources = await readSources(filename, { cwd: ctx.cwd, stdin: ctx.stdin, recursive: args.bool('recursive'), signal });
  } catch (err) {
    if (err instanceof InputLimitError) return { resources: [], problems: [err.message] };
    throw err;
  }
  logger.debug({ files: sources.length, chars: sources.reduce((n, s) => n + s.text.length, 0) }, 'parsing manifests');
  const loaded = await loadResources(sources, { mode, namespace: args.string('namespace'), signal });
  logger.debug({ resources: loaded.resources.length, problems: loaded.problems.length }, 'manifests loaded');
  return loaded;
}
