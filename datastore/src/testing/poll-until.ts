/**
 * The one bounded poll of the tests (and of the lab, which waits on other processes the same
 * way). Polls `pred` until it returns something other than undefined/false, or `ms` pass. Used
 * only where the state lives in other processes or sockets (etcd, Typha, BIRD, the kernel):
 * there is no event to wait on, and the bound keeps a broken run short. The PollTimeoutError
 * names what was awaited (`what` may be a function, to describe the last state seen).
 */
import { PollTimeoutError } from './errors.js';

export async function until<T>(
  pred: () => Promise<T | undefined | false> | T | undefined | false,
  what: string | (() => string),
  ms = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new PollTimeoutError(ms, typeof what === 'string' ? what : what());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
