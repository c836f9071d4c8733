/**
 * The bounds on what `-f` (a file, a directory, stdin) may give the CLI, declared once with the
 * reason for each. They make the work of reading, parsing and validating proportional to a size
 * we chose, whatever the input: every limit is checked while the input is read or parsed, so an
 * input over one stops the work there instead of after it.
 *
 * Over a limit, the command prints one line naming the file, the document, the limit and the
 * value (`big.yaml: document 1: line 10003, column 5: a mapping with more than 10000 keys (the
 * limit per mapping)`), exits 1 and writes nothing: limits are checked with the rest of the input,
 * before the datastore is opened.
 *
 * Where a reference exists we follow it:
 *   - etcd refuses any request over 1.5 MiB by default (`--max-request-bytes`, etcd's "System
 *     limits"); kube-apiserver accepts request bodies up to twice that, 3 MiB
 *     (`MaxRequestBodyBytes`, "a request body might be encoded in json, and is converted to
 *     proto when persisted in etcd, so we allow 2x"); Kubernetes caps the data of a Secret or
 *     ConfigMap at 1 MiB (`MaxSecretSize`) to stay clear of etcd's limit.
 *   - calicoctl parses with go-yaml (through projectcalico/go-yaml-wrapper), which refuses
 *     nesting deeper than 10,000 levels and "excessive aliasing", and has no limit on keys,
 *     values or documents. Our YAML library composes recursively and overflows the stack at
 *     about 800 levels, so our depth limit is lower.
 *
 * Figures quoted below were measured on the benchmark machine (docs/BENCHMARKS.md, "CLI input").
 */

export interface InputLimits {
  /** Bytes of one file or of stdin. */
  readonly sourceBytes: number;
  /** Bytes of all the files of one command (a directory). */
  readonly totalBytes: number;
  /** YAML documents in one file; each item of a List document counts as one. */
  readonly documents: number;
  /** Values in one file: every scalar (keys too) and alias. */
  readonly valuesPerSource: number;
  /** Levels of nested mappings and sequences in one document (the top-level mapping is 1). */
  readonly depth: number;
  /** Keys of one mapping. */
  readonly keysPerMapping: number;
  /** Aliases (`*name`) in one document. */
  readonly aliasesPerDocument: number;
  /** Bytes of one resource as stored in etcd (its JSON). */
  readonly resourceBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const INPUT_LIMITS: InputLimits = Object.freeze({
  // kube-apiserver's request body limit: the largest manifest Kubernetes tooling accepts in one
  // request. It holds any resource etcd can store (see resourceBytes) twice over with YAML's
  // overhead, and a full file of real manifests takes about 2 s of CPU to load, as long as one
  // file should make the user wait. Larger sets of resources go in a directory.
  sourceBytes: 3 * MiB,
  // Everything read is held in memory until every document is validated (so that an invalid
  // one writes nothing): the text, and about 4 bytes of heap per byte of YAML for the
  // resources. 32 MiB (ten full files, ~100,000 typical resources) stays under 200 MB.
  totalBytes: 32 * MiB,
  // Documents cost parser state whatever their size: a file of bare `---` lines is 4 bytes per
  // empty document, 786,000 of them in 3 MiB (8 s to parse them all). calicoctl
  // writes one request per resource, so 10,000 resources are already minutes of writes.
  documents: 10_000,
  // Parsing and validating cost microseconds per value, whatever its length, so bytes alone do
  // not bound the time: 3 MiB of `[1,1,1,...` is 1.5 million values and took 43 s (the heap it
  // builds makes garbage collection superlinear). Real manifests run at 7 bytes per value or
  // more: 3 MiB of 10,000 IPPools is about 220,000 values, a 1 MiB GlobalNetworkSet of CIDRs
  // 65,000. At 500,000 the largest file of any shape costs about 2.3 s of CPU here.
  valuesPerSource: 500_000,
  // Calico's deepest resources (a policy rule's `source.serviceAccounts.names`) are 7 levels.
  // 100 is far past that and eight times under where the YAML library overflows its stack.
  depth: 100,
  // No Calico resource has a mapping with more than a few hundred keys (FelixConfiguration's
  // spec); labels and annotations are the only open-ended ones, and 10,000 labels are far past
  // any selector's use. Kubernetes bounds annotations by their total size (256 KiB), which
  // the API's validation also enforces.
  keysPerMapping: 10_000,
  // Calico manifests are written by people and tools that do not use aliases; a few for shared
  // rule fragments are plenty. The count bounds the library's alias resolution, which looks up
  // each alias among every anchor before it (aliases × anchors: 20,000 took 6 s), and what an
  // alias can expand
  // to is bounded on its own: a document must still fit `sourceBytes` once its aliases are
  // expanded (the billion-laughs attack).
  aliasesPerDocument: 100,
  // etcd refuses requests over 1.5 MiB by default, and a write is the resource's JSON plus its
  // key and the metadata the datastore adds. Kubernetes keeps Secret and ConfigMap data under
  // 1 MiB for the same reason. Checked before anything is written, so a resource etcd would
  // refuse cannot fail halfway through a batch.
  resourceBytes: 1 * MiB,
});

/** `3 MiB (3145728 bytes)`: the round figure people know, and the exact one to compare with. */
export function formatBytes(bytes: number): string {
  const unit = bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : bytes >= KiB && bytes % KiB === 0 ? `${bytes / KiB} KiB` : '';
  return unit ? `${unit} (${bytes} bytes)` : `${bytes} bytes`;
}

/** The limits for `--help`, a few to a line: `3 MiB per file or stdin, 32 MiB per command`, ... */
export function limitsSummary(l: InputLimits = INPUT_LIMITS): string[] {
  const size = (b: number): string => (b % MiB === 0 ? `${b / MiB} MiB` : `${b} bytes`);
  const n = (v: number): string => v.toLocaleString('en-US');
  return [
    `${size(l.sourceBytes)} per file or stdin, ${size(l.totalBytes)} per command`,
    `${n(l.documents)} documents and ${n(l.valuesPerSource)} values per file`,
    `${n(l.keysPerMapping)} keys per mapping, ${n(l.depth)} levels of nesting`,
    `${n(l.aliasesPerDocument)} aliases per document, ${size(l.resourceBytes)} per stored resource`,
  ];
}
