/**
 * A non-2xx answer of the kube-apiserver. In its own file (not kube-client.ts) so that code which
 * only classifies errors, like the CNI plugin's error mapping, can import it without loading the
 * client and its YAML parser (`@cattail/datastore/errors`).
 */
/** The HTTP status and the Kubernetes Status the server sent, if any. */
export class KubeHttpError extends Error {
  readonly statusCode: number;
  readonly status: { reason?: string; message?: string; code?: number };
  constructor(statusCode: number, status: { reason?: string; message?: string; code?: number }) {
    super(`kube-apiserver answered ${statusCode}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? ''}`);
    this.statusCode = statusCode;
    this.status = status;
  }
}
