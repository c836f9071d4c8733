/**
 * Everything a command touches outside its own arguments comes in through `RunOptions`, so the
 * whole CLI runs in-process in a unit test: output is collected from two writers, stdin is a
 * string, the environment is a plain object, and the datastore comes from a factory that a test
 * replaces with an in-memory fake. `main.ts` is the only place that binds these to the real
 * process.
 */
import type { Logger } from 'pino';
import type { DatastoreFactory } from './datastore-config.js';
import { InterruptedError } from './errors.js';

/** Where a command's output goes. Commands write whole lines; nothing else prints. */
export interface Writer {
  write(text: string): void;
}

export interface RunOptions {
  stdout: Writer;
  stderr: Writer;
  /** `-f -` reads this: the text itself, or a stream to read to its end (process.stdin). */
  stdin?: string | AsyncIterable<string | Uint8Array>;
  /** Read for ETCD_* and DATASTORE_TYPE, as calicoctl does. Defaults to an empty environment. */
  env?: NodeJS.ProcessEnv;
  /** Relative -f paths are resolved against this. Defaults to process.cwd(). */
  cwd?: string;
  /** Builds the datastore client on first use. Defaults to the etcd backend. */
  datastoreFactory?: DatastoreFactory;
  /**
   * Longest wait for one datastore call before the datastore is reported unreachable. An
   * unreachable etcd must fail the command within seconds, not hang it.
   */
  requestTimeoutMs?: number;
  /** Aborted on SIGINT/SIGTERM: pending datastore calls stop and long-running commands wind down. */
  signal?: AbortSignal;
  /** Makes the root logger once the global --log-level is known. Defaults to a silent logger. */
  makeLogger?: (level: string) => Logger;
}

/** 5 s: longer than any healthy etcd answers a CLI-sized request, short enough not to feel hung. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/** Convenience for commands: one line (a trailing newline is added). */
export function writeLine(w: Writer, line = ''): void {
  w.write(`${line}\n`);
}

/**
 * Reads a stream or string to the end, as UTF-8. An abort (Ctrl-C while waiting on a terminal
 * for `-f -`) ends the wait with InterruptedError instead of needing a second Ctrl-C.
 */
export async function readAll(
  input: string | AsyncIterable<string | Uint8Array> | undefined,
  signal?: AbortSignal,
): Promise<string> {
  if (input === undefined) return '';
  if (typeof input === 'string') return input;
  if (signal?.aborted) throw new InterruptedError();
  const it = input[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new InterruptedError());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const decoder = new TextDecoder('utf-8');
  let text = '';
  try {
    for (;;) {
      const step = await Promise.race([it.next(), aborted]);
      if (step.done) break;
      text += typeof step.value === 'string' ? step.value : decoder.decode(step.value, { stream: true });
    }
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) await it.return?.();
  }
  return text + decoder.decode();
}
