/** One instance of every message type, shared by the codec and parse tests. */
import type { Message, Update } from '../../src/protocol/index.js';

export const wep: Update = {
  kind: 'WorkloadEndpoint',
  namespace: 'default',
  name: 'node-1-k8s-web--0-eth0',
  revision: 1041,
  value: {
    labels: { app: 'web', 'projectcalico.org/namespace': 'default', tier: 'fröntend ✓' },
    spec: {
      node: 'node-1',
      interfaceName: 'cali12345678901',
      ipNetworks: ['10.65.0.5/32', 'fd00:10:65::5/128'],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      nested: { enabled: true, ratio: 0.25, nothing: null },
    },
  },
};

export const pool: Update = {
  kind: 'IPPool',
  name: 'default-ipv4-ippool',
  revision: 7,
  value: { spec: { cidr: '10.65.0.0/16', blockSize: 26, vxlanMode: 'Always' } },
};

/** A deletion: no value. */
export const deletion: Update = { kind: 'WorkloadEndpoint', namespace: 'default', name: 'gone', revision: 1042 };

export const SAMPLES: Record<string, Message> = {
  clientHello: {
    type: 'hello',
    protocolVersion: 1,
    syncer: 'felix',
    node: 'node-1',
    client: 'cattail-felix/0.1.0',
    features: ['resume', 'goodbye'],
  },
  clientHelloResume: {
    type: 'hello',
    protocolVersion: 1,
    syncer: 'bgp',
    node: 'node-2',
    features: ['resume'],
    resume: { revision: 2 ** 40 + 3, datastoreId: 'etcd-cluster-8e9e05c52164694d' },
  },
  serverHello: {
    type: 'hello',
    protocolVersion: 1,
    server: 'typha-7d4f9-abcde',
    datastoreId: 'etcd-cluster-8e9e05c52164694d',
    features: ['resume'],
    mode: 'snapshot',
    revision: 1042,
  },
  snapshotPage: { type: 'snapshot', revision: 1042, page: 0, last: false, updates: [wep, pool] },
  snapshotLast: { type: 'snapshot', revision: 1042, page: 1, last: true, updates: [] },
  inSync: { type: 'in-sync', revision: 1042 },
  deltas: { type: 'deltas', revision: 1043, updates: [deletion, { ...pool, revision: 1043 }] },
  ping: { type: 'ping', ts: 1_717_000_000_123 },
  pong: { type: 'pong', ts: 1_717_000_000_123.5 },
  goodbye: { type: 'goodbye', code: 4007, reason: 'rebalancing', reconnect: 'ws://10.0.0.12:5473/sync', delayMs: 1500 },
  goodbyePlain: { type: 'goodbye', code: 4008, reason: 'shutting down' },
};

export const CLIENT_SAMPLES = ['clientHello', 'clientHelloResume', 'ping', 'pong'];
export const SERVER_SAMPLES = ['serverHello', 'snapshotPage', 'snapshotLast', 'inSync', 'deltas', 'ping', 'pong', 'goodbye', 'goodbyePlain'];
