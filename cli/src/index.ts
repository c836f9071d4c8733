/**
 * Public surface of @cattail/cli: `run()` to drive the CLI in-process (tests, the lab), the
 * command types for packages that contribute commands, the datastore factory type, and the
 * manifest loader with its input limits (for the benchmark in bench/).
 */
export { run } from './run.js';
export { COMMANDS } from './commands/index.js';
export { BINARY_NAME, ETCD_ENDPOINTS_FLAG, HELP_FLAG, KUBECONFIG_FLAG, type Command, type CommandContext } from './command.js';
export type { FlagSpec, ParsedArgs } from './argv.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, type RunOptions, type Writer } from './io.js';
export { DEFAULT_ETCD_ENDPOINTS, type DatastoreFactory, type DatastoreLocation } from './datastore-config.js';
export { INPUT_LIMITS, type InputLimits } from './input-limits.js';
export { loadResources, type LoadOptions, type LoadResult } from './resource-loader.js';
export {
  CliError,
  CommandFailedError,
  DatastoreConfigError,
  DatastoreUnreachableError,
  InputLimitError,
  InterruptedError,
  ResourceRejectedError,
  UsageError,
} from './errors.js';
