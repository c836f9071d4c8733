/**
 * What the renderer needs to know about a node and about the BGP settings in force on it,
 * resolved once per render from the model with Calico's defaults:
 *
 * - AS number: the node's `spec.bgp.asNumber`, else BGPConfiguration `default`'s `asNumber`,
 *   else 64512 (Calico's default).
 * - Addresses: `spec.bgp.ipv4Address` / `ipv6Address` without their prefix length.
 * - Listen port, log level, bind mode, ignored interfaces: BGPConfiguration `node.<name>` over
 *   `default`; the mesh switch, mesh password and restart time come from `default` only (the API
 *   refuses them elsewhere). The mesh is on unless `default` says `nodeToNodeMeshEnabled: false`.
 */
import type { IPAddr } from '@cattail/api';
import type { BgpConfigurationSpec, BgpModel, NodeView } from '../model/bgp-model.js';
import { addressOf, asNumberOf, durationSeconds } from './bird-text.js';

const DEFAULT_AS_NUMBER = 64512;
export const DEFAULT_BGP_PORT = 179;

export interface NodeFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ipv4: IPAddr | undefined;
  readonly ipv6: IPAddr | undefined;
  readonly asNumber: number;
  /** Where the AS number came from, for the comment at the top of the file. */
  readonly asSource: 'node' | 'BGPConfiguration default' | 'built-in default';
  /** Set on route reflectors. */
  readonly rrClusterId: string | undefined;
  /** The port this node's BIRD listens on (BGPConfiguration listenPort). */
  readonly listenPort: number;
}

export interface SecretRef {
  readonly name: string | undefined;
  readonly key: string;
}

export interface BgpSettings {
  readonly meshEnabled: boolean;
  readonly meshPassword: SecretRef | undefined;
  readonly meshRestartSecs: number | undefined;
  readonly logSeverity: string;
  /** bindMode NodeIP: bind the BGP sockets to the node's address (BIRD's `strict bind`). */
  readonly strictBind: boolean;
  readonly ignoredInterfaces: readonly string[];
}

export function secretRefOf(v: unknown): SecretRef | undefined {
  const ref = (v as { secretKeyRef?: { name?: unknown; key?: unknown } } | undefined)?.secretKeyRef;
  if (typeof ref?.key !== 'string') return undefined;
  return { name: typeof ref.name === 'string' ? ref.name : undefined, key: ref.key };
}

function globalConfig(model: BgpModel): Readonly<BgpConfigurationSpec> {
  return model.configs.get('default') ?? {};
}

function nodeConfig(model: BgpModel, node: string): Readonly<BgpConfigurationSpec> {
  return model.configs.get(`node.${node}`) ?? {};
}

export function nodeFacts(model: BgpModel, node: NodeView): NodeFacts {
  const bgp = node.bgp ?? {};
  const own = asNumberOf(bgp.asNumber);
  const global = asNumberOf(globalConfig(model).asNumber);
  const port = nodeConfig(model, node.name).listenPort ?? globalConfig(model).listenPort;
  const cluster = typeof bgp.routeReflectorClusterID === 'string' && bgp.routeReflectorClusterID !== '' ? bgp.routeReflectorClusterID : undefined;
  return {
    name: node.name,
    labels: node.labels,
    ipv4: addressOf(bgp.ipv4Address, 4),
    ipv6: addressOf(bgp.ipv6Address, 6),
    asNumber: own ?? global ?? DEFAULT_AS_NUMBER,
    asSource: own !== undefined ? 'node' : global !== undefined ? 'BGPConfiguration default' : 'built-in default',
    rrClusterId: cluster,
    listenPort: typeof port === 'number' && port > 0 ? port : DEFAULT_BGP_PORT,
  };
}

export function addressFor(n: NodeFacts, version: 4 | 6): IPAddr | undefined {
  return version === 4 ? n.ipv4 : n.ipv6;
}

export function bgpSettings(model: BgpModel, node: string): BgpSettings {
  const g = globalConfig(model);
  const n = nodeConfig(model, node);
  return {
    meshEnabled: g.nodeToNodeMeshEnabled !== false,
    meshPassword: secretRefOf(g.nodeMeshPassword),
    meshRestartSecs: durationSeconds(g.nodeMeshMaxRestartTime),
    logSeverity: n.logSeverityScreen ?? g.logSeverityScreen ?? 'Info',
    strictBind: (n.bindMode ?? g.bindMode) === 'NodeIP',
    ignoredInterfaces: [...(g.ignoredInterfaces ?? []), ...(n.ignoredInterfaces ?? [])],
  };
}
