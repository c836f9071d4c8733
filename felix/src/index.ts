/**
 * @cattail/felix: the calculation graph (felix syncer updates → dataplane messages) and its
 * message schema. The Linux dataplane and the agent build on these.
 */
export { CalcGraph, type CalcGraphOptions } from './calc/calc-graph.js';
export type { CalcCallbacks } from './calc/callbacks.js';
export { derivedVXLANMac } from './calc/vxlan-resolver.js';
export { FelixError, InvalidResourceError } from './errors.js';
export type * from './proto/messages.js';
export * from './dataplane/index.js';
