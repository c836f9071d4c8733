/**
 * The text of one `-f` source → its YAML documents as plain values, within the input limits and
 * in time linear in the text:
 *
 *   text ─ Lexer ─▶ lexemes, values counted ─ Parser ─▶ after each lexeme: depth and key count
 *     of the nodes still open (parser.stack) ─▶ document tokens, counted ─ Composer ─▶ one
 *     Document at a time
 *     ─ duplicate keys (a Set per mapping), aliases counted ─▶ toJS ─ (with aliases) depth, size
 *     and cycles of the expanded value ─▶ value | problems
 *
 * Why not `parseAllDocuments(text, { uniqueKeys: true })`, as before: the library checks each
 * key of a mapping against every key before it, O(n²) (a mapping of 40,000 keys took 9 s, one of
 * 200,000 did not finish); it composes recursively, so some 800 levels of nesting overflow the
 * stack; it resolves each alias by scanning every anchor before it; and it holds every document
 * of the stream until the end. Driving lexer, parser and composer ourselves (the library's
 * documented streaming API) lets a limit stop the work as soon as the input crosses it, before
 * the composer recurses or allocates for what is past it, and lets go of each document once it
 * is a value. Duplicate keys are still an error, found with one Set per mapping and reported in
 * the library's words and position ("Map keys must be unique").
 *
 * A limit crossed while parsing (values, documents, depth, keys per mapping) ends the source: its last
 * entry is that one problem, and the rest of the text is not read. A limit found in a composed
 * document (aliases, their expansion) is a problem of that document only.
 *
 * Depth is counted as the parser nests, which is how the composer recurses: a `[a: 1]` pair in a
 * flow sequence is a one-key mapping in the value that the parser does not count as a level.
 */
import { Composer, CST, isAlias, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser, type Document } from 'yaml';
import { firstLine } from './errors.js';
import type { InputLimits } from './input-limits.js';
import type { Pacer } from './pacer.js';
import type { Source } from './source-reader.js';

/** One document of a source: its value (null for an empty document), or why there is none. */
export type ParsedDocument = { readonly origin: string; readonly value: unknown } | { readonly origin: string; readonly problems: readonly string[] };

/**
 * What the lexer yields before a plain or block scalar's text; quoted scalars (`"`, `'`) and
 * aliases (`*`) come as one lexeme. One per value: keys, strings, numbers, aliases.
 */
const SCALAR_MARK = CST.SCALAR;
const VALUE_START = new Set(['"', "'", '*'].map((c) => c.charCodeAt(0)));

interface Breach {
  offset: number;
  message: string;
}

export async function parseDocuments(source: Source, limits: InputLimits, pacer: Pacer): Promise<ParsedDocument[]> {
  const out: ParsedDocument[] = [];
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: false });
  const origin = (n: number): string => `${source.name}: document ${n}`;
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `line ${line}, column ${col}: `;
  };
  let started = 0; // document tokens from the parser: the one being parsed is number started + 1
  let composed = 0;

  // Returns false when the source must stop here (a limit was crossed).
  const take = async (tokens: Iterable<CST.Token>): Promise<boolean> => {
    for (const token of tokens) {
      if (token.type === 'document' && ++started > limits.documents) {
        out.push({ origin: origin(started), problems: [tooManyDocuments(origin(started), limits)] });
        return false;
      }
      for (const doc of composer.next(token)) {
        out.push(finishDocument(doc, origin(++composed), at, limits));
        if (pacer.due()) await pacer.pause();
      }
    }
    return true;
  };

  let values = 0;
  let scalarText = false; // the lexeme after a scalar marker is the scalar's text, whatever it starts with
  lines.addNewLine(0); // what Parser.parse() does before the first lexeme
  for (const lexeme of new Lexer().lex(source.text)) {
    if (scalarText) {
      scalarText = false;
    } else if (lexeme === SCALAR_MARK) {
      values++;
      scalarText = true;
    } else if (VALUE_START.has(lexeme.charCodeAt(0))) {
      values++;
    }
    if (!(await take(parser.next(lexeme)))) return out;
    const breach =
      values > limits.valuesPerSource
        ? { offset: parser.offset, message: `more than ${limits.valuesPerSource} values in one file, over the limit; split the file` }
        : openNodesBreach(parser.stack, parser.offset, limits);
    if (breach) {
      const where = origin(started + 1);
      out.push({ origin: where, problems: [`${where}: ${at(breach.offset)}${breach.message}`] });
      return out;
    }
    if (pacer.due()) await pacer.pause();
  }
  if (!(await take(parser.end()))) return out;
  for (const doc of composer.end()) out.push(finishDocument(doc, origin(++composed), at, limits));
  return out;
}

/** The problem line for the first document (or List item) past the documents limit. */
export function tooManyDocuments(origin: string, limits: InputLimits): string {
  return `${origin}: more than ${limits.documents} documents in one file (each List item counts as one), over the limit; split the file`;
}

/**
 * Depth and keys per mapping of what the parser has open. O(1) per lexeme: a mapping only grows
 * while it is on top of the stack, and the depth is only counted once the stack is deeper than
 * the limit could allow.
 */
