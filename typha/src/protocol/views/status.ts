/**
 * The `status` syncer. Calico's status syncer carries CalicoNodeStatus only; Cattail has no such
 * kind, so status readers get each node's labels and `status` (under `spec.status`), and
 * FelixConfiguration for the reporting settings.
 */
import type { KindStatuses, Validated } from '@cattail/api';
import { labelsOf, specOnly, view, type Labels, type Projections, type SpecView } from './projection.js';

export type StatusViews = {
  Node: { labels?: Labels; spec?: { status: Validated<KindStatuses['Node']> | null } };
  FelixConfiguration: SpecView<'FelixConfiguration'>;
};

export const STATUS_PROJECTIONS: Projections<StatusViews> = {
  Node: (res) => view(labelsOf(res), res.status === undefined ? undefined : { status: res.status }),
  FelixConfiguration: specOnly,
};
