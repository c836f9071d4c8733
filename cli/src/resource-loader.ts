/**
 * Turns the text of `-f` sources into resources, checking ALL of them before anything is
 * written: the caller gets either resources or a list of problems, never a half-good batch.
 *
 *   source text ─ parseDocuments (YAML 1.2; JSON is YAML; within the input limits) ─▶ documents
 *     ─ expand `kind: List`, `kind: <Kind>List` and top-level arrays ─▶ candidates (counted
 *       against the documents limit) ─ namespace rules (calicoctl's handleNamespace) ─▶
 *       checkResource (strict decode, defaults, validation) and the stored size ─▶ resources |
 *       problems
 *
 * Every problem is one line: `<file>: document <n>: <Kind(ns/name)>: <path>: <reason>`, with
 * documents counted from 1 in file order (a List item adds `, item <i>`, also from 1), and YAML
 * syntax errors and input limits as `<file>: document <n>: line <l>, column <c>: <reason>`.
 *
 * Loading is CPU-bound for seconds on the largest inputs, so it paces itself (pacer.ts): a
 * SIGINT/SIGTERM stops it with InterruptedError within a few tens of milliseconds.
 *
 * `identify` mode (delete -f, get -f) only needs to know WHICH resource a document names, so it
 * checks apiVersion, kind and name and skips full validation: a resource that later rules reject
 * must still be deletable by the file that created it.
 */
import { API_VERSION, checkResource, describeRef, encodeValue, findKind, isPlainObject, refOf, type KindInfo, type Resource } from '@cattail/api';
import { parseDocuments, tooManyDocuments } from './document-parser.js';
import { formatBytes, INPUT_LIMITS, type InputLimits } from './input-limits.js';
import { Pacer } from './pacer.js';
import type { Source } from './source-reader.js';

export interface LoadedResource {
  readonly resource: Resource;
  /** `pools.yaml: document 2` (or `..., item 1`), for messages. */
  readonly origin: string;
}

export interface LoadResult {
  readonly resources: LoadedResource[];
  /** One line per problem; empty when every document is good. */
  readonly problems: string[];
}

export interface LoadOptions {
  mode: 'validate' | 'identify';
  /** -n: fills in namespaced resources that have none, and must agree with those that do. */
  namespace?: string | undefined;
  /** Defaults to INPUT_LIMITS. */
  limits?: InputLimits;
  /** Aborted on SIGINT/SIGTERM: loading stops with InterruptedError. */
  signal?: AbortSignal;
}

interface Candidate {
  value: unknown;
  origin: string;
}

export async function loadResources(sources: readonly Source[], opts: LoadOptions): Promise<LoadResult> {
  const limits = opts.limits ?? INPUT_LIMITS;
  const pacer = new Pacer(opts.signal);
  const resources: LoadedResource[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    pacer.check();
    const entries = await parseSource(source, limits, pacer);
    if (entries.length === 0) problems.push(`No resources specified in file ${source.name}`);
    // In document order, so the problems read top to bottom like the file.
    for (const entry of entries) {
      if (pacer.due()) await pacer.pause();
      if ('problems' in entry) {
        append(problems, entry.problems);
        continue;
      }
      const r = opts.mode === 'validate' ? validateCandidate(entry, opts.namespace, limits) : identifyCandidate(entry, opts.namespace);
      if ('resource' in r) resources.push({ resource: r.resource, origin: entry.origin });
      else append(problems, r.problems);
    }
  }
  pacer.check();
  return { resources, problems };
}

/** A document (or List item) to check, or the problems that stopped it being one. */
type Entry = Candidate | { problems: readonly string[] };

async function parseSource(source: Source, limits: InputLimits, pacer: Pacer): Promise<Entry[]> {
  const out: Entry[] = [];
  let candidates = 0;
  for (const doc of await parseDocuments(source, limits, pacer)) {
    if ('problems' in doc) {
      out.push({ problems: doc.problems });
      continue;
    }
    if (doc.value === null) continue; // an empty document, e.g. after a trailing `---`
    const entries = expand(doc.value, doc.origin);
    candidates += entries.length;
    if (candidates > limits.documents) {
      // The first entry past the limit, by its origin (an item of a List, usually).
      const first = entries[entries.length - (candidates - limits.documents)];
      out.push({ problems: [tooManyDocuments('origin' in first ? first.origin : doc.origin, limits)] });
      break;
    }
    append(out, entries);
  }
  return out;
}

