/**
 * Running the lab's tools (ip, birdc, ping, the CNI plugin) with a bound on time, errors that
 * carry the command and its stderr, and a check that names every missing tool at once.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PollTimeoutError, until as pollUntil } from '@cattail/datastore/testing';
import { LabCommandError, LabTimeoutError, LabToolMissingError } from './errors.js';

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a program and resolves to its stdout; rejects with LabCommandError naming it and its stderr. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      { timeout: opts.timeoutMs ?? 15_000, encoding: 'utf8', maxBuffer: 16 << 20, ...(opts.env ? { env: opts.env } : {}) },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string | null };
          const how = e.killed
            ? `killed (${e.signal ?? 'signal'}) after the ${opts.timeoutMs ?? 15_000} ms limit`
            : typeof e.code === 'number'
              ? `exit code ${e.code}`
              : e.signal
                ? `signal ${e.signal}`
                : e.message;
          const detail = stderr.trim() || stdout.trim();
          reject(new LabCommandError(`${file} ${args.join(' ')}: ${how}${detail ? `: ${detail}` : ''}`, stderr, { cause: err }));
        } else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Resolves true when the program exits 0. */
export async function succeeds(file: string, args: readonly string[], opts: RunOptions = {}): Promise<boolean> {
  try {
    await run(file, args, opts);
    return true;
  } catch {
    return false;
  }
}

export function ip(...args: string[]): Promise<string> {
  return run('ip', args);
}

export function findOnPath(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)]) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

const PACKAGES: Record<string, string> = {
  ip: 'iproute2',
  bridge: 'iproute2',
  nft: 'nftables',
  bird: 'bird2',
  birdc: 'bird2',
  etcd: 'etcd-server',
  ping: 'iputils-ping',
  sysctl: 'procps',
};

/** Throws one LabToolMissingError naming every missing tool (and root, if we are not). */
export function requireTools(tools: readonly string[]): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('root (the lab creates network namespaces): run as root');
  const missing = tools.filter((t) => findOnPath(t) === undefined);
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => PACKAGES[t] ?? t))];
    problems.push(`${missing.join(', ')} (apt-get install ${pkgs.join(' ')}, or run bash scripts/setup.sh)`);
  }
  if (problems.length) throw new LabToolMissingError(`the lab needs ${problems.join('; and ')}`);
}

/**
 * The tests' bounded poll (@cattail/datastore/testing's `until`) for state held by other
 * processes (BIRD, the kernel, Felix), as a LabError: on timeout the message also says what
 * `describe` (which may be async, e.g. a `birdc` query) reports was last seen.
 */
export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  ms: number,
  describe?: () => string | Promise<string>,
  intervalMs = 100,
): Promise<T> {
  try {
    return await pollUntil(probe, what, ms, intervalMs);
  } catch (err) {
    if (!(err instanceof PollTimeoutError)) throw err;
    const seen = describe
      ? await Promise.resolve()
          .then(describe)
          .catch((e: Error) => `(could not describe: ${e.message})`)
      : '';
    throw new LabTimeoutError(`${err.message}${seen ? `; last seen: ${seen}` : ''}`, { cause: err });
  }
}
