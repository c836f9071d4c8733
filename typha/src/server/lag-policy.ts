/**
 * When a client behind the live stream is closed with TooSlow: the server's rule, apart from
 * the connection's state machine so it can be read (and tested) on its own.
 *
 *   hello ──── initial sync (snapshot or resume) ────▶ InSync ── newClientGraceMs ──▶ grace used up
 *   │◀──────────────────────── new-client grace: never cut for lag ──────────────▶│ cut past maxLagMs
 *   behindSince = hello: a new client's lag counts from the start of its sync
 *
 * The lag is the time since the client was last current: from the start of its initial sync
 * until it first goes live, then from each time it falls behind. Past `maxLagMs` (Calico's
 * ServerMaxFallBehindSecs), or `maxLagRevisions` revisions behind, it is cut, except while the
 * new-client grace (Calico's ServerNewClientFallBehindGracePeriod) lasts: through the initial
 * sync and for `newClientGraceMs` after its InSync, as Calico counts its grace from the end of
 * the snapshot. A connection that the grace excused counts once in
 * `typha_connections_grace_used` (Calico's meaning: it needed the grace to catch up).
 *
 * Calico measures the lag as the age of the client's breadcrumb against the newest one; here
 * it is how long the client has been behind, which does not grow while nothing changes.
 */

export type LagVerdict = 'ok' | 'grace' | 'cut';

export interface LagInput {
  now: number;
  /** When the client was last current (-1: it is current). */
  behindSince: number;
  /** End of the new-client grace: Infinity until the InSync is written. */
  graceEndsAt: number;
  /** Revisions published past the client's. */
  revisionsBehind: number;
  maxLagMs: number;
  /** 0: no limit. */
  maxLagRevisions: number;
}

export function lagVerdict(i: LagInput): LagVerdict {
  if (i.behindSince < 0) return 'ok';
  const over = i.now - i.behindSince > i.maxLagMs || (i.maxLagRevisions > 0 && i.revisionsBehind > i.maxLagRevisions);
  if (!over) return 'ok';
  return i.now < i.graceEndsAt ? 'grace' : 'cut';
}
