/**
 * How v3 policy selectors become the single selectors Felix matches, exactly as libcalico-go's
 * felix update processors build them (updateprocessors/networkpolicyprocessor.go,
 * globalnetworkpolicyprocessor.go, rules.go, selectors.go), down to the text, so the resulting
 * selector unique IDs (and IP set names) are Calico's.
 *
 *   NetworkPolicy ns/p     selector:  (<selector>) && projectcalico.org/namespace == 'ns'
 *                                     then `&& pcsa.<serviceAccountSelector>`
 *   GlobalNetworkPolicy    selector:  (<selector>) && pcns.<namespaceSelector>, every `all()`
 *                                     read as has(projectcalico.org/namespace); then the same
 *                                     with pcsa. and has(projectcalico.org/serviceaccount)
 *   rule entity            (nsSel) && ((saSel) && (selector))   where nsSel is
 *                            pcns.<namespaceSelector> (all() → has(ns label), global() →
 *                            !has(ns label)), or, in a NetworkPolicy without one, its own
 *                            namespace; nsSel applies only when some selector field is set
 *
 * Namespace and service-account labels reach endpoints as profile labels: Calico's Kubernetes
 * conversion gives each namespace a profile `kns.<ns>` whose labelsToApply are the namespace's
 * labels prefixed `pcns.` (plus `pcns.projectcalico.org/name`), and each service account a
 * profile `ksa.<ns>.<sa>` with `pcsa.` labels; workload endpoints list those profiles and
 * inherit the labels (see label-index.ts). `notSelector` is used as written, unscoped, as in
 * Calico.
 *
 * Calico applies the all()/global() rewrites as plain text replacement on the canonical string;
 * so do we, to stay identical. Where Calico logs and drops a selector that does not parse (which
 * silently widens the policy), we throw SelectorSyntaxError and the policy is refused instead.
 */
import {
  formatSelectorNode,
  LABEL_NAMESPACE,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_LABEL_PREFIX,
  parseSelectorCached,
  SERVICE_ACCOUNT_LABEL_PREFIX,
} from '@cattail/api';

const HAS_NAMESPACE = `has(${LABEL_NAMESPACE})`;
const NOT_HAS_NAMESPACE = `!has(${LABEL_NAMESPACE})`;
const HAS_SERVICE_ACCOUNT = `has(${LABEL_SERVICE_ACCOUNT})`;

/** The fields of a rule's source or destination that take part in endpoint selection. */
export interface EntitySelectorFields {
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  serviceAccounts?: { names?: readonly string[]; selector?: string };
}

/** Canonical text of `text` with every label key prefixed (libcalico-go's PrefixVisitor). */
export function prefixSelector(text: string, prefix: string): string {
  return formatSelectorNode(parseSelectorCached(text).root, prefix);
}

/** The selector a NetworkPolicy in `namespace` applies to. */
export function networkPolicySelector(namespace: string, selector = '', serviceAccountSelector = ''): string {
  const nsSel = `${LABEL_NAMESPACE} == '${namespace}'`;
  const sel = selector === '' ? nsSel : `(${selector}) && ${nsSel}`;
  return prefixAndAppend(sel, serviceAccountSelector, SERVICE_ACCOUNT_LABEL_PREFIX);
}

/** The selector a GlobalNetworkPolicy applies to. */
export function globalNetworkPolicySelector(selector = '', namespaceSelector = '', serviceAccountSelector = ''): string {
  let sel = selector;
  if (namespaceSelector !== '') {
    sel = prefixAndAppend(sel, namespaceSelector, NAMESPACE_LABEL_PREFIX).replaceAll('all()', HAS_NAMESPACE);
  }
  if (serviceAccountSelector !== '') {
    sel = prefixAndAppend(sel, serviceAccountSelector, SERVICE_ACCOUNT_LABEL_PREFIX).replaceAll('all()', HAS_SERVICE_ACCOUNT);
  }
  return sel;
}

/**
 * The one selector for the endpoints a rule's source or destination names (libcalico-go
 * `GetEntityRuleSelector`), or '' when it names none. `namespace` is the policy's ('' for a
 * GlobalNetworkPolicy or a profile).
 */
export function entityRuleSelector(er: EntitySelectorFields, namespace: string): string {
  let nsSel = '';
  const namespaceSelector = er.namespaceSelector ?? '';
  if (namespaceSelector !== '') {
    nsSel = prefixSelector(namespaceSelector, NAMESPACE_LABEL_PREFIX).replaceAll('all()', HAS_NAMESPACE).replaceAll('global()', NOT_HAS_NAMESPACE);
  } else if (namespace !== '') {
    nsSel = `${LABEL_NAMESPACE} == '${namespace}'`;
  }

  const selectors: string[] = [];
  const saSel = er.serviceAccounts ? serviceAccountSelector(er.serviceAccounts) : '';
  if (saSel !== '') selectors.push(saSel);
  if (er.selector) selectors.push(er.selector);
  let sel = selectors.length === 0 ? '' : selectors.length === 1 ? selectors[0] : `(${selectors.join(') && (')})`;

  if (nsSel !== '' && (sel !== '' || (er.notSelector ?? '') !== '' || namespaceSelector !== '')) {
    sel = sel !== '' ? `(${nsSel}) && (${sel})` : nsSel;
  }
  return sel;
}

/** libcalico-go `parseServiceAccounts`: `pcsa.`-prefixed selector AND the listed names. */
function serviceAccountSelector(sa: NonNullable<EntitySelectorFields['serviceAccounts']>): string {
  const prefixed = sa.selector ? prefixSelector(sa.selector, SERVICE_ACCOUNT_LABEL_PREFIX) : '';
  const names = sa.names ?? [];
  if (names.length === 0) return prefixed;
  const list = parseSelectorCached(`${LABEL_SERVICE_ACCOUNT} in {${names.map(quote).join(', ')}}`).toString();
  return prefixed === '' ? list : `(${prefixed}) && (${list})`;
}

function prefixAndAppend(current: string, added: string, prefix: string): string {
  if (added === '') return current;
  const prefixed = prefixSelector(added, prefix);
  if (prefixed === '') return current;
  return current === '' ? prefixed : `(${current}) && ${prefixed}`;
}

/** Calico's literal quoting: `"` unless the value holds one (the grammar has no escapes). */
function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}