/** `target.push(...items)` for lists of any length (a spread of 200,000 overflows the stack). */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/** The apiVersion of Kubernetes' own `kind: List`, the one list that may mix kinds. */
const K8S_LIST_API_VERSION = 'v1';

/**
 * A document that is a list becomes its items. calicoctl looks a document's apiVersion and kind
 * up in its table of kinds, where each Calico kind also registers its typed list
 * (`projectcalico.org/v3` `IPPoolList`, decoded strictly into that kind's list type, so every
 * item is of that kind); anything else is `Unknown resource type (<kind>) and/or version
 * (<apiVersion>)`. We accept the same typed lists, and also Kubernetes' `v1` `List` (what
 * `kubectl get -o yaml` writes, items of any kind), which calicoctl refuses. A `List` under any
 * other apiVersion (`projectcalico.org/v3` has none) is refused as calicoctl refuses it.
 *
 * Items of a typed list may leave out apiVersion and kind: we fill them in from the list
 * (calicoctl decodes such an item but then finds no handler for its empty kind); an item that
 * names another kind is refused rather than written as what it says it is.
 */
function expand(value: unknown, origin: string): Entry[] {
  if (Array.isArray(value)) return (value as unknown[]).map((v, i) => ({ value: v, origin: `${origin}, item ${i + 1}` }));
  if (!isPlainObject(value) || typeof value.kind !== 'string') return [{ value, origin }];

  const listKind = value.kind;
  let itemKind: KindInfo | undefined;
  if (listKind === 'List') {
    if (value.apiVersion !== K8S_LIST_API_VERSION) return [{ problems: [unknownListProblem(origin, listKind, value.apiVersion)] }];
  } else {
    itemKind = listKind.endsWith('List') ? findKind(listKind.slice(0, -4)) : undefined;
    if (!itemKind || `${itemKind.kind}List` !== listKind) return [{ value, origin }];
    if (value.apiVersion !== API_VERSION) return [{ problems: [unknownListProblem(origin, listKind, value.apiVersion)] }];
  }

  const items = value.items ?? [];
  if (!Array.isArray(items)) {
    return [{ problems: [`${origin}: ${listKind}: items: must be a list of resources`] }];
  }
  return items.map((item, i): Entry => {
    const itemOrigin = `${origin}, item ${i + 1}`;
    if (!itemKind || !isPlainObject(item)) return { value: item, origin: itemOrigin };
    // Items of a typed list may leave out what the list already says, and may not contradict it.
    const wrong: string[] = [];
    if (item.kind !== undefined && item.kind !== itemKind.kind) wrong.push(`kind: must be ${itemKind.kind} in a ${listKind}, not ${JSON.stringify(item.kind)}`);
    if (item.apiVersion !== undefined && item.apiVersion !== API_VERSION) wrong.push(`apiVersion: must be ${API_VERSION}`);
    if (wrong.length) return { problems: wrong.map((w) => `${itemOrigin}: ${describeRaw(item)}: ${w}`) };
    return { value: { apiVersion: API_VERSION, kind: itemKind.kind, ...item }, origin: itemOrigin };
  });
}

function unknownListProblem(origin: string, kind: string, apiVersion: unknown): string {
  const version = typeof apiVersion === 'string' ? apiVersion : '';
  const hint = kind === 'List' ? `a List of any kinds takes apiVersion ${K8S_LIST_API_VERSION}` : `${kind} takes apiVersion ${API_VERSION}`;
  return `${origin}: ${kind}: Unknown resource type (${kind}) and/or version (${version}): ${hint}`;
}

type Checked = { resource: Resource } | { problems: string[] };

interface Issue {
  path: string;
  message: string;
}

