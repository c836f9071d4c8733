/**
 * KubeControllersConfiguration: calico-kube-controllers' settings. There is one, named
 * `default` (libcalico-go clientv3 refuses any other name on create).
 *
 * Defaults, as clientv3's `validateAndFillDefaults` and the CRD's `+kubebuilder:default`s fill
 * them: prometheusMetricsPort 9094, healthChecks Enabled, the node controller's leakGracePeriod
 * 15m0s (when the node controller is configured), the LoadBalancer controller's assignIPs
 * AllServices and the policy migrator Enabled (when configured). Durations are stored as Go
 * prints them (`5m` → `5m0s`). (clientv3 also means to default a host endpoint template's
 * nodeSelector to `all()`, but sets it on a loop copy, so Calico stores none; neither do we.)
 *
 * Host endpoint templates (clientv3): each needs a generateName, unique among the templates,
 * and at least one interface CIDR.
 */
import type { ValidationIssue } from '../errors.js';
import { cidr, duration, labels, name, regexp, selector } from '../validation/fields.js';
import { asArray, asObject, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, int, item, mapOf, obj, oneOf, str, type Infer } from '../validation/schema.js';
import { onlyDefault } from './cluster-information.js';

const MODE = ['Enabled', 'Disabled'] as const;
const reconciler = () => obj({ reconcilerPeriod: duration() });

const template = obj({
  generateName: name(),
  interfaceCIDRs: arr(cidr({ bareIP: true }), { unique: true }),
  interfacePattern: regexp(),
  labels: labels(),
  nodeSelector: selector(),
});

const spec = obj({
  logSeverityScreen: oneOf(['None', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'Panic'] as const),
  healthChecks: oneOf(MODE),
  etcdV3CompactionPeriod: duration(),
  prometheusMetricsPort: int(0, 65535),
  debugProfilePort: int(0, 65535),
  controllers: obj({
    node: obj({
      reconcilerPeriod: duration(),
      syncLabels: oneOf(MODE),
      hostEndpoint: obj({ autoCreate: oneOf(MODE), createDefaultHostEndpoint: oneOf(MODE), templates: arr(template) }),
      leakGracePeriod: duration(),
    }),
    policy: reconciler(),
    workloadEndpoint: reconciler(),
    serviceAccount: reconciler(),
    namespace: reconciler(),
    loadBalancer: obj({ assignIPs: oneOf(['AllServices', 'RequestedServicesOnly'] as const) }),
    policyMigration: obj({ enabled: oneOf(MODE) }),
  }),
});

export type KubeControllersConfigurationSpec = Infer<typeof spec>;

const status = obj({ runningConfig: spec, environmentVars: mapOf(str()) });

function defaults(res: WithSpec): void {
  const s = res.spec;
  if (s.prometheusMetricsPort === undefined) s.prometheusMetricsPort = 9094;
  if (s.healthChecks === undefined || s.healthChecks === '') s.healthChecks = 'Enabled';
  const controllers = asObject(s.controllers);
  const node = asObject(controllers?.node);
  if (node && node.leakGracePeriod === undefined) node.leakGracePeriod = '15m0s';
  const lb = asObject(controllers?.loadBalancer);
  if (lb && (lb.assignIPs === undefined || lb.assignIPs === '')) lb.assignIPs = 'AllServices';
  const migration = asObject(controllers?.policyMigration);
  if (migration && (migration.enabled === undefined || migration.enabled === '')) migration.enabled = 'Enabled';
}

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const hep = asObject(asObject(asObject(res.spec.controllers)?.node)?.hostEndpoint);
  const seen = new Set<string>();
  asArray(hep?.templates).forEach((t, i) => {
    const tpl = asObject(t) ?? {};
    const path = item('spec.controllers.node.hostEndpoint.templates', i);
    const gen = typeof tpl.generateName === 'string' ? tpl.generateName : '';
    if (gen === '') issues.push({ path: `${path}.generateName`, message: 'is required: it makes the generated host endpoint names unique' });
    else if (seen.has(gen)) issues.push({ path: `${path}.generateName`, message: `"${gen}" is used by another template: each must be unique` });
    seen.add(gen);
    if (asArray(tpl.interfaceCIDRs).length === 0) issues.push({ path: `${path}.interfaceCIDRs`, message: 'is required: list at least one CIDR' });
  });
}

export const kubeControllersConfiguration: KindDef = {
  kind: 'KubeControllersConfiguration',
  spec,
  status,
  name: onlyDefault('KubeControllersConfiguration'),
  defaults,
  rules,
};
