/**
 * What a write command says when SIGINT/SIGTERM stops it between two resources of a batch.
 *
 * calicoctl has no answer to copy: it installs no signal handler, so Go's default ends it at
 * once, wherever it is, and the operator has to find out with `get` what was written. We stop
 * at a resource boundary instead (a write in flight is waited for, see guarded-datastore.ts),
 * so every resource of the batch is in exactly one of three states, and we print each:
 *
 *   pools.yaml: document 1: IPPool(pool-a): applied
 *   pools.yaml: document 2: IPPool(pool-b): not applied: resource already exists: IPPool(pool-b)
 *   pools.yaml: document 3: IPPool(pool-c): not applied (interrupted)
 *   interrupted by SIGTERM: 1 of 3 resource(s) applied, 2 not applied
 *
 * on stderr, one line per resource in batch order, then exit 130 (SIGINT) or 143 (SIGTERM).
 */
import { pastTense, type WriteVerb } from './calico-messages.js';
import { interruptedBy, type InterruptedError } from './errors.js';
import { writeLine, type Writer } from './io.js';

/** How far one resource of a batch got: written, refused (with the reason), or not attempted. */
export type BatchOutcome = { readonly written: true } | { readonly written: false; readonly reason: string } | undefined;

export function interruptedBatch(
  stderr: Writer,
  signal: AbortSignal,
  verb: WriteVerb,
  labels: readonly string[],
  outcomes: readonly BatchOutcome[],
): InterruptedError {
  const past = pastTense(verb);
  let written = 0;
  labels.forEach((label, i) => {
    const outcome = outcomes[i];
    if (outcome?.written) {
      written++;
      writeLine(stderr, `${label}: ${past}`);
    } else if (outcome) {
      writeLine(stderr, `${label}: not ${past}: ${outcome.reason}`);
    } else {
      writeLine(stderr, `${label}: not ${past} (interrupted)`);
    }
  });
  return interruptedBy(signal, `${written} of ${labels.length} resource(s) ${past}, ${labels.length - written} not ${past}`);
}
