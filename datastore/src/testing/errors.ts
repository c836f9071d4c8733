/**
 * Errors of the test harness. They extend the etcd client's EtcdError so one `code` check
 * covers both, and say what to do (install etcd, run setup, look at the log).
 */
import { CattailError, type ErrorCodeOf } from '@cattail/api';
import { EtcdError } from '../etcd/errors.js';

/** The etcd (or etcdctl, openssl) binary is not installed. */
export class EtcdNotFoundError extends EtcdError {
  constructor(message: string) {
    super('ETCD_NOT_FOUND', message);
  }
}

/** etcd did not come up, or a setup command against it failed; the message ends with its log tail. */
export class EtcdStartError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETCD_START_FAILED', message, options);
  }
}

/** kube-apiserver or kubectl is neither in .tools/bin nor on PATH: `npm run setup` builds them. */
export class KubeNotFoundError extends EtcdError {
  constructor(message: string) {
    super('KUBE_NOT_FOUND', message);
  }
}

/** kube-apiserver did not become ready, or a kubectl command failed; the message ends with its log or stderr. */
export class KubeStartError extends EtcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KUBE_START_FAILED', message, options);
  }
}

/** `until` ran out of time: the message says how long it waited and for what. */
export class PollTimeoutError extends CattailError<ErrorCodeOf<'datastore'>> {
  readonly waitedMs: number;
  constructor(ms: number, what: string) {
    super('TEST_POLL_TIMEOUT', `timed out after ${ms} ms waiting for ${what}`);
    this.waitedMs = ms;
  }
}
