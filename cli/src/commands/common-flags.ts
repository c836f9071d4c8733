/** Flags several resource commands share, spelled and described as calicoctl's. */
import type { FlagSpec } from '../argv.js';

export const FILENAME_FLAG: FlagSpec = {
  name: 'filename',
  short: 'f',
  value: 'FILENAME',
  help: 'File, directory (its .yaml, .yml and .json files) or "-" for stdin.',
};

export const RECURSIVE_FLAG: FlagSpec = {
  name: 'recursive',
  short: 'R',
  help: 'Process the directory given in -f/--filename recursively.',
};

export const NAMESPACE_FLAG: FlagSpec = {
  name: 'namespace',
  short: 'n',
  value: 'NS',
  help: 'Namespace of the resource (NetworkPolicy, NetworkSet, WorkloadEndpoint). Default: "default".',
};

export const ALL_NAMESPACES_FLAG: FlagSpec = {
  name: 'all-namespaces',
  short: 'A',
  help: 'List the requested object(s) across all namespaces.',
};

export const OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  short: 'o',
  value: 'OUTPUT',
  help: 'Output format: ps (default), wide, yaml, json, custom-columns=<COL>,...',
};

export const SKIP_NOT_EXISTS_FLAG: FlagSpec = {
  name: 'skip-not-exists',
  short: 's',
  help: 'Skip over, and treat as successful, resources that do not exist.',
};
