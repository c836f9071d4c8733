/**
 * BGPConfiguration: cluster-wide BGP settings (`default`) or per-node overrides
 * (`node.<nodename>`). libcalico-go fills no defaults on create; the documented defaults
 * (mesh on, AS 64512, port 179, log level Info) are what readers assume for absent fields.
 *
 * Rules: the mesh password and restart time need the mesh; the mesh switch, AS number and
 * service CIDRs (and the mesh settings) belong on `default` only (clientv3
 * `ValidateDefaultOnlyFields`); communities must be used by a prefix advertisement, and a prefix
 * advertisement's communities are values (aa:nn, aa:nn:mm) or names defined in `communities`.
 */
import type { ValidationIssue } from '../errors.js';
import { asNumber, cidr, duration, ip, LOG_LEVELS, name, portNumber, secretKeyRef } from '../validation/fields.js';
import { communityValue } from '../validation/formats.js';
import { asArray, asObject, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, bool, obj, oneOf, str, test, type Infer } from '../validation/schema.js';

const serviceCIDR = () => arr(obj({ cidr: cidr({ masked: true, bareIP: true }) }, { required: ['cidr'] }));
const ENABLED = ['Enabled', 'Disabled'] as const;

const ignoredInterface = (s: string) =>
  s !== '*' && /^[a-zA-Z0-9_.*-]{1,15}$/.test(s)
    ? undefined
    : `"${s}" is not an interface pattern: 1 to 15 letters, digits, '_', '.', '-' or '*' wildcards (not "*" alone)`;

const spec = obj({
  logSeverityScreen: oneOf(LOG_LEVELS),
  nodeToNodeMeshEnabled: bool(),
  asNumber: asNumber(),
  serviceLoadBalancerIPs: serviceCIDR(),
  serviceExternalIPs: serviceCIDR(),
  serviceClusterIPs: serviceCIDR(),
  communities: arr(obj({ name: name(), value: str({ check: test(communityValue) }) }, { required: ['name', 'value'] })),
  prefixAdvertisements: arr(obj({ cidr: cidr({ masked: true, bareIP: true }), communities: arr(str()) }, { required: ['cidr', 'communities'] })),
  listenPort: portNumber(),
  nodeMeshPassword: secretKeyRef(),
  nodeMeshMaxRestartTime: duration(),
  bindMode: oneOf(['None', 'NodeIP'] as const),
  ignoredInterfaces: arr(str({ check: test(ignoredInterface) }), { unique: true }),
  localWorkloadPeeringIPV4: ip(4),
  localWorkloadPeeringIPV6: ip(6),
  programClusterRoutes: oneOf(ENABLED),
  serviceLoadBalancerAggregation: oneOf(ENABLED),
});

export type BGPConfigurationSpec = Infer<typeof spec>;

const DEFAULT_ONLY = [
  'nodeToNodeMeshEnabled',
  'asNumber',
  'serviceLoadBalancerIPs',
  'serviceExternalIPs',
  'serviceClusterIPs',
  'nodeMeshPassword',
  'nodeMeshMaxRestartTime',
] as const;

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  if (s.nodeToNodeMeshEnabled === false) {
    for (const field of ['nodeMeshPassword', 'nodeMeshMaxRestartTime'] as const) {
      if (s[field] !== undefined) {
        issues.push({ path: `spec.${field}`, message: 'cannot be set when nodeToNodeMeshEnabled is false' });
      }
    }
  }
  if (res.metadata.name !== 'default') {
    for (const field of DEFAULT_ONLY) {
      const v = s[field];
      if (Array.isArray(v) ? v.length > 0 : v !== undefined) {
        issues.push({ path: `spec.${field}`, message: 'can only be set on the BGPConfiguration named "default"' });
      }
    }
  }

  const communities = asArray(s.communities);
  const defined = new Set(communities.map((c) => asObject(c)?.name).filter((n) => typeof n === 'string'));
  const advertisements = asArray(s.prefixAdvertisements);
  if (communities.length > 0 && advertisements.length === 0) {
    issues.push({
      path: 'spec.communities',
      message: 'are defined but not used: reference them from prefixAdvertisements',
    });
  }
  advertisements.forEach((pa, i) => {
    asArray(asObject(pa)?.communities).forEach((c, j) => {
      if (typeof c !== 'string') return;
      const at = `spec.prefixAdvertisements[${i}].communities[${j}]`;
      if (/^\d+:\d+(:\d+)?$/.test(c)) {
        const problem = communityValue(c);
        if (problem) issues.push({ path: at, message: problem });
      } else if (!defined.has(c)) {
        issues.push({
          path: at,
          message: `"${c}" is neither a community value (aa:nn or aa:nn:mm) nor a name defined in spec.communities`,
        });
      }
    });
  });
}

export const bgpConfiguration: KindDef = { kind: 'BGPConfiguration', spec, rules };