function validateCandidate(c: Candidate, cliNamespace: string | undefined, limits: InputLimits): Checked {
  const { value, issues: nsIssues } = applyNamespace(c.value, cliNamespace);
  const result = checkResource(value);
  if (result.ok && nsIssues.length === 0) {
    // What etcd would be sent: a resource it refuses must not fail in the middle of a batch.
    const bytes = Buffer.byteLength(encodeValue(result.resource));
    if (bytes <= limits.resourceBytes) return { resource: result.resource };
    const message = `${bytes} bytes as stored, over the limit of ${formatBytes(limits.resourceBytes)} for one resource`;
    return { problems: [formatProblem(c.origin, describeRef(refOf(result.resource)), { path: '', message })] };
  }
  // The validator says `document` when it could not decode the object; the raw kind and name still help find it.
  const ref = result.ok || result.ref === 'document' ? describeRaw(value) : result.ref;
  const nsPaths = new Set(nsIssues.map((i) => i.path));
  // Our namespace message is calicoctl's; drop the validator's own take on the same field.
  const issues = [...nsIssues, ...(result.ok ? [] : result.issues.filter((i) => !(nsPaths.has(i.path) && i.path !== '')))];
  return { problems: issues.map((i) => formatProblem(c.origin, ref, i)) };
}

function identifyCandidate(c: Candidate, cliNamespace: string | undefined): Checked {
  const { value, issues } = applyNamespace(c.value, cliNamespace);
  if (!isPlainObject(value)) return { problems: [formatProblem(c.origin, 'document', { path: '', message: 'not an object' })] };
  if (value.apiVersion !== API_VERSION) issues.push({ path: 'apiVersion', message: `must be ${API_VERSION}` });
  const kind = typeof value.kind === 'string' ? findKind(value.kind) : undefined;
  if (!kind || kind.kind !== value.kind) issues.push({ path: 'kind', message: `unknown kind ${JSON.stringify(value.kind ?? '')}` });
  const meta = isPlainObject(value.metadata) ? value.metadata : {};
  if (typeof meta.name !== 'string' || meta.name === '') issues.push({ path: 'metadata.name', message: 'is required' });
  if (issues.length) return { problems: issues.map((i) => formatProblem(c.origin, describeRaw(value), i)) };
  return { resource: value as unknown as Resource };
}

/**
 * calicoctl's namespace rules, on a copy: namespaced kinds get -n, else `default`; a namespace in
 * the file must match -n; cluster-scoped kinds may have neither.
 */
function applyNamespace(raw: unknown, cliNamespace: string | undefined): { value: unknown; issues: Issue[] } {
  const issues: Issue[] = [];
  if (!isPlainObject(raw) || typeof raw.kind !== 'string') return { value: raw, issues };
  const kind = findKind(raw.kind);
  if (!kind) return { value: raw, issues };
  if (kind.kubernetesOnly) {
    issues.push({
      path: 'kind',
      message: `${kind.kind} is read from Kubernetes objects by the Kubernetes datastore and cannot be written: edit the Kubernetes object instead`,
    });
    return { value: raw, issues };
  }
  const meta = isPlainObject(raw.metadata) ? raw.metadata : undefined;
  const fileNs = typeof meta?.namespace === 'string' ? meta.namespace : '';
  if (!kind.namespaced) {
    if (fileNs !== '') {
      issues.push({
        path: 'metadata.namespace',
        message: `namespace should not be specified for a non-namespaced resource. ${kind.kind} is not a namespaced resource`,
      });
    } else if (cliNamespace) {
      issues.push({ path: '', message: `${kind.kind} is not namespaced` });
    }
    return { value: raw, issues };
  }
  if (fileNs !== '' && cliNamespace && fileNs !== cliNamespace) {
    issues.push({
      path: 'metadata.namespace',
      message: `resource namespace does not match client namespace. ${fileNs} != ${cliNamespace}`,
    });
    return { value: raw, issues };
  }
  if (fileNs !== '' || !meta) return { value: raw, issues };
  return { value: { ...raw, metadata: { ...meta, namespace: cliNamespace || 'default' } }, issues };
}

function describeRaw(value: unknown): string {
  const ref = refOfRaw(value);
  return ref.kind === 'document' && ref.name === '' ? 'document' : describeRef(ref);
}

function refOfRaw(value: unknown): { kind: string; name: string; namespace?: string } {
  const obj = isPlainObject(value) ? value : {};
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  const ref: { kind: string; name: string; namespace?: string } = {
    kind: typeof obj.kind === 'string' && obj.kind ? obj.kind : 'document',
    name: typeof meta.name === 'string' ? meta.name : '',
  };
  if (typeof meta.namespace === 'string' && meta.namespace) ref.namespace = meta.namespace;
  return ref;
}

function formatProblem(origin: string, ref: string, issue: Issue): string {
  return issue.path ? `${origin}: ${ref}: ${issue.path}: ${issue.message}` : `${origin}: ${ref}: ${issue.message}`;
}
