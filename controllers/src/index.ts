/**
 * `@cattail/controllers`: Calico's kube-controllers for our datastore. The node controller's
 * IPAM garbage collection and deleted-node clean-up ({@link IpamGarbageCollector}), run by
 * whichever instance holds the Lease ({@link LeaderElector}), wired by
 * {@link KubeControllersDaemon} from a {@link KubeControllersConfig}.
 */
export {
  KUBE_CONTROLLERS_PARAMS,
  CALICO_CONTROLLERS,
  ETCD_ONLY_CONTROLLERS,
  loadKubeControllersConfig,
  loggableKubeControllersConfig,
  type KubeControllersConfig,
} from './config.js';
export { LeaderElector, type KubeRequester, type LeaderCallbacks, type LeaderElectorOptions, type LeaderStatus } from './leader-elector.js';
export {
  IpamGarbageCollector,
  DEFAULT_LEAK_GRACE_MS,
  DEFAULT_RECONCILER_PERIOD_MS,
  type IpamGcOptions,
  type IpamGcStatus,
  type IpamGauges,
} from './ipam-gc.js';
export { KubeToEtcdSync, SYNC_TARGETS, type SyncTarget, type SyncStatus, type KubeToEtcdSyncOptions } from './kube-to-etcd-sync.js';
export { kubeClusterView, podAddresses, type ClusterView, type PodAddresses } from './cluster-view.js';
export { formatMetrics, type KubeControllersMetricsInput } from './metrics.js';
export { KubeControllersDaemon, type KubeControllersDependencies, type KubeControllersStatus } from './daemon.js';
