/**
 * FelixConfiguration: every setting of Calico's Felix (projectcalico/api `felixconfig.go` and the
 * v3 CRD), so a FelixConfiguration exported from a real Calico cluster decodes strictly. Three
 * fields Calico has since removed (iptablesLockFilePath, iptablesLockTimeout,
 * bpfKubeProxyEndpointSlicesEnabled) are still accepted, as older clusters carry them.
 *
 * Names: `default` (cluster-wide), `node.<nodename>` (one node) or any other name with a
 * `nodeSelector` (newer Calico). No defaults are filled on create: Felix applies its own for
 * absent fields, and a per-node resource must not override the cluster-wide one with a default.
 *
 * Value checks follow libcalico-go's validator: enums (case-insensitive where Felix's parser is),
 * Go durations, ports, IPv4/IPv6 source addresses, regexes, interface names, route tables.
 */
import type { ValidationIssue } from '../errors.js';
import { cidr, duration, interfaceName, ip, LOG_LEVELS, portOrRange, regexp, selector } from '../validation/fields.js';
import { dnsLabel, duration as durationText, interfaceMatch } from '../validation/formats.js';
import { asArray, asObject, isSet, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, bool, int, intOrStr, mapOf, obj, oneOf, str, test, type Infer } from '../validation/schema.js';

const ENABLED = ['Enabled', 'Disabled'] as const;
const enabled = () => oneOf(ENABLED);
const ci = <const T extends string>(values: readonly T[]) => oneOf(values, { ci: true });
const u32 = () => int(0, 0xffffffff);
const port = () => int(1, 65535);
const portOrZero = () => int(0, 65535);
const mtu = () => int(0, 65535);
const mapSize = () => int(0);
const nonNegative = () => int(0);
const goSetting = () => int(-1);
const portRange = () => intOrStr(test((v: number | string) => portOrRange(v, false)));
const ifaceRegexp = regexp;
const pattern = (re: RegExp, what: string) => str({ check: test((s: string) => (re.test(s) ? undefined : `"${s}" is not ${what}`)) });

const conntrackTimeout = () => str({ check: test((s: string) => (s === 'Auto' ? undefined : durationText(s) && `${durationText(s)}, or Auto`)) });

const protoPort = () => obj({ protocol: oneOf(['TCP', 'UDP', 'SCTP'] as const), port: portOrZero(), net: cidr({ bareIP: true }) }, { required: ['port'] });

const routeTableRange = () => obj({ min: int(), max: int() }, { required: ['min', 'max'] });

