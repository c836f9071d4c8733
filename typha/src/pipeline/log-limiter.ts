/**
 * A log budget for per-update loops: at most `maxPerInterval` lines per `intervalMs`, so a
 * flood of bad values (one corrupt key per pod, a misbehaving writer) costs a handful of log
 * lines, not one per update. The next line allowed after a quiet spell reports how many were
 * suppressed, so nothing is hidden silently.
 *
 * A function returning a small object rather than a class: it has state but no lifecycle (no
 * timers; the injected clock is read on each call).
 */
import type { Clock } from '../common/clock.js';

export interface LogLimiter {
  /**
   * Asks to log one line now. Returns -1 when over budget (do not log), otherwise the number of
   * lines suppressed since the last allowed one (log it, e.g. as `suppressed`).
   */
  take(): number;
}

export interface LogLimiterOptions {
  /** Lines allowed per interval (default 10). */
  maxPerInterval?: number;
  /** Interval length in ms (default 60 000). */
  intervalMs?: number;
  clock: Pick<Clock, 'now'>;
}

export function createLogLimiter(opts: LogLimiterOptions): LogLimiter {
  const max = opts.maxPerInterval ?? 10;
  const intervalMs = opts.intervalMs ?? 60_000;
  const clock = opts.clock;
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  let suppressed = 0;
  return {
    take(): number {
      const t = clock.now();
      if (t - windowStart >= intervalMs) {
        windowStart = t;
        used = 0;
      }
      if (used >= max) {
        suppressed++;
        return -1;
      }
      used++;
      const n = suppressed;
      suppressed = 0;
      return n;
    },
  };
}
