/**
 * The revision ranges a replica did not follow event by event: one per relist after its watch
 * could not go on (compaction, a stopped watch).
 *
 *   watch ──events──▶ r0 ✗ (watch ends)      relist at r2 ──diff vs what we held at r0──▶ in-sync
 *                     └────────── gap (r0, r2) ──────────┘
 *
 * The relist diff turns this replica's state at r0 into etcd's state at r2: every key it held
 * and lost comes as a delete, every changed or new key as a put. So a client whose state is at
 * a revision R <= r0 (the same state this replica had at R, and it has every change in
 * (R, r0] plus the diff) or R >= r2 resumes correctly here. A client at r0 < R < r2 does not:
 * its state came from another replica that saw changes inside the gap, such as a key created
 * and deleted again before the relist, which the diff never mentions, so this replica cannot
 * say what that client must drop. It gets a snapshot and reconciles.
 *
 * Gaps below the cache's resumable horizon are irrelevant and pruned. At most `max` are kept;
 * forgetting an older one raises `horizon` to its end, so a client inside it still gets a
 * snapshot.
 */
export interface Gap {
  /** Last revision seen continuously before the gap. */
  readonly from: number;
  /** Revision of the relist that closed it. */
  readonly to: number;
}

const DEFAULT_MAX_GAPS = 64;

export class ResyncGaps {
  readonly #gaps: Gap[] = [];
  readonly #max: number;
  #openedAt: number | undefined;
  #horizon = 0;

  constructor(max = DEFAULT_MAX_GAPS) {
    this.#max = max;
  }

  /** Below this revision no client may resume: gaps were forgotten there. */
  get horizon(): number {
    return this.#horizon;
  }

  get size(): number {
    return this.#gaps.length;
  }

  /** The watch stopped following the datastore after `revision` (a relist is coming). Idempotent. */
  open(revision: number): void {
    this.#openedAt ??= revision;
  }

  /** The relist finished at `revision`: records the gap since `open`, if any revision lies inside it. */
  close(revision: number): void {
    const from = this.#openedAt;
    this.#openedAt = undefined;
    if (from === undefined || revision - from < 2) return;
    this.#gaps.push({ from, to: revision });
    if (this.#gaps.length > this.#max) {
      const dropped = this.#gaps.shift() as Gap;
      if (dropped.to > this.#horizon) this.#horizon = dropped.to;
    }
  }

  /** Whether a client at `revision` lies strictly inside a gap. */
  contains(revision: number): boolean {
    for (const g of this.#gaps) if (revision > g.from && revision < g.to) return true;
    return false;
  }

  /** Forgets gaps that end at or below `oldest` (clients there get a snapshot anyway). */
  prune(oldest: number): void {
    let n = 0;
    while (n < this.#gaps.length && this.#gaps[n].to <= oldest) n++;
    if (n > 0) this.#gaps.splice(0, n);
  }

  list(): readonly Gap[] {
    return this.#gaps;
  }
}
