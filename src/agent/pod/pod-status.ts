/**
 * The pod status the kubelet would report, computed from what the worker observed of its containers
 * (pkg/kubelet/kubelet_pods.go generateAPIPodStatus/getPhase and pkg/kubelet/status/generate.go):
 * container statuses (with default waiting reasons), the phase, the kubelet-owned conditions with
 * stable lastTransitionTime, IPs, startTime and QoS class. Pure: no clock unless `now` is omitted.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { podQOSClass } from '../../apis/pod-qos.ts';
import { rfc3339 } from '../../apis/time.ts';

/** Waiting/terminated reasons the worker and this module use (the kubelet's strings). */
export const Reasons = {
  ContainerCreating: 'ContainerCreating',
  PodInitializing: 'PodInitializing',
  CrashLoopBackOff: 'CrashLoopBackOff',
  CreateContainerError: 'CreateContainerError',
  CreateContainerConfigError: 'CreateContainerConfigError',
  Completed: 'Completed',
  Error: 'Error',
  OOMKilled: 'OOMKilled',
} as const;

export interface WaitingState {
  waiting: { reason?: string; message?: string };
}
export interface RunningState {
  running: { startedAt: string };
}
export interface TerminatedState {
  terminated: { exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string; signal?: number; containerID?: string };
}
export type ContainerState = WaitingState | RunningState | TerminatedState;

/** What the worker knows about one container (init or regular). */
export interface ContainerObservation {
  name: string;
  state: ContainerState;
  /** The previous instance's state (terminated), or undefined before the first restart. */
  lastState?: ContainerState;
  restartCount: number;
  ready: boolean;
  started?: boolean;
  image: string;
  imageID?: string;
  containerID?: string;
}

export interface PodObservation {
  init: ContainerObservation[];
  containers: ContainerObservation[];
  podIP?: string;
  podIPs?: string[];
  hostIP: string;
  startTime: string;
  /** Sandbox/network ready (PodReadyToStartContainers); default true. */
  sandboxReady?: boolean;
  /** The worker has decided the pod is finished (deleted or evicted): no restarts will follow. */
  podIsTerminal?: boolean;
  /** Timestamp for changed conditions; default: the current time. */
  now?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
export type PodStatus = Record<string, any> & { phase: PodPhase; conditions: Record<string, any>[] };

/** The reason for a terminated state: OOMKilled, Completed (exit 0) or Error. */
export function terminatedReason(exitCode: number, oomKilled = false): string {
  if (oomKilled) return Reasons.OOMKilled;
  return exitCode === 0 ? Reasons.Completed : Reasons.Error;
}

function stateKind(s: ContainerState | undefined): 'waiting' | 'running' | 'terminated' | undefined {
  if (!s) return undefined;
  if ('running' in s && s.running) return 'running';
  if ('terminated' in s && s.terminated) return 'terminated';
  if ('waiting' in s && s.waiting) return 'waiting';
  return undefined;
}

function lastExit(o: ContainerObservation): number | undefined {
  return o.lastState && stateKind(o.lastState) === 'terminated' ? (o.lastState as TerminatedState).terminated.exitCode : undefined;
}

/** The phase per the kubelet's getPhase (no sidecar containers). */
export function podPhase(pod: KubeObject, init: ContainerObservation[], containers: ContainerObservation[], podIsTerminal = false): PodPhase {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const o = init.find((x) => x.name === c.name);
    const k = stateKind(o?.state);
    if (!o || k === 'running' || k === undefined) pendingInit++;
    else if (k === 'terminated') {
      if ((o.state as TerminatedState).terminated.exitCode !== 0) failedInit++;
    } else {
      const le = lastExit(o);
      if (le === undefined) pendingInit++;
      else if (le !== 0) failedInit++;
    }
  }
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of pod.spec?.containers ?? []) {
    const o = containers.find((x) => x.name === c.name);
    const k = stateKind(o?.state);
    if (!o || k === undefined) unknown++;
    else if (k === 'running') running++;
    else if (k === 'terminated') {
      stopped++;
      if ((o.state as TerminatedState).terminated.exitCode === 0) succeeded++;
    } else if (lastExit(o) !== undefined) stopped++;
    else waiting++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function toApiStatus(o: ContainerObservation, isInit: boolean): Record<string, any> {
  const terminated = stateKind(o.state) === 'terminated' ? (o.state as TerminatedState).terminated : undefined;
  return {
    name: o.name,
    state: o.state,
    lastState: o.lastState ?? {},
    // A finished init container counts as ready, as the kubelet reports it.
    ready: isInit ? o.ready || terminated?.exitCode === 0 : o.ready,
    restartCount: o.restartCount,
    image: o.image,
    imageID: o.imageID ?? '',
    ...(o.containerID ? { containerID: o.containerID } : {}),
    started: o.started ?? stateKind(o.state) === 'running',
  };
}

function withDefaults(specs: any[], obs: ContainerObservation[], defaultReason: string): ContainerObservation[] {
  return specs.map(
    (c) => obs.find((o) => o.name === c.name) ?? { name: c.name, state: { waiting: { reason: defaultReason } }, restartCount: 0, ready: false, started: false, image: c.image ?? '' },
  );
}

const list = (names: string[]) => `[${names.join(' ')}]`;

type Cond = { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string };

function containersReady(pod: KubeObject, statuses: Record<string, any>[], phase: PodPhase): Cond {
  if (phase === 'Succeeded') return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const unready = (pod.spec?.containers ?? []).filter((c: any) => !statuses.find((s) => s.name === c.name)?.ready).map((c: any) => c.name);
  if (unready.length) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: ${list(unready)}` };
  return { type: 'ContainersReady', status: 'True' };
}

function podReady(pod: KubeObject, cr: Cond, existing: Record<string, any>[]): Cond {
  if (cr.status !== 'True') return { ...cr, type: 'Ready' };
  const msgs: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = existing.find((x) => x.type === gate.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (msgs.length) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: msgs.join(', ') };
  return { type: 'Ready', status: 'True' };
}

function initialized(pod: KubeObject, initStatuses: Record<string, any>[], regular: Record<string, any>[], phase: PodPhase): Cond {
  if (phase === 'Succeeded') return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  // Once a regular container has started, the pod was initialized before.
  if (regular.some((s) => stateKind(s.state) === 'running' || stateKind(s.state) === 'terminated')) return { type: 'Initialized', status: 'True' };
  const incomplete = (pod.spec?.initContainers ?? []).filter((c: any) => !initStatuses.find((s) => s.name === c.name)?.ready).map((c: any) => c.name);
  if (incomplete.length) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${list(incomplete)}` };
  return { type: 'Initialized', status: 'True' };
}

