/**
 * Running the build's external programs (debootstrap, chroot apt-get, strip, node): output
 * captured, a missing program named with its Debian package, a failure reported with the
 * command line and the tail of its output.
 */
import { spawn } from 'node:child_process';
import { ImageBuildError, ImageToolMissingError } from './errors.js';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** The Debian package that provides the program, for the "not installed" message. */
  pkg?: string;
}

const TAIL = 4000;

export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-1_000_000)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-TAIL)));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        reject(new ImageToolMissingError(`${file} is not installed${opts.pkg ? ` (apt-get install ${opts.pkg}, or npm run setup)` : ''}`));
      else reject(new ImageBuildError(`${file} could not start: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(out);
      const tail = `${out.slice(-TAIL)}${err}`.trim();
      reject(new ImageBuildError(`${[file, ...args].join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail.slice(-TAIL)}`));
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}