const spec = obj({
  // Dataplane driver and refresh intervals.
  useInternalDataplaneDriver: bool(),
  dataplaneDriver: str(),
  dataplaneWatchdogTimeout: duration(),
  ipv6Support: bool(),
  routeRefreshInterval: duration(),
  interfaceRefreshInterval: duration(),
  iptablesRefreshInterval: duration(),
  iptablesPostWriteCheckInterval: duration(),
  iptablesLockFilePath: str(),
  iptablesLockTimeout: duration(),
  iptablesLockProbeInterval: duration(),
  featureDetectOverride: pattern(
    /^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$/,
    'a list of Feature=true|false (e.g. "SNATFullyRandom=true,MASQFullyRandom=false")',
  ),
  featureGates: pattern(
    /^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$/,
    'a list of Feature=value (e.g. "BPFConnectTimeLoadBalancingWorkaround=enabled")',
  ),
  ipsetsRefreshInterval: duration(),
  maxIpsetSize: nonNegative(),
  iptablesBackend: oneOf(['Legacy', 'NFT', 'Auto'] as const),
  xdpRefreshInterval: duration(),
  netlinkTimeout: duration(),
  metadataAddr: str(),
  metadataPort: port(),
  openstackRegion: str({ maxLength: 63 - 'openstack-region-'.length, check: test(dnsLabel) }),
  interfacePrefix: str(),
  interfaceExclude: str(),
  chainInsertMode: ci(['Insert', 'Append'] as const),
  defaultEndpointToHostAction: oneOf(['Drop', 'Accept', 'Return'] as const),
  iptablesFilterAllowAction: oneOf(['Accept', 'Return'] as const),
  iptablesMangleAllowAction: oneOf(['Accept', 'Return'] as const),
  iptablesFilterDenyAction: oneOf(['Drop', 'Reject'] as const),
  logPrefix: pattern(/^[a-zA-Z0-9%: /_-]*$/, 'a log prefix: letters, digits, spaces and % : / _ -'),
  logFilePath: str(),
  logSeverityFile: oneOf(LOG_LEVELS),
  logSeverityScreen: oneOf(LOG_LEVELS),
  logSeveritySys: oneOf(LOG_LEVELS),
  logDebugFilenameRegex: regexp(),
  logActionRateLimit: pattern(/^[1-9]\d{0,3}\/(second|minute|hour|day)$/, 'a rate like 10/second (N/second|minute|hour|day, N in 1..9999)'),
  logActionRateLimitBurst: int(0, 9999),
  // Encapsulation.
  ipipEnabled: bool(),
  ipipMTU: mtu(),
  vxlanEnabled: bool(),
  vxlanMTU: mtu(),
  vxlanMTUV6: mtu(),
  vxlanPort: port(),
  vxlanVNI: int(1, 0xffffff),
  allowVXLANPacketsFromWorkloads: bool(),
  allowIPIPPacketsFromWorkloads: bool(),
  // Status reporting, health, metrics.
  reportingInterval: duration(),
  reportingTTL: duration(),
  endpointReportingEnabled: bool(),
  endpointReportingDelay: duration(),
  endpointStatusPathPrefix: str(),
  iptablesMarkMask: u32(),
  disableConntrackInvalidCheck: bool(),
  healthEnabled: bool(),
  healthHost: str(),
  healthPort: port(),
  healthTimeoutOverrides: arr(
    obj(
      {
        name: pattern(/^[a-zA-Z0-9_ -]+$/, 'a health component name (letters, digits, spaces, _ and -)'),
        timeout: duration(),
      },
      { required: ['name', 'timeout'] },
    ),
  ),
  prometheusMetricsEnabled: bool(),
  prometheusMetricsHost: pattern(/^[a-zA-Z0-9:._+-]{1,64}$/, 'a host name or address (up to 64 characters)'),
  prometheusMetricsPort: port(),
  prometheusGoMetricsEnabled: bool(),
  prometheusProcessMetricsEnabled: bool(),
  prometheusWireGuardMetricsEnabled: bool(),
  prometheusMetricsCertFile: str(),
  prometheusMetricsKeyFile: str(),
  prometheusMetricsCAFile: str(),
  prometheusMetricsClientAuth: str(),
  failsafeInboundHostPorts: arr(protoPort()),
  failsafeOutboundHostPorts: arr(protoPort()),
  kubeNodePortRanges: arr(portRange(), { maxItems: 7 }),
  policySyncPathPrefix: str(),
  usageReportingEnabled: bool(),
  usageReportingInitialDelay: duration(),
  usageReportingInterval: duration(),
  // NAT and routes.
  natPortRange: portRange(),
  natOutgoingAddress: ip(4),
  natOutgoingExclusions: oneOf(['IPPoolsOnly', 'IPPoolsAndHostIPs'] as const),
  deviceRouteSourceAddress: ip(4),
  deviceRouteSourceAddressIPv6: ip(6),
  deviceRouteProtocol: int(0, 255),
  removeExternalRoutes: bool(),
  ipForwarding: enabled(),
  externalNodesList: arr(cidr({ version: 4, bareIP: true })),
  iptablesNATOutgoingInterfaceFilter: str({ check: test(interfaceMatch) }),
  routeSource: ci(['WorkloadIPs', 'CalicoIPAM'] as const),
  routeTableRanges: arr(routeTableRange()),
  routeTableRange: routeTableRange(),
  routeSyncDisabled: bool(),
  programClusterRoutes: enabled(),
  ipv4NormalRoutePriority: nonNegative(),
  ipv4ElevatedRoutePriority: nonNegative(),
  ipv6NormalRoutePriority: nonNegative(),
  ipv6ElevatedRoutePriority: nonNegative(),
  liveMigrationRouteConvergenceTime: duration(),
  localSubnetL2Reachability: oneOf(['Disabled', 'PodsAndLoadBalancers'] as const),
  localSubnetL2ReachabilityRefreshInterval: duration(),
  // Debugging.
  debugMemoryProfilePath: str(),
  debugDisableLogDropping: bool(),
  debugSimulateCalcGraphHangAfter: duration(),
  debugSimulateDataplaneHangAfter: duration(),
  debugSimulateDataplaneApplyDelay: duration(),
  debugHost: str(),
  debugPort: portOrZero(),
  // XDP, nftables.
  sidecarAccelerationEnabled: bool(),
  xdpEnabled: bool(),
  genericXDPEnabled: bool(),
  nftablesMode: oneOf(['Disabled', 'Enabled', 'Auto'] as const),
  nftablesRefreshInterval: duration(),
  nftablesFilterAllowAction: ci(['Accept', 'Return'] as const),
  nftablesMangleAllowAction: ci(['Accept', 'Return'] as const),
  nftablesFilterDenyAction: ci(['Drop', 'Reject'] as const),
  nftablesMarkMask: u32(),
  // eBPF dataplane.
  bpfEnabled: bool(),
  bpfDisableUnprivileged: bool(),
  bpfLogLevel: oneOf(['Off', 'Info', 'Debug'] as const),
  bpfConntrackLogLevel: oneOf(['Off', 'Debug'] as const),
  bpfConntrackMode: oneOf(['Auto', 'Userspace', 'BPFProgram'] as const),
  bpfConntrackTimeouts: obj({
    creationGracePeriod: conntrackTimeout(),
    tcpSynSent: conntrackTimeout(),
    tcpEstablished: conntrackTimeout(),
    tcpFinsSeen: conntrackTimeout(),
    tcpResetSeen: conntrackTimeout(),
    udpTimeout: conntrackTimeout(),
    genericTimeout: conntrackTimeout(),
    icmpTimeout: conntrackTimeout(),
  }),
  bpfLogFilters: mapOf(str(), { key: test((k: string) => interfaceNameProblem(k)) }),
  bpfCTLBLogFilter: str(),
  bpfDataIfacePattern: ifaceRegexp(),
  bpfL3IfacePattern: ifaceRegexp(),
  bpfConnectTimeLoadBalancingEnabled: bool(),
  bpfConnectTimeLoadBalancing: oneOf(['TCP', 'Enabled', 'Disabled'] as const),
  bpfHostNetworkedNATWithoutCTLB: enabled(),
  bpfExternalServiceMode: oneOf(['Tunnel', 'DSR'] as const),
  bpfDSROptoutCIDRs: arr(cidr({ bareIP: true })),
  bpfExtToServiceConnmark: u32(),
  bpfKubeProxyIptablesCleanupEnabled: bool(),
  bpfKubeProxyMinSyncPeriod: duration(),
  bpfKubeProxyHealthzPort: portOrZero(),
  bpfKubeProxyEndpointSlicesEnabled: bool(),
  bpfPSNATPorts: portRange(),
  bpfMapSizeNATFrontend: mapSize(),
  bpfMapSizeNATBackend: mapSize(),
  bpfMapSizeNATAffinity: mapSize(),
  bpfMapSizeRoute: mapSize(),
  bpfMapSizeConntrack: mapSize(),
  bpfMapSizePerCpuConntrack: mapSize(),
  bpfMapSizeConntrackCleanupQueue: int(1),
  bpfMapSizeConntrackScaling: ci(['Disabled', 'DoubleIfFull'] as const),
  bpfMapSizeIPSets: mapSize(),
  bpfMapSizeIfState: mapSize(),
  bpfHostConntrackBypass: bool(),
  bpfEnforceRPF: ci(['Disabled', 'Strict', 'Loose'] as const),
  bpfPolicyDebugEnabled: bool(),
  bpfForceTrackPacketsFromIfaces: arr(str({ check: test(interfaceMatch) })),
  bpfDisableGROForIfaces: ifaceRegexp(),
  bpfExcludeCIDRsFromNAT: arr(cidr({ bareIP: true })),
  bpfExportBufferSizeMB: int(1),
  bpfRedirectToPeer: oneOf(['Enabled', 'Disabled', 'L2Only'] as const),
  bpfAttachType: oneOf(['TC', 'TCX'] as const),
  bpfProfiling: enabled(),
  bpfJITHardening: oneOf(['Auto', 'Strict'] as const),
  bpfIPFragTimeout: duration(),
  bpfIPFragmentReassemblyEnabled: bool(),
  bpfMaglevMaxEndpointsPerService: int(1),
  bpfMaglevMaxServices: int(1),
  bpfOverlayHostSourceIP: oneOf(['TunnelAddress', 'HostAddress'] as const),
  cgroupV2Path: str(),
  // WireGuard.
  wireguardEnabled: bool(),
  wireguardEnabledV6: bool(),
  wireguardThreadingEnabled: bool(),
  wireguardListeningPort: port(),
  wireguardListeningPortV6: port(),
  wireguardRoutingRulePriority: int(1, 32765),
  wireguardInterfaceName: interfaceName(false),
  wireguardInterfaceNameV6: interfaceName(false),
  wireguardMTU: mtu(),
  wireguardMTUV6: mtu(),
  wireguardHostEncryptionEnabled: bool(),
  wireguardKeepAlive: duration(),
  // Platform integration.
  awsSrcDstCheck: oneOf(['DoNothing', 'Enable', 'Disable'] as const),
  serviceLoopPrevention: oneOf(['Drop', 'Reject', 'Disabled'] as const),
  workloadSourceSpoofing: oneOf(['Disabled', 'Any'] as const),
  mtuIfacePattern: ifaceRegexp(),
  floatingIPs: enabled(),
  windowsManageFirewallRules: enabled(),
  goGCThreshold: goSetting(),
  goMemoryLimitMB: goSetting(),
  goMaxProcs: goSetting(),
  requireMTUFile: bool(),
  flowLogsFlushInterval: duration(),
  flowLogsLocalReporter: oneOf(['Disabled', 'Enabled'] as const),
  flowLogsGoldmaneServer: str(),
  flowLogsCollectorDebugTrace: bool(),
  flowLogsPolicyEvaluationMode: oneOf(['None', 'Continuous'] as const),
  istioAmbientMode: enabled(),
  istioDSCPMark: intOrStr(test(dscpProblem)),
  nodeSelector: selector(),
});

