/**
 * Every stable error code of Cattail, in one table: the code, the package that raises it and one
 * line saying what it means. Like undici's `UND_ERR_*` catalog, this is the contract a caller
 * branches on (`err.code === 'DATASTORE_CONFLICT'`), so a code never changes its meaning and is
 * never reused.
 *
 * It lives in `@cattail/api`, the package every other one imports, so that each package's error
 * base is typed by its own row here (`CattailError<ErrorCodeOf<'felix'>>`): a class cannot
 * throw a code that is not listed, and `api/test/error-catalog.test.ts` checks that no code is
 * listed twice, that each has its line, and that `docs/ERRORS.md` is this table rendered
 * (`node scripts/error-catalog.mjs` writes it). Rejected: one table per package, because no
 * package but the root of the workspace sees them all, so uniqueness could only be checked by a
 * script outside the tests.
 *
 * The CNI plugin's codes are numbers: the CNI spec's error object carries an integer `code`
 * (0–99 the spec's, 100+ the plugin's), and that integer is what the runtime reads.
 */

export const ERROR_CATALOG = {
  api: {
    VALIDATION_FAILED: 'a resource failed validation; `issues` lists every problem with its field path',
    CORRUPT_VALUE: 'a value stored in etcd is not a resource (not JSON, wrong shape, or under the wrong key)',
    UNKNOWN_KIND: 'a resource kind nobody knows, or a key outside the etcd layout',
    BAD_KEY: 'a CIDR in an etcd key or name does not parse',
    BAD_NAME: 'a resource has no etcd key: its name (or spec) is not of the form its kind needs',
    NAMESPACE_REQUIRED: 'a namespaced kind was named without a namespace',
    SELECTOR_SYNTAX: 'a selector is not valid Calico selector syntax; the message gives the position and what was expected',
    CONFIG_INVALID: 'a configuration parameter (environment, file or datastore) is missing or invalid; `issues` names each',
  },
  datastore: {
    DATASTORE_NOT_FOUND: 'the resource does not exist',
    DATASTORE_ALREADY_EXISTS: 'create found the resource already there',
    DATASTORE_CONFLICT: 'the resourceVersion precondition failed: someone else wrote first; get it again and retry',
    DATASTORE_COMPACTED: 'the requested revision was compacted: relist, then watch from the list revision',
    DATASTORE_UNAVAILABLE: 'the datastore did not answer; retrying later may succeed',
    DATASTORE_UNSUPPORTED: 'this backend cannot serve the request as asked (the Kubernetes datastore lists and watches one kind per prefix)',
    DATASTORE_READ_ONLY:
      'the Kubernetes datastore derives this resource from a Kubernetes object (Profile, WorkloadEndpoint, knp.default.* NetworkPolicy; Node except its update): change the Kubernetes object instead',
    IPAM_NO_POOLS: 'no enabled IP pool of that version applies to the node',
    IPAM_NO_ADDRESSES: 'the pools are full for this node (no block left, the per-host block limit, or no borrowing)',
    IPAM_CONTENTION: 'an IPAM compare-and-swap kept losing for its whole retry budget: try again',
    IPAM_INVALID_REQUEST: 'the IPAM request itself is wrong (e.g. a requested pool that does not exist)',
    IPAM_ADDRESS_IN_USE: 'a specifically requested address is allocated already or reserved by an IPReservation',
    IPAM_DATASTORE_LOCKED: 'ClusterInformation default has datastoreReady false (the datastore migrate lock): no allocation until it is unlocked',
    IPAM_UNKNOWN_NODE: 'the node has no Node resource: IPAM allocates only for a node the datastore knows',
    ETCD_UNAVAILABLE: 'no etcd endpoint answered, or the connection dropped mid-call',
    ETCD_TIMEOUT: 'the request deadline passed before etcd answered',
    ETCD_COMPACTED: 'etcd compacted the requested revision: relist and watch again',
    ETCD_FUTURE_REVISION: 'a revision newer than the store’s current one was asked for',
    ETCD_AUTH_FAILED: 'etcd login failed (wrong user or password, auth not enabled, or login required)',
    ETCD_PERMISSION_DENIED: 'the etcd user may not do this: check its roles and key permissions',
    ETCD_LEASE_NOT_FOUND: 'etcd does not know the lease',
    ETCD_LEASE_LOST: 'a kept-alive lease expired or could not be renewed in time; its keys are gone',
    ETCD_WATCH_CANCELED: 'etcd canceled a watch for a reason other than compaction',
    ETCD_CLOSED: 'the etcd client was used after close()',
    ETCD_CONFIG: 'the etcd client options make no sense; the message names the option',
    ETCD_REQUEST_FAILED: 'any other gRPC failure from etcd; `grpcCode` is the gRPC status',
    ETCD_NOT_FOUND: 'tests: the etcd (or etcdctl, openssl) binary is not installed',
    ETCD_START_FAILED: 'tests: etcd did not come up, or a setup command failed; the message ends with its log',
    KUBE_NOT_FOUND: 'tests: kube-apiserver or kubectl is not built: run `npm run setup`',
    KUBE_START_FAILED: 'tests: kube-apiserver did not become ready, or a kubectl command failed; the message ends with its log or stderr',
    TEST_POLL_TIMEOUT: 'tests: a polled condition did not hold before the deadline; the message names what was awaited',
  },
  typha: {
    TYPHA_CACHE_NOT_READY: 'a snapshot was asked for before the cache was first in sync with the datastore',
    TYPHA_CACHE_CLOSED: 'the cache or batcher was used after close()',
    TYPHA_CACHE_BAD_OPTION: 'a cache or batcher option is out of range; the message gives the accepted range',
    TYPHA_CLIENT_CONFIG: 'a sync-client option is missing or out of range, or a Typha TLS file cannot be read',
    TYPHA_DISCOVERY_FAILED: 'discovery could not produce a list of Typhas (DNS failure, Kubernetes API error)',
    TYPHA_NO_ENDPOINTS: 'discovery worked but found no Typha to connect to',
    TYPHA_CONNECT_FAILED: 'the TCP/TLS connection or the WebSocket upgrade to Typha failed',
    TYPHA_HANDSHAKE_TIMEOUT: 'no server hello within the handshake timeout',
    TYPHA_READ_TIMEOUT: 'nothing at all received within the read timeout: a half-open connection',
    TYPHA_SERVER_CLOSED: 'Typha closed the connection with a code other than Normal or GoingAway',
    TYPHA_TLS_IDENTITY: 'Typha’s certificate is valid but not the expected identity (CN / URI SAN)',
    TYPHA_MALFORMED_FRAME: 'a frame does not decode, or a field has the wrong type or range',
    TYPHA_UNSUPPORTED_VERSION: 'the peer speaks a protocol version outside the supported range',
    TYPHA_UNKNOWN_SYNCER: 'the client asked for a syncer type this server does not serve',
    TYPHA_UNEXPECTED_MESSAGE: 'a well-formed message of a type the receiver does not accept at that point',
    TYPHA_SERVER_BAD_OPTION: 'a sync-server option is missing or out of range',
    TYPHA_SERVER_BAD_STATE: 'a sync-server method was called in a state that does not allow it',
    TYPHA_SERVER_LISTEN_FAILED: 'the sync server could not open its listener (port in use, bad TLS material)',
  },
  felix: {
    FELIX_INVALID_RESOURCE: 'a resource the calculation graph cannot use; it is treated as deleted until fixed',
    FELIX_DATAPLANE_COMMAND: 'a dataplane command (ip, nft, sysctl, bridge) failed; the message has its stderr',
    FELIX_ENDPOINT_NOT_READY: 'a workload endpoint could not be programmed yet (interface missing); retried',
  },
  confd: {
    CONFD_CONFIG_INVALID: 'a CONFD_* / CALICO_* setting is missing or invalid',
    CONFD_RENDER_FAILED: 'the datastore holds something this node’s BIRD configuration cannot express',
    CONFD_CHECK_FAILED: '`bird -p` rejected the candidate configuration',
    CONFD_RELOAD_REJECTED: 'BIRD refused to reconfigure; the previous file was restored',
    CONFD_BIRD_UNREACHABLE: 'BIRD’s control socket did not answer; the reload is retried',
    CONFD_WRITE_FAILED: 'writing or renaming the BIRD configuration file failed',
    CONFD_INTERNAL: 'an unexpected failure while applying a configuration (a bug)',
  },
  cni: {
    1: 'incompatible CNI version (spec)',
    4: 'invalid necessary environment variables; the message names them (spec)',
    6: 'failed to decode content: stdin is not JSON, or the CNI daemon’s request is malformed or over 1 MiB (spec)',
    7: 'invalid network configuration (spec)',
    11: 'try again later: the datastore is unreachable, a write kept losing races, or the CNI daemon went away mid-call (spec)',
    100: 'internal error: a bug, or something unexpected from the system',
    101: 'IPAM could not assign addresses (no pool for the node, pools full, bad pool request)',
    102: 'the pod’s interface could not be set up or torn down (`ip` failed)',
    103: 'CHECK found the pod’s network different from what ADD made',
    104: 'the datastore refused a write for a reason retrying will not fix',
  },
  'cni-daemon': {
    CNI_DAEMON_SOCKET: 'the CNI daemon cannot take its socket path: another daemon answers there, or the path is not a socket',
    CNI_SHIM_MISSING: 'the built CNI shim (.tools/bin/cattail-cni-shim) is missing or older than tools/cni-shim: run scripts/setup.sh (needs Go)',
  },
  startup: {
    STARTUP_CONFIG: 'a start-up setting (IP, IP6, AS, an autodetection method, a default pool variable) is not valid; the message names the variable',
    STARTUP_NO_ADDRESS: 'the node address was neither configured nor found by the autodetection method; the message says what was searched',
    STARTUP_ADDRESS_CONFLICT: "another Node already uses this node's address (two hosts with one address, or one host under two names)",
    STARTUP_NODE_MISSING: 'on the Kubernetes datastore, no Kubernetes Node of this name exists (the kubelet registers it first)',
  },
  lab: {
    LAB_TOOL_MISSING: 'a program the lab needs is not installed, or the lab is not run as root',
    LAB_STATE_INVALID: 'the lab state file is unreadable or of another shape',
    LAB_TIMEOUT: 'a condition in another process (BIRD, Felix, etcd) did not hold in time',
    LAB_COMMAND_FAILED: 'a command the lab runs (ip, birdc, the CNI plugin) failed',
    LAB_USAGE: 'a lab request that cannot be carried out as asked (bad flag value, mode change on a running lab)',
    LAB_START_FAILED: 'a process the lab started (etcd, Typha, Felix, confd, BIRD) exited at start',
    LAB_INVALID_RESOURCE: 'a resource in the lab’s manifest does not validate',
  },
  cli: {
    CLI_USAGE: 'the command line is wrong (unknown flag, missing value, wrong arguments)',
    CLI_COMMAND_FAILED: 'the command ran and failed; the message is the complete text for the user',
    CLI_DATASTORE_UNREACHABLE: 'no answer from the datastore (etcd at the given endpoints, or the Kubernetes API server)',
    CLI_DATASTORE_CONFIG:
      'the datastore client could not be made (unknown DATASTORE_TYPE, bad endpoint syntax, no or unreadable kubeconfig, unreadable certificate)',
    CLI_INTERRUPTED: 'SIGINT or SIGTERM arrived while the command was working',
    CLI_INPUT_LIMIT: 'the input is over one of the CLI’s input bounds',
    CLI_RESOURCE_VERSION_ON_CREATE: 'create was given a resourceVersion',
    CLI_UPDATE_CONFLICT: 'the resourceVersion given to replace or apply is not the stored one',
    CLI_OPERATION_NOT_SUPPORTED: 'the operation is not allowed on this kind (ClusterInformation is read-only)',
    CLI_VERSION_MISMATCH: 'the cluster runs another Calico version than this client (ClusterInformation calicoVersion); --allow-version-mismatch overrides',
    CLI_PATCH_INVALID:
      'the --patch document cannot be applied (not JSON, wrong shape for its --type, a failed JSON Patch test or path, or it changes the resource identity)',
    CLI_LABEL_REFUSED: 'label would change an existing value without --overwrite, or remove a key that is not there',
    CLI_BIRD_UNAVAILABLE: 'BIRD’s control socket cannot be reached, or answered outside its protocol (node status)',
  },
  bench: {
    BENCH_USAGE: 'a benchmark command-line value is malformed or out of range',
  },
  loadtest: {
    LOADTEST_USAGE: 'a bad load-test command line',
    LOADTEST_K6_MISSING: 'k6 is not installed and could not be built',
    LOADTEST_TIMEOUT: 'something the load test depends on did not happen in time',
  },
  image: {
    IMAGE_BAD_INPUT: 'an image or layer description is wrong (a path outside the image, a missing source file, a bad reference name); nothing was written',
    IMAGE_TOOL_MISSING: 'a program the image build needs (debootstrap, chroot, runc) is not installed, or the build is not run as root',
    IMAGE_BUILD_FAILED: 'a step of the image build failed (debootstrap, apt-get in the chroot, npm, esbuild, the SEA blob); the message ends with its output',
    IMAGE_INVALID_ARCHIVE: 'an OCI archive read back does not hold together (a digest, size or media type that does not match)',
  },
} as const satisfies Readonly<Record<string, Readonly<Record<string | number, string>>>>;

export type ErrorPackage = keyof typeof ERROR_CATALOG;

/** The codes one package may raise. */
export type ErrorCodeOf<P extends ErrorPackage> = keyof (typeof ERROR_CATALOG)[P];

/** Every stable code. */
export type ErrorCode = { [P in ErrorPackage]: ErrorCodeOf<P> }[ErrorPackage];

/** `docs/ERRORS.md`: the catalog as Markdown, one table per package, in catalog order. */
export function renderErrorCatalog(): string {
  const out = [
    '# Error codes',
    '',
    '<!-- Generated from api/src/error-catalog.ts by `node scripts/error-catalog.mjs`; do not edit. -->',
    '',
    'Every error Cattail raises carries a stable `code` (and the low-level `cause`). Branch on the',
    'code, never on the message. The CNI plugin’s codes are the integers of the CNI error object.',
  ];
  for (const [pkg, codes] of Object.entries(ERROR_CATALOG)) {
    out.push('', `## ${pkg}`, '', '| code | meaning |', '| --- | --- |');
    for (const [code, meaning] of Object.entries(codes)) out.push(`| \`${code}\` | ${meaning.replaceAll('|', '\\|')} |`);
  }
  out.push('');
  return out.join('\n');
}
