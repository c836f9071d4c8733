/**
 * A Kubernetes LabelSelector as Calico selector text (libcalico-go `k8sSelectorToCalico`),
 * byte for byte what Calico stores in the converted policy:
 *
 *   pod selector        "projectcalico.org/orchestrator == 'k8s'" first, then the terms
 *   namespace selector  no orchestrator term; absent → "" (no namespace match); present but
 *                       empty → "all()" (every namespace)
 *   matchLabels         k == 'v', sorted by key
 *   matchExpressions    k in { 'a', 'b' }   k not in { 'a' }   has(k)   ! has(k), in order
 *   joined with " && "
 *
 * This is Calico's literal text, not the canonical form `@cattail/api` prints: Calico keeps the
 * text as built, and Felix canonicalises when it parses (so IP set IDs agree either way). Where
 * Calico silently drops a term with an unknown operator (which widens the selector), we refuse
 * it; and every result is parsed with `@cattail/api`'s selector parser, so a label key or value
 * that would break the text is an error here, not a policy that matches something else.
 */
import { LABEL_ORCHESTRATOR, validateSelector } from '@cattail/api';
import { ORCHESTRATOR_K8S } from './names.js';
import { list, obj, str, strMap } from './read.js';
import { InputProblem } from './result.js';

export type SelectorRole = 'pod' | 'namespace';

function goStringLess(a: string, b: string): number {
  // Go's sort.Strings compares UTF-8 bytes; for label keys (ASCII) that is code-unit order.
  return a < b ? -1 : a > b ? 1 : 0;
}

export function k8sSelectorToCalico(selector: unknown, role: SelectorRole, path: string): string {
  const terms: string[] = role === 'pod' ? [`${LABEL_ORCHESTRATOR} == '${ORCHESTRATOR_K8S}'`] : [];
  const s = obj(selector, path);
  if (!s) return terms.join(' && ');
  const matchLabels = strMap(s.matchLabels, `${path}.matchLabels`);
  const expressions = list(s.matchExpressions, `${path}.matchExpressions`);
  if (role === 'namespace' && Object.keys(matchLabels).length === 0 && expressions.length === 0) return 'all()';

  for (const key of Object.keys(matchLabels).sort(goStringLess)) terms.push(`${key} == '${matchLabels[key]}'`);
  expressions.forEach((e, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const expr = obj(e, at);
    const key = str(expr?.key, `${at}.key`) ?? '';
    const values = list(expr?.values, `${at}.values`).map((v, j) => str(v, `${at}.values[${j}]`) ?? '');
    const operator = str(expr?.operator, `${at}.operator`);
    const set = values.join("', '");
    switch (operator) {
      case 'In':
        terms.push(`${key} in { '${set}' }`);
        break;
      case 'NotIn':
        terms.push(`${key} not in { '${set}' }`);
        break;
      case 'Exists':
        terms.push(`has(${key})`);
        break;
      case 'DoesNotExist':
        terms.push(`! has(${key})`);
        break;
      default:
        throw new InputProblem(`${at}.operator ${JSON.stringify(operator)} is not In, NotIn, Exists or DoesNotExist`);
    }
  });

  const text = terms.join(' && ');
  const problem = validateSelector(text);
  if (problem) throw new InputProblem(`${path} does not make a valid Calico selector (${JSON.stringify(text)}): ${problem}`);
  return text;
}
