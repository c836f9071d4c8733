// The control plane of a BGP test, all real: etcd (a private instance), one in-process Typha
// on it, the datastore client the test writes resources with, and one in-process confd per
// node, configured through its real CONFD_* environment table and driving the node's real BIRD
// through bird -p and birdc.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@cattail/api';
import { EtcdDatastore } from '@cattail/datastore';
import { startEtcd, type EtcdServer } from '@cattail/datastore/testing';
import { TyphaDaemon, loadTyphaConfig } from '@cattail/typha';
import { ConfdDaemon, loadConfdConfig, type ConfdPorts } from '../../../src/index.js';
import { checked } from '../../helpers/resources.js';
import { Cleanup, until } from '@cattail/datastore/testing';
import { BirdProcess } from './bird.js';
import type { NodeNs } from './netns.js';
import { silentLogger } from '@cattail/typha/common';

export interface ConfdNode {
  readonly name: string;
  readonly net: NodeNs;
  readonly dir: string;
  readonly configFile: string;
  readonly socket: string;
  readonly confd: ConfdDaemon;
  readonly ports: ConfdPorts;
  bird: BirdProcess | undefined;
}

export class ControlPlane {
  readonly ds: EtcdDatastore;
  readonly typhaPort: number;
  readonly #cleanup: Cleanup;

  private constructor(ds: EtcdDatastore, typhaPort: number, cleanup: Cleanup) {
    this.ds = ds;
    this.typhaPort = typhaPort;
    this.#cleanup = cleanup;
  }

  /** `typhaEnv`: extra TYPHA_* settings, e.g. TYPHA_BGPSYNCERWORKLOADENDPOINTS. */
  static async start(cleanup: Cleanup, typhaEnv: Record<string, string> = {}): Promise<ControlPlane> {
    const etcd: EtcdServer = await startEtcd();
    cleanup.add('etcd', () => etcd.stop());
    const ds = new EtcdDatastore(etcd.clientOptions());
    cleanup.add('datastore client', () => ds.close());
    const typha = new TyphaDaemon(
      loadTyphaConfig({
        TYPHA_ETCDENDPOINTS: etcd.endpoints.join(','),
        TYPHA_SERVERHOST: '127.0.0.1',
        TYPHA_SERVERPORT: '0',
        TYPHA_CONNECTIONREBALANCINGMODE: 'none',
        TYPHA_SERVERBATCHWINDOWMS: '5',
        ...typhaEnv,
      }),
      { logger: silentLogger },
    );
    const { syncPort } = await typha.start();
    cleanup.add('typha', () => typha.stop());
    await until(() => typha.ready, 'Typha ready', 15_000);
    return new ControlPlane(ds, syncPort, cleanup);
  }

  async create(...resources: Resource[]): Promise<void> {
    for (const r of checked(resources)) await this.ds.create(r);
  }

  /**
   * A confd for `name`, writing `<dir>/bird.cfg` for BIRD in `net.ns`. BIRD is started once
   * confd has written the first file (as calico/node starts BIRD after confd), by startBird().
   */
  async startConfd(name: string, net: NodeNs, root: string): Promise<ConfdNode> {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'bird.cfg');
    const socket = join(dir, 'bird.ctl');
    const config = loadConfdConfig({
      NODENAME: name,
      FELIX_TYPHAADDR: `127.0.0.1:${this.typhaPort}`,
      CONFD_BIRDCONFIGFILE: configFile,
      CONFD_BIRDSOCKET: socket,
      CONFD_SECRETSDIR: join(dir, 'secrets'),
      CONFD_DEBOUNCEMS: '50',
      CONFD_RECONCILEINTERVALSECS: '0.5',
      CONFD_HEALTHENABLED: 'true',
      CONFD_HEALTHHOST: '127.0.0.1',
      CONFD_HEALTHPORT: '0',
      CONFD_PROMETHEUSMETRICSENABLED: 'true',
      CONFD_PROMETHEUSMETRICSHOST: '127.0.0.1',
      CONFD_PROMETHEUSMETRICSPORT: '0',
    });
    const confd = new ConfdDaemon(config, { logger: silentLogger });
    const ports = await confd.start();
    const node: ConfdNode = { name, net, dir, configFile, socket, confd, ports, bird: undefined };
    this.#cleanup.add(`confd ${name}`, () => confd.stop());
    return node;
  }

  async startBird(node: ConfdNode): Promise<BirdProcess> {
    await until(
      () => node.confd.agent.status().counters.installs > 0,
      () => `confd ${node.name} to write its first configuration: ${JSON.stringify(node.confd.agent.status().lastError)}`,
      15_000,
    );
    const bird = await BirdProcess.start(node.net.ns, node.configFile, node.socket);
    this.#cleanup.add(`BIRD ${node.name} (pid ${bird.pid})`, () => bird.stop());
    node.bird = bird;
    return bird;
  }
}

export async function httpGet(port: number | undefined, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}
