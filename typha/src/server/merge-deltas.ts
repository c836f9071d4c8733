/**
 * Consecutive delta batches as ONE Deltas message, for the fan-out's sweep (fan-out.ts): a
 * client the cursor reaches after several batches gets them as one message instead of several.
 *
 * The merge is the DeltaBatcher's own coalescing over a longer window: the latest update per
 * key, placed where that key was last written (delete, then set: the batcher's order), and the
 * revision of the last batch. So a client that applies the merged message holds exactly what it
 * would hold after applying each batch in turn.
 */
import { updateKey } from '../common/update-key.js';
import type { Deltas, Update } from '../protocol/messages.js';

/** `batches` in log order, at least one. */
export function mergeDeltas(batches: readonly Deltas[]): Deltas {
  const byKey = new Map<string, Update>();
  for (const b of batches) {
    for (const u of b.updates) {
      const key = updateKey(u);
      byKey.delete(key);
      byKey.set(key, u);
    }
  }
  return { type: 'deltas', revision: batches[batches.length - 1].revision, updates: [...byKey.values()] };
}
