/**
 * Calico label selectors: parse, evaluate, canonicalise, identify.
 *
 *   parseSelector("k8s-app == 'dns' && !has(canary)")
 *     .evaluate({ 'k8s-app': 'dns' })             // true
 *   parseSelector("a in {'y', 'x'}").toString()   // 'a in {"x", "y"}'
 *
 * Behaviour follows libcalico-go's `lib/selector` (tokenizer, parser, ast); the module comments
 * of `lexer.ts`, `parser.ts`, `evaluate.ts` and `canonical.ts` record each rule and the few
 * deliberate differences.
 */

// Only the union is exported: the package index re-exports this module with `export *`, and
// member names like `SetNode` would be ambiguous there. Narrow with
// `Extract<SelectorNode, { kind: 'in' | 'notIn' }>`.
export type { SelectorNode } from './ast.js';
export { formatSelectorNode } from './canonical.js';
export { SelectorSyntaxError } from './errors.js';
export type { EvaluateOptions, LabelLookup, LabelSource } from './evaluate.js';
export { SELECTOR_MAX_LABEL_KEY_LENGTH } from './lexer.js';
export { SELECTOR_MAX_NESTING } from './parser.js';
export { createCachedSelectorParser, SELECTOR_PARSE_CACHE_SIZE, parseSelectorCached } from './parse-cache.js';
export { parseSelector, validateSelector, type Selector } from './selector.js';
