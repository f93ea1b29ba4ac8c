/**
 * One container of a pod (init or regular) and its current instance, as the pod worker tracks it.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ContainerHandle, ExitResult, RuntimeDriver } from '../runtime/driver.ts';
import { rfc3339 } from '../../apis/time.ts';
import type { ContainerProbes } from '../pod/probe-worker.ts';
import { Reasons, terminatedReason, type ContainerObservation, type ContainerState } from '../pod/pod-status.ts';
import { execCapture } from './exec-capture.ts';

export interface Instance {
  name: string;
  init: boolean;
  spec: Record<string, any>;
  driver?: RuntimeDriver;
  /** Driver id of the current (or last) instance. */
  id?: string;
  /** The image's repo digest (status imageID); unset for host processes. */
  imageID?: string;
  restartCount: number;
  everStarted: boolean;
  running: boolean;
  starting: boolean;
  startedAt?: Date;
  exit?: ExitResult;
  state: ContainerState;
  lastState?: ContainerState;
  probes?: ContainerProbes;
  /** Killed on purpose (liveness failure or pod termination): the exit is expected. */
  killing?: boolean;
  /** The last instance's terminated state: becomes lastState when the next instance starts. */
  lastTerminated?: ContainerState;
}

/** A container not started yet: ContainerCreating, or PodInitializing while the pod has init containers to run. */
export function newInstance(pod: KubeObject, spec: Record<string, any>, init: boolean): Instance {
  const reason = init || !pod.spec?.initContainers?.length ? Reasons.ContainerCreating : Reasons.PodInitializing;
  return { name: spec.name, init, spec, restartCount: 0, everStarted: false, running: false, starting: false, state: { waiting: { reason } } };
}

/** What the status computation needs to know about the container. */
export function observeInstance(inst: Instance): ContainerObservation {
  return {
    name: inst.name,
    state: inst.state,
    lastState: inst.lastState,
    restartCount: inst.restartCount,
    ready: inst.running && (inst.probes ? inst.probes.ready : true),
    started: inst.running && (inst.probes ? inst.probes.started : true),
    image: inst.spec.image ?? '',
    imageID: inst.imageID ?? '',
    containerID: inst.id && inst.driver ? `${inst.driver.name}://${inst.id}` : undefined,
  };
}

/** Init containers the pod's status shows completed (agent restart): they are not run again. */
export function adoptCompletedInits(pod: KubeObject, instance: (name: string) => Instance | undefined): void {
  for (const st of pod.status?.initContainerStatuses ?? []) {
    const inst = instance(st.name);
    if (!inst || st.state?.terminated?.exitCode !== 0) continue;
    inst.everStarted = true;
    inst.restartCount = st.restartCount ?? 0;
    inst.state = st.state;
    inst.exit = { exitCode: 0, oomKilled: false, finishedAt: new Date(st.state.terminated.finishedAt ?? Date.now()) };
  }
}

/** The instance's process exited: terminated state (kept as the next instance's lastState). */
export function markExited(inst: Instance, exit: ExitResult): void {
  inst.probes?.stop();
  inst.probes = undefined;
  inst.running = false;
  inst.exit = exit;
  inst.state = {
    terminated: {
      exitCode: exit.exitCode, reason: terminatedReason(exit.exitCode, exit.oomKilled),
      startedAt: inst.startedAt ? rfc3339(inst.startedAt) : undefined, finishedAt: rfc3339(exit.finishedAt),
      containerID: inst.driver && inst.id ? `${inst.driver.name}://${inst.id}` : undefined,
    },
  };
  inst.lastTerminated = inst.state;
}

/** The preStop hook (exec only for now), bounded by the grace period. */
export async function runPreStop(inst: Instance, graceMs: number): Promise<void> {
  const cmd = inst.spec.lifecycle?.preStop?.exec?.command;
  if (!cmd?.length || !inst.driver || !inst.id) return;
  await execCapture(inst.driver, inst.id, cmd, graceMs).catch(() => {});
}

/**
 * Takes over a container an earlier agent started (agent restart): its startedAt and lastState come
 * from the pod's status, so a restart of the agent changes neither.
 */
export function adoptRunning(inst: Instance, pod: KubeObject, driver: RuntimeDriver, id: string, restartCount: number, handle: ContainerHandle): void {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const prev = all.find((s: { name: string }) => s.name === inst.name);
  inst.driver = driver;
  inst.id = id;
  inst.restartCount = restartCount;
  inst.everStarted = true;
  inst.running = true;
  inst.startedAt = prev?.state?.running?.startedAt ? new Date(prev.state.running.startedAt) : handle.startedAt;
  inst.state = { running: { startedAt: rfc3339(inst.startedAt) } };
  inst.lastState = prev?.lastState?.terminated ? prev.lastState : undefined;
}
