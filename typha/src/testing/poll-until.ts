/**
 * Waiting on state that lives in other sockets or processes (a server's counts, a client's
 * state) with a bounded deadline: the condition is checked again every `intervalMs`, never
 * assumed after a fixed sleep, and a timeout says what was awaited.
 */
export interface PollOptions {
  /** Give up after this long (default 20 s: generous on two shared cores). */
  timeoutMs?: number;
  /** Between checks (default 10 ms). */
  intervalMs?: number;
}

/** Resolves with the milliseconds it took once `pred` holds; rejects naming `what` after the deadline. */
export async function pollUntil(pred: () => boolean | Promise<boolean>, what: string, opts: PollOptions = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 10;
  const start = performance.now();
  while (!(await pred())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return Math.round(performance.now() - start);
}
