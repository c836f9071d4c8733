/**
 * Everything a command touches outside its own arguments comes in through `RunOptions`, so the
 * whole CLI runs in-process in a unit test: output is collected from two writers, stdin is a
 * string, the environment is a plain object, and the datastore comes from a factory that a test
 * replaces with an in-memory fake. `main.ts` is the only place that binds these to the real
 * process.
 */
import type { Logger } from 'pino';
import type { DatastoreFactory } from './datastore-config.js';
import { interruptedBy } from './errors.js';

/** Where a command's output goes. Commands write whole lines; nothing else prints. */
export interface Writer {
  write(text: string): void;
}

export interface RunOptions {
  stdout: Writer;
  stderr: Writer;
  /** `-f -` reads this: the text itself, or a stream to read to its end (process.stdin). */
  stdin?: string | AsyncIterable<string | Uint8Array>;
  /** Read for DATASTORE_TYPE, ETCD_*, KUBECONFIG and K8S_*, as calicoctl does. Defaults to an empty environment. */
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

/** What `readBounded` got: the text, or how many bytes it had read when it passed the cap. */
export type BoundedRead = { readonly text: string } | { readonly overBytes: number };

/**
 * Reads a stream or string to its end as UTF-8, but never more than `maxBytes`: once the bytes
 * read pass the cap it stops reading (the stream is closed) and says how many it had, so an
 * endless or huge input costs at most one chunk past the cap. An abort (Ctrl-C while waiting on
 * a terminal for `-f -`) ends the wait with InterruptedError instead of needing a second Ctrl-C.
 */
export async function readBounded(
  input: string | AsyncIterable<string | Uint8Array> | undefined,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<BoundedRead> {
  if (input === undefined) return { text: '' };
  if (typeof input === 'string') {
    const bytes = Buffer.byteLength(input);
    return bytes > maxBytes ? { overBytes: bytes } : { text: input };
  }
  if (signal?.aborted) throw interruptedBy(signal);
  const it = input[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(interruptedBy(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const decoder = new TextDecoder('utf-8');
  const parts: string[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const step = await Promise.race([it.next(), aborted]);
      if (step.done) break;
      const chunk = step.value;
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      if (bytes > maxBytes) {
        await it.return?.(); // we will not read the rest: close the source
        return { overBytes: bytes };
      }
      parts.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    }
  } catch (err) {
    // Aborted while a read is pending. A stream's iterator queues return() behind that read,
    // which may never come (a terminal, an idle pipe): ask it to stop, but do not wait.
    void Promise.resolve(it.return?.()).catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  parts.push(decoder.decode());
  return { text: parts.join('') };
}
