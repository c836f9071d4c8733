/**
 * The real `cattail` binary (bin/cattail.js) as a child process, for the integration tests:
 * `runCattail` runs it to the end; `CattailProcess` keeps hold of it so a test can act at a
 * point the child reports (a line on its stderr, e.g. a `-l debug` log) and signal it there.
 * A child still running when its test ends is killed by pid.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/cattail.js', import.meta.url));

export interface CattailResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
}

export interface CattailOptions {
  cwd: string;
  /** ETCD_ENDPOINTS and the like; PATH is added. */
  env: NodeJS.ProcessEnv;
}

export class CattailProcess {
  readonly done: Promise<CattailResult>;
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = '';
  #stdout = '';
  #waiters: { pattern: RegExp; resolve: () => void }[] = [];

  constructor(args: readonly string[], opts: CattailOptions) {
    const started = Date.now();
    this.#child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stdout.setEncoding('utf8').on('data', (d: string) => (this.#stdout += d));
    this.#child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pattern.test(this.#stderr)) return true;
        w.resolve();
        return false;
      });
    });
    this.done = new Promise((resolve, reject) => {
      this.#child.on('error', reject);
      this.#child.on('close', (code, signal) => {
        resolve({ code, signal, stdout: this.#stdout, stderr: this.#stderr, ms: Date.now() - started });
      });
    });
  }

  /** Starts the binary; it is killed (SIGKILL, by pid) if still running when the test ends. */
  static start(t: TestContext, args: readonly string[], opts: CattailOptions): CattailProcess {
    const p = new CattailProcess(args, opts);
    t.after(() => p.#killIfRunning());
    return p;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get stdin(): NodeJS.WritableStream {
    return this.#child.stdin;
  }

  /** Resolves once stderr so far matches `pattern`; rejects if the child exits first. */
  waitForStderr(pattern: RegExp): Promise<void> {
    if (pattern.test(this.#stderr)) return Promise.resolve();
    const seen = new Promise<void>((resolve) => this.#waiters.push({ pattern, resolve }));
    const exited = this.done.then((r) => {
      throw new Error(`cattail exited (${r.code ?? r.signal}) before stderr matched ${pattern}:\n${r.stderr}`);
    });
    return Promise.race([seen, exited]);
  }

  kill(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  #killIfRunning(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) process.kill(this.pid, 'SIGKILL');
  }
}

/** Runs the binary to its end with `stdin` (closed after it). */
export function runCattail(args: readonly string[], opts: CattailOptions, stdin = ''): Promise<CattailResult> {
  const p = new CattailProcess(args, opts);
  p.stdin.end(stdin);
  return p.done;
}
