/**
 * What a kubelet reports once a pod's containers run and pass readiness — built without running
 * anything: phase Running, the pod conditions all True, every container `running` + ready (init
 * containers `terminated`/Completed, sidecars running), a fake podIP, hostIP, startTime.
 */
import type { KubeObject } from '../apis/object.ts';

interface Container { name: string; image?: string; restartPolicy?: string }

/** A stable fake container id. */
function containerID(pod: KubeObject, name: string): string {
  return `berth-sim://${(pod.metadata.uid ?? '').replace(/-/g, '').slice(0, 16)}-${name}`;
}

/** True when the pod already shows what {@link runningPodStatus} would write (nothing to do). */
export function isRunningAndReady(pod: KubeObject): boolean {
  const st = pod.status ?? {};
  if (st.phase !== 'Running' || !st.podIP || !st.startTime) return false;
  if (!(st.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')) return false;
  const containers: Container[] = pod.spec?.containers ?? [];
  const statuses: Array<{ name: string; ready?: boolean }> = st.containerStatuses ?? [];
  return containers.every((c) => statuses.some((s) => s.name === c.name && s.ready === true));
}

/** True for Succeeded / Failed pods, which a kubelet leaves alone. */
export function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * The status (for a merge patch on pods/status) of `pod` running on a node at `hostIP` with address
 * `podIP`; `now` is an RFC 3339 time. Earlier startTime and PodScheduled transition are kept.
 */
export function runningPodStatus(pod: KubeObject, hostIP: string, podIP: string, now: string): KubeObject['status'] {
  const old = pod.status ?? {};
  const startTime: string = old.startTime ?? now;
  const scheduled = (old.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
  const cond = (type: string, since = now) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: since });
  const running = (c: Container) => ({
    name: c.name, image: c.image ?? '', imageID: c.image ? `${c.image}@sha256:${'0'.repeat(64)}` : '',
    containerID: containerID(pod, c.name), ready: true, started: true, restartCount: 0,
    state: { running: { startedAt: startTime } }, lastState: {},
  });
  const init: Container[] = pod.spec?.initContainers ?? [];
  return {
    phase: 'Running',
    hostIP, hostIPs: [{ ip: hostIP }],
    podIP, podIPs: [{ ip: podIP }],
    startTime,
    conditions: [
      cond('PodReadyToStartContainers', startTime),
      cond('Initialized', startTime),
      cond('Ready'),
      cond('ContainersReady'),
      cond('PodScheduled', scheduled?.lastTransitionTime ?? startTime),
    ],
    ...(init.length ? {
      initContainerStatuses: init.map((c) => c.restartPolicy === 'Always' ? running(c) : {
        ...running(c), started: false,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: startTime, containerID: containerID(pod, c.name) } },
      }),
    } : {}),
    containerStatuses: (pod.spec?.containers ?? []).map(running),
  };
}
