/**
 * The CNI daemon's Prometheus metrics in the text exposition format. Plain numbers kept by the
 * daemon, named here, rendered on each scrape (as confd's agent/metrics.ts does): no metrics
 * library for a counter, a gauge and one histogram. Names in the repo's style (`felix_*`,
 * `confd_*`, here `cattail_cni_*`), `_total` counters and `_seconds` units.
 *
 *   cattail_cni_requests_total{command,result}    result: ok, error (the plugin answered a CNI
 *                                                 error), fallback (sent to the direct plugin),
 *                                                 rejected (not a request: oversized, malformed)
 *   cattail_cni_request_duration_seconds{command} histogram, from the request read to the answer
 *   cattail_cni_requests_in_flight                gauge
 *   cattail_cni_datastore_connections             gauge: warm connections kept
 */

export type RequestResult = 'ok' | 'error' | 'fallback' | 'rejected';

/** Upper bounds (seconds): an ADD is tens of milliseconds warm, seconds when the datastore struggles. */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class DaemonMetrics {
  readonly #requests = new Map<string, number>();
  readonly #durations = new Map<string, Histogram>();
  inFlight = 0;

  /** `command` is the request's CNI_COMMAND as given (upper-cased), or "unknown" for a rejected request. */
  record(command: string, result: RequestResult, seconds: number): void {
    const key = `command="${labelValue(command)}",result="${result}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    if (result === 'rejected') return;
    const label = labelValue(command);
    let h = this.#durations.get(label);
    if (!h) {
      h = { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(label, h);
    }
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Requests answered so far, by `command,result` label set (for /status and tests). */
  requests(): Record<string, number> {
    return Object.fromEntries(this.#requests);
  }

  render(datastoreConnections: number): string {
    const lines: string[] = [
      '# HELP cattail_cni_requests_total CNI calls the daemon answered, by command and result (ok, error, fallback, rejected).',
      '# TYPE cattail_cni_requests_total counter',
    ];
    for (const [labels, n] of this.#requests) lines.push(`cattail_cni_requests_total{${labels}} ${n}`);
    lines.push(
      '# HELP cattail_cni_request_duration_seconds Time from a whole request read to its answer written, by command.',
      '# TYPE cattail_cni_request_duration_seconds histogram',
    );
    for (const [command, h] of this.#durations) {
      DURATION_BUCKETS.forEach((le, i) => lines.push(`cattail_cni_request_duration_seconds_bucket{command="${command}",le="${le}"} ${h.counts[i]}`));
      lines.push(`cattail_cni_request_duration_seconds_bucket{command="${command}",le="+Inf"} ${h.count}`);
      lines.push(`cattail_cni_request_duration_seconds_sum{command="${command}"} ${h.sum}`);
      lines.push(`cattail_cni_request_duration_seconds_count{command="${command}"} ${h.count}`);
    }
    lines.push(
      '# HELP cattail_cni_requests_in_flight CNI calls being served now.',
      '# TYPE cattail_cni_requests_in_flight gauge',
      `cattail_cni_requests_in_flight ${this.inFlight}`,
      '# HELP cattail_cni_datastore_connections Datastore connections the daemon keeps open.',
      '# TYPE cattail_cni_datastore_connections gauge',
      `cattail_cni_datastore_connections ${datastoreConnections}`,
    );
    return `${lines.join('\n')}\n`;
  }
}

/** Commands come from the caller: keep label values to a known, escaped set. */
function labelValue(command: string): string {
  return ['ADD', 'DEL', 'CHECK', 'VERSION'].includes(command) ? command : 'unknown';
}