const OWNED = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

/** Computes the pod's status from observations, keeping what the API already holds where it should. */
export function computePodStatus(pod: KubeObject, observed: PodObservation): PodStatus {
  const old = pod.status ?? {};
  const now = observed.now ?? rfc3339();
  const hasInit = (pod.spec?.initContainers ?? []).length > 0;
  const defaultReason = hasInit ? Reasons.PodInitializing : Reasons.ContainerCreating;
  const init = withDefaults(pod.spec?.initContainers ?? [], observed.init, defaultReason);
  const regular = withDefaults(pod.spec?.containers ?? [], observed.containers, defaultReason);
  const initStatuses = init.map((o) => toApiStatus(o, true));
  const statuses = regular.map((o) => toApiStatus(o, false));

  // A terminal phase is final: the kubelet never moves a pod out of Succeeded/Failed.
  const phase: PodPhase = old.phase === 'Succeeded' || old.phase === 'Failed' ? old.phase : podPhase(pod, init, regular, observed.podIsTerminal);
  const existing: Record<string, any>[] = Array.isArray(old.conditions) ? old.conditions : [];
  const cr = containersReady(pod, statuses, phase);
  const generated: Cond[] = [
    { type: 'PodReadyToStartContainers', status: observed.sandboxReady === false ? 'False' : 'True' },
    initialized(pod, initStatuses, statuses, phase),
    podReady(pod, cr, existing),
    cr,
    { type: 'PodScheduled', status: existing.find((c) => c.type === 'PodScheduled')?.status ?? 'True' },
  ];
  const conditions = generated.map((c) => {
    const prev = existing.find((e) => e.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { ...c, lastProbeTime: null, lastTransitionTime };
  });
  // Conditions owned by others (readiness gates, DisruptionTarget, …) are kept as they are.
  for (const e of existing) if (!OWNED.includes(e.type)) conditions.push(e as any);

  const podIPs = observed.podIPs ?? (observed.podIP ? [observed.podIP] : []);
  const status: PodStatus = {
    ...old,
    phase,
    conditions,
    hostIP: observed.hostIP,
    hostIPs: [{ ip: observed.hostIP }],
    startTime: old.startTime ?? observed.startTime,
    qosClass: old.qosClass ?? podQOSClass(pod.spec),
    ...(hasInit ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
  };
  if (podIPs.length) {
    status.podIP = podIPs[0];
    status.podIPs = podIPs.map((ip) => ({ ip }));
  }
  return status;
}

const TIME_KEYS = new Set(['startedAt', 'finishedAt', 'startTime']);

/** Copy with condition times dropped and other timestamps cut to whole seconds (as the API stores them). */
function normalize(v: unknown, inCondition = false): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, inCondition));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    if (inCondition && (k === 'lastTransitionTime' || k === 'lastProbeTime')) continue;
    if (TIME_KEYS.has(k) && typeof x === 'string') out[k] = x.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, '');
    else if (k === 'conditions' && Array.isArray(x)) out[k] = [...x].sort((a, b) => String(a.type).localeCompare(String(b.type))).map((c) => normalize(c, true));
    else out[k] = normalize(x);
  }
  return out;
}

/** True when two pod statuses differ only in timestamps that moved (so no update is needed). */
export function statusEqual(a: Record<string, any> | undefined, b: Record<string, any> | undefined): boolean {
  return isDeepStrictEqual(normalize(a ?? {}), normalize(b ?? {}));
}
