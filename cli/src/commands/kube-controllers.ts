/**
 * `cattail kube-controllers`: Calico's kube-controllers (leader election on a Lease, then the node
 * controller: IPAM garbage collection and deleted-node clean-up; on etcd also the namespace,
 * serviceaccount and policy sync), configured as calico-kube-controllers is, by environment variables under Calico's
 * names (DATASTORE_TYPE, KUBECONFIG, ENABLED_CONTROLLERS, LOG_LEVEL, …) and the same settings as
 * flags (flags win). Logs JSON lines; the "running" line carries the health and metrics ports.
 * SIGTERM/SIGINT stop the controllers and hand the Lease back.
 */
import { KUBE_CONTROLLERS_PARAMS, KubeControllersDaemon, loadKubeControllersConfig, loggableKubeControllersConfig } from '@cattail/controllers';
import { flagName } from '@cattail/api';
import type { FlagSpec } from '../argv.js';
import { BINARY_NAME, type Command, type CommandContext } from '../command.js';
import { componentLogger, givenFlags, loadConfig, runUntilSignal } from './component.js';

/** One flag per setting, its help naming the environment variable (Calico's where it has one). */
const PARAM_FLAGS: FlagSpec[] = Object.entries(KUBE_CONTROLLERS_PARAMS).map(([name, spec]) => ({
  name: flagName(name),
  value: spec.type === 'bool' ? 'true|false' : 'VALUE',
  help: `${spec.help} [${spec.env}, default ${JSON.stringify(spec.default)}]`,
}));

export const kubeControllersCommand: Command = {
  name: 'kube-controllers',
  summary: 'Run the controllers that clean up IPAM after pods and nodes (leader-elected).',
  usage: `${BINARY_NAME} kube-controllers [--kubeconfig=<FILE>] [--enabled-controllers=node] [--leak-grace-period=<DURATION>] [...]`,
  description: `Calico's kube-controllers. Of all instances, the one holding the
Lease LEADER_ELECTION_NAMESPACE/LEADER_ELECTION_LEASE_NAME (kube-system/cattail-kube-controllers)
runs the node controller: addresses of pods or nodes that are gone are released after the
leak grace period (KubeControllersConfiguration spec.controllers.node.leakGracePeriod, default
15m, or LEAK_GRACE_PERIOD), and deleted nodes' block affinities are released. With
DATASTORE_TYPE=etcdv3 (ETCD_ENDPOINTS, ...) it also keeps the kns./ksa. Profiles and the
knp.default. policies in etcd equal to the cluster's namespaces, service accounts and
NetworkPolicies. Every setting is also an environment variable (Calico's name where it has one),
shown in brackets.`,
  flags: PARAM_FLAGS,
  run: runKubeControllers,
};

async function runKubeControllers(ctx: CommandContext): Promise<number> {
  const argv = givenFlags(ctx, PARAM_FLAGS);
  const config = loadConfig('kube-controllers', () => loadKubeControllersConfig(ctx.env, argv));
  const logger = componentLogger(config.LogSeverityScreen, { component: 'kube-controllers' });
  logger.info({ config: loggableKubeControllersConfig(config) }, 'starting kube-controllers');
  const daemon = new KubeControllersDaemon(config, { logger });
  return runUntilSignal(ctx, {
    name: 'kube-controllers',
    logger,
    start: async () => ({ ...(await daemon.start()) }),
    stop: async (afterSignal) => {
      if (afterSignal) logger.info({}, 'stopping');
      await daemon.stop();
    },
  });
}
