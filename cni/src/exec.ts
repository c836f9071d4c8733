/**
 * Running `ip` and `nsenter`: the only way the plugin touches the kernel. Each call has a
 * deadline; a failure carries the command line and its stderr, and a missing binary says which
 * package to install instead of a bare ENOENT.
 */
import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Written to the command's stdin (for `ip -batch -`). */
  input?: string;
  timeoutMs?: number;
}

export type Runner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<string>;

export class CommandError extends Error {
  readonly command: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly missing: boolean;
  constructor(command: string, stderr: string, exitCode: number | null, missing: boolean, options?: { cause?: unknown }) {
    super(missing ? `${command.split(' ')[0]} is not installed: ${PACKAGE_HINT}` : `${command} failed: ${stderr.trim() || `exit ${exitCode}`}`, options);
    this.name = 'CommandError';
    this.command = command;
    this.stderr = stderr;
    this.exitCode = exitCode;
    this.missing = missing;
  }
}

const PACKAGE_HINT = 'the plugin needs `ip` (iproute2) and `nsenter` (util-linux) on PATH';

const DEFAULT_TIMEOUT_MS = 20_000;

export const execRunner: Runner = (file, args, opts = {}) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { encoding: 'utf8', timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { code?: unknown };
        const missing = e.code === 'ENOENT';
        const exitCode = typeof e.code === 'number' ? e.code : null;
        reject(new CommandError([file, ...args].join(' '), String(stderr ?? ''), exitCode, missing, { cause: err }));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
