/**
 * The boundary between the dataplane and the host: run one program with an argument array
 * (never a shell string) and optional stdin. The Linux driver only ever talks to the kernel
 * through an `Exec`, so a unit test passes a fake and an integration test wraps the real one
 * with `inNetns` to drive a throwaway network namespace with the very same code.
 */
import { execFile } from 'node:child_process';
import { DataplaneCommandError } from './errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export type Exec = (file: string, args: readonly string[], input?: string) => Promise<ExecResult>;

export interface ProcessExecOptions {
  timeoutMs?: number;
  maxBuffer?: number;
}

/** The real thing: `child_process.execFile`, rejecting with `DataplaneCommandError`. */
export function processExec(options: ProcessExecOptions = {}): Exec {
  const timeout = options.timeoutMs ?? 30_000;
  const maxBuffer = options.maxBuffer ?? 64 << 20;
  return (file, args, input) =>
    new Promise<ExecResult>((resolve, reject) => {
      const child = execFile(file, [...args], { timeout, maxBuffer, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (error) {
          reject(new DataplaneCommandError([file, ...args], String(stderr || error.message), { cause: error }));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      });
      child.stdin?.on('error', () => {
        // The program exited before reading stdin; the exit callback reports it.
      });
      child.stdin?.end(input ?? '');
    });
}

/** Runs every command inside the named network namespace (`ip netns exec <ns> …`). */
export function inNetns(exec: Exec, netns: string): Exec {
  return (file, args, input) => exec('ip', ['netns', 'exec', netns, file, ...args], input);
}
