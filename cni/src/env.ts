/**
 * The CNI runtime's environment (spec 1.0, "Parameters"): CNI_COMMAND, CNI_CONTAINERID,
 * CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH. Which are required depends on the command; a
 * missing or malformed one is error 4 naming the variable.
 *
 * CNI_ARGS is `K=V;K=V`. Kubernetes passes the pod's identity there (K8S_POD_NAMESPACE,
 * K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID) plus IgnoreUnknown=1. Without the pod
 * name and namespace the plugin names things after the container instead (orchestrator `cni`),
 * as Calico's plugin does outside Kubernetes.
 */
import { InvalidEnvError } from './errors.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION'];

export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly infraContainerId?: string;
  readonly uid?: string;
}

export interface CniEnv {
  readonly command: CniCommand;
  readonly containerId: string;
  /** Path of the pod's network namespace; empty for DEL when the runtime no longer has it. */
  readonly netns: string;
  readonly ifname: string;
  readonly args: Readonly<Record<string, string>>;
  /** The Kubernetes pod, when CNI_ARGS names one. */
  readonly pod?: PodIdentity;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Container IDs as runtimes make them: letters, digits, and `-_.` after the first character. */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Linux interface names: 1–15 bytes, no '/', ':' or whitespace, not "." or "..". */
const IFNAME = /^[^/:\s]{1,15}$/;

export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidEnvError(`CNI_ARGS: "${part}" is not KEY=VALUE (expected e.g. K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0)`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Reads the command first; VERSION needs nothing else. */
export function parseCniEnv(env: Env): CniEnv {
  const command = (env.CNI_COMMAND ?? '').trim().toUpperCase();
  if (command === '') throw new InvalidEnvError('CNI_COMMAND is not set: expected ADD, DEL, CHECK or VERSION');
  if (!COMMANDS.includes(command as CniCommand)) {
    throw new InvalidEnvError(`CNI_COMMAND "${env.CNI_COMMAND}" is not supported: expected ADD, DEL, CHECK or VERSION`);
  }
  const cmd = command as CniCommand;
  if (cmd === 'VERSION') return { command: cmd, containerId: '', netns: '', ifname: '', args: {} };

  const problems: string[] = [];
  const containerId = (env.CNI_CONTAINERID ?? '').trim();
  if (containerId === '') problems.push('CNI_CONTAINERID is not set');
  else if (!CONTAINER_ID.test(containerId)) problems.push(`CNI_CONTAINERID "${containerId}" is not a container ID (letters, digits, '-', '_', '.')`);
  const netns = (env.CNI_NETNS ?? '').trim();
  if (netns === '' && cmd !== 'DEL') problems.push(`CNI_NETNS is not set (required for ${cmd})`);
  else if (netns !== '' && !netns.startsWith('/')) problems.push(`CNI_NETNS "${netns}" is not an absolute path`);
  const ifname = (env.CNI_IFNAME ?? '').trim();
  if (ifname === '') problems.push('CNI_IFNAME is not set');
  else if (!IFNAME.test(ifname) || ifname === '.' || ifname === '..') problems.push(`CNI_IFNAME "${ifname}" is not a valid interface name`);
  let args: Record<string, string> = {};
  try {
    args = parseCniArgs(env.CNI_ARGS ?? '');
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) throw new InvalidEnvError(problems.join('; '));

  let pod: PodIdentity | undefined;
  const ns = args.K8S_POD_NAMESPACE ?? '';
  const name = args.K8S_POD_NAME ?? '';
  if (ns !== '' || name !== '') {
    if (ns === '' || name === '') {
      throw new InvalidEnvError(
        `CNI_ARGS has ${ns ? 'K8S_POD_NAMESPACE' : 'K8S_POD_NAME'} without ${ns ? 'K8S_POD_NAME' : 'K8S_POD_NAMESPACE'}: give both or neither`,
      );
    }
    pod = { namespace: ns, name };
    if (args.K8S_POD_INFRA_CONTAINER_ID) pod = { ...pod, infraContainerId: args.K8S_POD_INFRA_CONTAINER_ID };
    if (args.K8S_POD_UID) pod = { ...pod, uid: args.K8S_POD_UID };
  }
  return { command: cmd, containerId, netns, ifname, args, pod };
}
