// The daemon's Prometheus text: counters by command and result, a cumulative histogram per
// command, caller-given commands kept to a known label set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonMetrics } from '../src/daemon-metrics.js';

test('requests and durations in the text exposition format', () => {
  const m = new DaemonMetrics();
  m.record('ADD', 'ok', 0.03);
  m.record('ADD', 'ok', 0.2);
  m.record('ADD', 'error', 0.004);
  m.record('rm -rf', 'rejected', 0);
  m.inFlight = 2;
  const text = m.render(1);
  assert.match(text, /^cattail_cni_requests_total\{command="ADD",result="ok"\} 2$/m);
  assert.match(text, /^cattail_cni_requests_total\{command="ADD",result="error"\} 1$/m);
  assert.match(text, /^cattail_cni_requests_total\{command="unknown",result="rejected"\} 1$/m);
  assert.match(text, /^cattail_cni_request_duration_seconds_bucket\{command="ADD",le="0.005"\} 1$/m);
  assert.match(text, /^cattail_cni_request_duration_seconds_bucket\{command="ADD",le="0.05"\} 2$/m);
  assert.match(text, /^cattail_cni_request_duration_seconds_bucket\{command="ADD",le="\+Inf"\} 3$/m);
  assert.match(text, /^cattail_cni_request_duration_seconds_count\{command="ADD"\} 3$/m);
  assert.match(text, /^cattail_cni_requests_in_flight 2$/m);
  assert.match(text, /^cattail_cni_datastore_connections 1$/m);
  assert.doesNotMatch(text, /rm -rf/);
});
