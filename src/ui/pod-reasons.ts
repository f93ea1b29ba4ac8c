/**
 * "What is wrong" with an object, as one line of text from the data the cluster already has — what
 * `kubectl describe` makes a person piece together from status and events (and Lens / k9s show as
 * a pod's STATUS column): scheduling failures, image pulls, crash loops with the exit, probe
 * failures, evictions, and Warning events about stateful members (fenced, moved).
 */
import type { Obj } from './object-store.ts';

/** A failing object and why, most urgent first by `severity`. */
export interface Problem {
  kind: string;
  namespace?: string;
  name: string;
  /** E.g. CrashLoopBackOff, ImagePullBackOff, Unschedulable, Unhealthy. */
  reason: string;
  /** One line, from the object's status or its latest Warning event. */
  message: string;
  /** 0 most urgent. */
  severity: number;
  /** For CrashLoopBackOff: the container whose last log lines explain it. */
  container?: string;
}

const WAITING_BAD = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'CrashLoopBackOff',
  'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PostStartHookError']);

const oneLine = (s: unknown) => String(s ?? '').replace(/\s+/g, ' ').trim();

/** Warning events by involved object (namespace/name), newest last. */
export function warningsByObject(events: readonly Obj[]): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const e of events) {
    // Warnings, and the fencing controller's account of a stateful member moved off a lost node.
    if ((e as any).type !== 'Warning' && (e as any).reason !== 'MemberMoved') continue;
    const io = (e as any).involvedObject ?? (e as any).regarding ?? {};
    const k = `${io.kind}/${io.namespace ?? ''}/${io.name}`;
    (out.get(k) ?? out.set(k, []).get(k)!).push(e);
  }
  for (const l of out.values()) l.sort((a, b) => eventTime(a) - eventTime(b));
  return out;
}

export function eventTime(e: Obj): number {
  const x = e as any;
  return Date.parse(x.lastTimestamp ?? x.eventTime ?? x.firstTimestamp ?? e.metadata.creationTimestamp ?? 0) || 0;
}

/** Why a pod is failing, or undefined when it is fine (or simply starting). */
export function podProblem(pod: Obj, warnings: readonly Obj[] = []): Problem | undefined {
  const base = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name };
  const st = pod.status ?? {};
  if (pod.metadata.deletionTimestamp) return undefined;
  if (st.phase === 'Failed') return { ...base, reason: st.reason ?? 'Failed', message: oneLine(st.message ?? lastTerminated(pod) ?? 'the pod failed'), severity: 1 };
  const statuses: any[] = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])];
  for (const cs of statuses) {
    const w = cs.state?.waiting;
    if (w && WAITING_BAD.has(w.reason)) {
      const crash = w.reason === 'CrashLoopBackOff';
      const last = cs.lastState?.terminated;
      const exit = crash && last ? `exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}, ${cs.restartCount ?? 0} restarts` : '';
      return { ...base, reason: w.reason, message: oneLine([`container ${cs.name}`, exit, w.message].filter(Boolean).join(': ')), severity: 0, container: crash ? cs.name : undefined };
    }
  }
  // A stateful member the fencing controller could not move off a lost node (src/controllers/fencing).
  const notMoved = (st.conditions ?? []).find((c: any) => c.type === 'MemberNotMoved' && c.status === 'True');
  if (notMoved) return { ...base, reason: notMoved.reason ?? 'MemberNotMoved', message: oneLine(notMoved.message), severity: 1 };
  const scheduled = (st.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    const ev = [...warnings].reverse().find((e) => (e as any).reason === 'FailedScheduling');
    return { ...base, reason: scheduled.reason ?? 'Unschedulable', message: oneLine((ev as any)?.message ?? scheduled.message ?? 'not scheduled'), severity: 1 };
  }
  const latest = warnings[warnings.length - 1] as any;
  const ready = (st.conditions ?? []).find((c: any) => c.type === 'Ready');
  if (st.phase === 'Running' && ready?.status === 'False' && latest?.reason === 'Unhealthy') {
    return { ...base, reason: 'Unhealthy', message: oneLine(latest.message), severity: 2 };
  }
  // Stateful members fenced or moved off a lost node: the controllers say so in Warning events.
  if (latest && /fenc|moved|replac|evict/i.test(`${latest.reason} ${latest.message}`) && Date.now() - eventTime(latest) < 10 * 60_000) {
    return { ...base, reason: latest.reason, message: oneLine(latest.message), severity: latest.type === 'Warning' ? 2 : 3 };
  }
  return undefined;
}

function lastTerminated(pod: Obj): string | undefined {
  for (const cs of (pod.status?.containerStatuses ?? []) as any[]) {
    const t = cs.state?.terminated;
    if (t && t.exitCode !== 0) return `container ${cs.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
  }
  return undefined;
}

/** A pod's state as one word for tables (kubectl get pods' STATUS column). */
export function podStatusWord(pod: Obj): string {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  const st = pod.status ?? {};
  for (const cs of (st.containerStatuses ?? []) as any[]) {
    if (cs.state?.waiting?.reason && cs.state.waiting.reason !== 'ContainerCreating') return cs.state.waiting.reason;
    if (cs.state?.terminated?.reason && st.phase !== 'Succeeded') return cs.state.terminated.reason;
  }
  if (st.phase === 'Pending' && (st.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False')) return 'Pending';
  return st.reason ?? st.phase ?? 'Unknown';
}

/** Every failing pod, most urgent first. */
export function podProblems(pods: readonly Obj[], events: readonly Obj[]): Problem[] {
  const warnings = warningsByObject(events);
  const out: Problem[] = [];
  for (const p of pods) {
    const pr = podProblem(p, warnings.get(`Pod/${p.metadata.namespace ?? ''}/${p.metadata.name}`));
    if (pr) out.push(pr);
  }
  return out.sort((a, b) => a.severity - b.severity || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** Workloads that have fewer ready replicas than they want (Deployments, StatefulSets, DaemonSets, ReplicaSets). */
export function workloadProblem(kind: string, o: Obj): Problem | undefined {
  const want = kind === 'DaemonSet' ? o.status?.desiredNumberScheduled ?? 0 : o.spec?.replicas ?? 1;
  const ready = (kind === 'DaemonSet' ? o.status?.numberReady : o.status?.readyReplicas) ?? 0;
  if (want === 0 || ready >= want) return undefined;
  const cond = ((o.status?.conditions ?? []) as any[]).find((c) => c.status === 'False' || c.type === 'ReplicaFailure');
  return { kind, namespace: o.metadata.namespace, name: o.metadata.name, reason: cond?.reason ?? 'NotReady', message: oneLine(`${ready}/${want} ready${cond?.message ? `: ${cond.message}` : ''}`), severity: 3 };
}