export type FelixConfigurationSpec = Infer<typeof spec>;

function interfaceNameProblem(name: string): string | undefined {
  return /^[a-zA-Z0-9_.-]{1,15}$/.test(name) ? undefined : `"${name}" is not an interface name (or all, weps, heps)`;
}

const DSCP_NAMES = [
  'DF',
  'EF',
  'CS0',
  'CS1',
  'CS2',
  'CS3',
  'CS4',
  'CS5',
  'CS6',
  'CS7',
  'VA',
  'LE',
  'AF11',
  'AF12',
  'AF13',
  'AF21',
  'AF22',
  'AF23',
  'AF31',
  'AF32',
  'AF33',
  'AF41',
  'AF42',
  'AF43',
];

function dscpProblem(v: number | string): string | undefined {
  if (typeof v === 'number') return v >= 0 && v <= 63 ? undefined : `DSCP ${v} is outside 0..63`;
  return DSCP_NAMES.includes(v) ? undefined : `"${v}" is not a DSCP value: use 0..63 or a name such as EF, AF11, CS1`;
}

const ROUTE_TABLE_MAX = 0xffffffff;

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const s = res.spec;
  const name = res.metadata.name;
  if (isSet(s.nodeSelector) && (name === 'default' || name.startsWith('node.'))) {
    issues.push({
      path: 'spec.nodeSelector',
      message: `must not be set on the "default" or a per-node ("node.<name>") FelixConfiguration`,
    });
  }
  if (s.routeTableRange !== undefined && s.routeTableRanges !== undefined) {
    issues.push({
      path: 'spec.routeTableRange',
      message: 'cannot be set together with routeTableRanges (routeTableRange is deprecated)',
    });
  }
  const single = asObject(s.routeTableRange);
  if (single && typeof single.min === 'number' && typeof single.max === 'number') {
    if (!(single.min >= 1 && single.max >= single.min && single.max <= 250)) {
      issues.push({
        path: 'spec.routeTableRange',
        message: `${single.min}..${single.max} is not a range of route table indices within 1..250`,
      });
    }
  }
  let tables = 0;
  asArray(s.routeTableRanges).forEach((r, i) => {
    const o = asObject(r);
    if (!o || typeof o.min !== 'number' || typeof o.max !== 'number') return;
    const at = `spec.routeTableRanges[${i}]`;
    if (o.min < 1) issues.push({ path: `${at}.min`, message: `${o.min} is less than 1: table indices start at 1` });
    if (o.min > o.max) issues.push({ path: at, message: `min ${o.min} is greater than max ${o.max}` });
    if (o.max > ROUTE_TABLE_MAX) issues.push({ path: `${at}.max`, message: `${o.max} is greater than ${ROUTE_TABLE_MAX}` });
    if (o.max >= o.min) tables += o.max - o.min + 1;
  });
  if (tables > 0xffff) {
    issues.push({
      path: 'spec.routeTableRanges',
      message: `designate ${tables} tables; at most ${0xffff} are allowed`,
    });
  }
}

export const felixConfiguration: KindDef = { kind: 'FelixConfiguration', spec, rules };
