/**
 * The WebSocket transport contract beside the messages: where Typha listens, how big a frame may
 * be, how long a close reason may be. Both ends import these so a limit is changed in one place.
 *
 * Frame sizes: the server sets `maxPayload` to MAX_CLIENT_FRAME_BYTES (a client only ever sends a
 * hello and pings, so anything larger is an attack or a bug), the client to
 * MAX_SERVER_FRAME_BYTES. The server cuts snapshot pages and delta batches near
 * TARGET_PAGE_BYTES so that one page is written to thousands of sockets without holding a huge
 * buffer per socket; one update alone may exceed the target, never the maximum.
 */

/** Calico's Typha port, kept so firewall rules and muscle memory carry over. */
export const DEFAULT_PORT = 5473;

/** The HTTP path of the WebSocket upgrade. Other paths (health, metrics) are not the sync stream. */
export const SYNC_PATH = '/sync';

export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
export const MAX_SERVER_FRAME_BYTES = 16 * 1024 * 1024;
export const TARGET_PAGE_BYTES = 512 * 1024;

/** RFC 6455 §5.5: a control frame carries at most 125 bytes, 2 of them the close code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Kubernetes node names are DNS subdomains: at most 253 characters. */
export const MAX_NODE_NAME_LENGTH = 253;
/** Limits on what a hello may carry, so a hostile client cannot make the server allocate. */
export const MAX_FEATURES = 64;
export const MAX_FEATURE_LENGTH = 64;
export const MAX_CLIENT_ID_LENGTH = 256;
