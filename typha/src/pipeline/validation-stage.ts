/**
 * First stage after the watcher: only values that pass `validateResource` go further.
 *
 * A value that fails validation, or could not be decoded at all, is passed on as a DELETE of
 * its key. Dropping it instead would leave agents holding the previous (valid) value forever,
 * enforcing a policy the operator has since replaced; deleting is what Calico's syncers do with
 * a value their update processors reject. Each one is counted (`invalidUpdates`, exported later
 * as a Prometheus counter) and logged under a rate limit, because a broken writer can produce
 * one bad value per pod.
 *
 * The stage never throws: a validator that throws counts as a failed validation. When every
 * update in a batch is valid the input array is passed on as is (no copy on the hot path).
 */
import { describeRef, validateResource, type Resource, type ValidationIssue } from '@cattail/api';
import { createLogLimiter } from './log-limiter.js';
import { realClock, type Clock } from '../common/clock.js';
import { silentLogger, type Logger } from './logger.js';
import type { KVUpdate, SyncCallbacks, SyncStatus } from './sync-callbacks.js';

export interface ValidationStats {
  /** Updates turned into deletes (decode failures included). */
  invalidUpdates: number;
  /** Of those, values that could not be decoded at all. */
  decodeErrors: number;
}

export type InvalidReason = { type: 'decode'; error: Error } | { type: 'invalid'; issues: readonly ValidationIssue[] };

export interface ValidationStageOptions {
  /** The per-kind validator; `validateResource` from `@cattail/api` unless a test injects one. */
  validate?: (res: Resource) => readonly ValidationIssue[];
  /** Told of every rejected update (e.g. to feed a metric); must not throw. */
  onInvalid?: (update: KVUpdate, reason: InvalidReason) => void;
  logger?: Logger;
  clock?: Pick<Clock, 'now'>;
  /** Log lines allowed per interval for rejected values (default 10 per 60 s). */
  logsPerInterval?: number;
  logIntervalMs?: number;
}

export interface ValidationStage extends SyncCallbacks<KVUpdate> {
  stats(): ValidationStats;
}

export function createValidationStage(next: SyncCallbacks<KVUpdate>, opts: ValidationStageOptions = {}): ValidationStage {
  const validate = opts.validate ?? validateResource;
  const logger = opts.logger ?? silentLogger;
  const onInvalid = opts.onInvalid;
  const limiter = createLogLimiter({
    maxPerInterval: opts.logsPerInterval ?? 10,
    intervalMs: opts.logIntervalMs ?? 60_000,
    clock: opts.clock ?? realClock,
  });
  const counters: ValidationStats = { invalidUpdates: 0, decodeErrors: 0 };

  function reject(u: KVUpdate, reason: InvalidReason): KVUpdate {
    counters.invalidUpdates++;
    if (reason.type === 'decode') counters.decodeErrors++;
    const suppressed = limiter.take();
    if (suppressed >= 0) {
      const ref = describeRef({ kind: u.kind, name: u.name, namespace: u.namespace });
      if (reason.type === 'decode') {
        logger.warn({ key: u.key, revision: u.revision, err: reason.error, suppressed }, `${ref}: value cannot be decoded; passing it on as a delete`);
      } else {
        const issues = reason.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
        logger.warn({ key: u.key, revision: u.revision, issues, suppressed }, `${ref}: invalid value; passing it on as a delete`);
      }
    }
    if (onInvalid) {
      try {
        onInvalid(u, reason);
      } catch {
        // A metrics hook must not break the pipeline.
      }
    }
    const del: KVUpdate = { key: u.key, kind: u.kind, name: u.name, revision: u.revision };
    if (u.namespace) del.namespace = u.namespace;
    return del;
  }

  /** The replacement for `u`, or undefined when it passes as is. */
  function check(u: KVUpdate): KVUpdate | undefined {
    if (u.error) return reject(u, { type: 'decode', error: u.error });
    const res = u.resource;
    if (res === undefined) return undefined;
    let issues: readonly ValidationIssue[];
    if (res.kind !== u.kind) {
      issues = [{ path: 'kind', message: `"${res.kind}" does not match the key's kind ${u.kind}` }];
    } else {
      try {
        issues = validate(res);
      } catch (err) {
        issues = [{ path: '', message: `validator failed: ${err instanceof Error ? err.message : String(err)}` }];
      }
    }
    return issues.length === 0 ? undefined : reject(u, { type: 'invalid', issues });
  }

  return {
    onStatus(status: SyncStatus, revision: number): void {
      next.onStatus(status, revision);
    },
    onUpdates(updates: KVUpdate[], revision: number): void {
      let out: KVUpdate[] | undefined;
      for (let i = 0; i < updates.length; i++) {
        const replacement = check(updates[i]);
        if (replacement !== undefined) {
          out ??= updates.slice(0, i);
          out.push(replacement);
        } else if (out) {
          out.push(updates[i]);
        }
      }
      next.onUpdates(out ?? updates, revision);
    },
    stats(): ValidationStats {
      return { ...counters };
    },
  };
}