function openNodesBreach(stack: readonly CST.Token[], offset: number, limits: InputLimits): Breach | undefined {
  const top = stack[stack.length - 1];
  if (top && (top.type === 'block-map' || (top.type === 'flow-collection' && top.start.source === '{'))) {
    const items: readonly CST.CollectionItem[] = top.items;
    if (items.length > limits.keysPerMapping) {
      // The last item may be only the comments or comma before a key that has not come yet.
      const last = items[items.length - 1];
      const keys = isEntry(last) ? items.length : items.length - 1;
      if (keys > limits.keysPerMapping) {
        return {
          offset: last.key?.offset ?? offset,
          message: `a mapping with more than ${limits.keysPerMapping} keys, over the limit per mapping`,
        };
      }
    }
  }
  // One frame is the document; at most one more is a scalar being read.
  if (stack.length > limits.depth + 1) {
    let depth = 0;
    let deepest: CST.Token | undefined;
    for (const t of stack) {
      if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
        depth++;
        deepest = t;
      }
    }
    if (depth > limits.depth && deepest) {
      return { offset: deepest.offset, message: `nested more than ${limits.depth} levels deep, over the limit` };
    }
  }
  return undefined;
}

function isEntry(item: CST.CollectionItem & { explicitKey?: true }): boolean {
  return item.key !== undefined || item.sep !== undefined || item.value !== undefined || item.explicitKey === true;
}

function finishDocument(doc: Document.Parsed, origin: string, at: (offset: number) => string, limits: InputLimits): ParsedDocument {
  const { duplicates, aliases } = scanNodes(doc.contents);
  const errors: Breach[] = doc.errors.map((e) => ({ offset: e.pos[0], message: firstLine(e.message) }));
  for (const offset of duplicates) errors.push({ offset, message: 'Map keys must be unique' });
  if (aliases.length > limits.aliasesPerDocument) {
    aliases.sort((a, b) => a - b);
    errors.push({
      offset: aliases[limits.aliasesPerDocument],
      message: `${aliases.length} aliases in one document, over the limit of ${limits.aliasesPerDocument}`,
    });
  }
  if (errors.length) {
    errors.sort((a, b) => a.offset - b.offset);
    return { origin, problems: errors.map((e) => `${origin}: ${at(e.offset)}${e.message}`) };
  }
  let value: unknown;
  try {
    // Our own limits bound the aliases: the library's count would only add its O(n) walk per alias.
    value = doc.toJS({ maxAliasCount: -1 });
  } catch (err) {
    return { origin, problems: [`${origin}: ${firstLine(err)}`] };
  }
  if (aliases.length > 0) {
    const problem = expansionProblem(value, limits);
    if (problem) return { origin, problems: [`${origin}: ${problem}`] };
  }
  return { origin, value: value ?? null };
}

/** Offsets of repeated keys and of every alias, in one pass over the document's nodes. */
function scanNodes(root: unknown): { duplicates: number[]; aliases: number[] } {
  const duplicates: number[] = [];
  const aliases: number[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        // The library's own test: scalar keys are equal when their values are (===).
        if (isScalar(key)) {
          const k = key.value;
          if (seen.has(k) && !(typeof k === 'number' && Number.isNaN(k))) duplicates.push(key.range?.[0] ?? 0);
          else seen.add(k);
        } else if (key !== null && key !== undefined) {
          stack.push(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    } else if (isPair(node)) {
      stack.push(node.key, node.value);
    } else if (isAlias(node)) {
      aliases.push(node.range?.[0] ?? 0);
    }
  }
  return { duplicates, aliases };
}

/**
 * With aliases, the value shares nodes (an alias is the anchored object itself), so a small text
 * can stand for a huge value (the billion-laughs attack) or loop back into itself. Measures the
 * value as it would be written out, each object once (memoized), and says what is wrong.
 */
function expansionProblem(root: unknown, limits: InputLimits): string | undefined {
  if (!isObject(root)) return undefined;
  const measured = new Map<object, { depth: number; bytes: number }>();
  const open = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack[stack.length - 1];
    if (measured.has(node)) {
      stack.pop();
      continue;
    }
    if (!open.has(node)) {
      // First visit: measure the children first. `open` holds exactly the ancestors of `node`.
      open.add(node);
      for (const child of Object.values(node)) {
        if (!isObject(child) || measured.has(child)) continue;
        if (open.has(child)) return 'an alias refers to a node that contains it, so the document never ends';
        stack.push(child);
      }
      continue;
    }
    stack.pop();
    open.delete(node);
    let depth = 0;
    let bytes = 2; // [] or {}
    const isArray = Array.isArray(node);
    const entries = Object.entries(node);
    for (const [key, child] of entries) {
      if (!isArray) bytes += key.length + 3; // "key":
      if (isObject(child)) {
        const m = measured.get(child)!;
        depth = Math.max(depth, m.depth);
        bytes += m.bytes;
      } else {
        bytes += scalarBytes(child);
      }
    }
    bytes += Math.max(0, entries.length - 1); // commas
    measured.set(node, { depth: depth + 1, bytes });
  }
  const { depth, bytes } = measured.get(root)!;
  if (depth > limits.depth) return `aliases nest the document ${depth} levels deep, over the limit of ${limits.depth}`;
  if (bytes > limits.sourceBytes) {
    return `aliases expand the document to about ${Math.round(bytes)} bytes of JSON, over the limit of ${limits.sourceBytes} for one document`;
  }
  return undefined;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

function scalarBytes(v: unknown): number {
  if (typeof v === 'string') return v.length + 2;
  if (v === null || v === undefined) return 4;
  return String(v).length;
}
