/**
 * `kubectl get pods` columns and the pod field selectors, after printers.go printPod and
 * pkg/registry/core/pod/strategy.go (PodToSelectableFields).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldGetter, TableConvertor } from '../types.ts';
import { translateTimestampSince } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from './format.ts';

interface Acc {
  restarts: number;
  last: number; // ms epoch of the latest last-termination finishedAt; 0 if none
}

function noteRestart(acc: Acc, cs: any): void {
  acc.restarts += typeof cs?.restartCount === 'number' ? cs.restartCount : 0;
  const finished = cs?.lastState?.terminated?.finishedAt;
  if (finished) {
    const t = Date.parse(finished);
    if (!Number.isNaN(t) && t > acc.last) acc.last = t;
  }
}

/** A sidecar: an init container with `restartPolicy: Always`. */
const isRestartable = (c: any): boolean => c?.restartPolicy === 'Always';

function hasCondition(pod: KubeObject, type: string): boolean {
  const conds = pod.status?.conditions;
  return Array.isArray(conds) && conds.some((c: any) => c?.type === type && c?.status === 'True');
}

/** The READY, STATUS and RESTARTS cells, derived like kubectl. */
export function podStatusCells(pod: KubeObject, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const containers: any[] = Array.isArray(spec.containers) ? spec.containers : [];
  const initContainers: any[] = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const initStatuses: any[] = Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : [];
  const statuses: any[] = Array.isArray(status.containerStatuses) ? status.containerStatuses : [];

  let total = containers.length;
  let ready = 0;
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;

  if (Array.isArray(status.conditions)) {
    for (const c of status.conditions) {
      if (c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated') reason = 'SchedulingGated';
    }
  }

  const initByName = new Map<string, any>();
  for (const c of initContainers) {
    initByName.set(c?.name, c);
    if (isRestartable(c)) total++;
  }

  const all: Acc = { restarts: 0, last: 0 };
  const sidecars: Acc = { restarts: 0, last: 0 };
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const sidecar = isRestartable(initByName.get(cs?.name));
    noteRestart(all, cs);
    if (sidecar) noteRestart(sidecars, cs);
    const term = cs?.state?.terminated;
    const waiting = cs?.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (sidecar && cs?.started === true) {
      if (cs?.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  let acc = all;
  if (!initializing || hasCondition(pod, 'Initialized')) {
    // Once initialised, only sidecar restarts count among the init containers.
    acc = { ...sidecars };
    let hasRunning = false;
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      noteRestart(acc, cs);
      const waiting = cs?.state?.waiting;
      const term = cs?.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs?.ready && cs?.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restarts = String(acc.restarts);
  if (acc.restarts !== 0 && acc.last !== 0) {
    restarts = `${acc.restarts} (${translateTimestampSince(new Date(acc.last).toISOString(), now)} ago)`;
  }
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

function readinessGates(pod: KubeObject): string {
  const gates: any[] = Array.isArray(pod.spec?.readinessGates) ? pod.spec.readinessGates : [];
  if (gates.length === 0) return '<none>';
  const conds: any[] = Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
  let trueCount = 0;
  for (const g of gates) {
    const c = conds.find((x) => x?.type === g?.conditionType);
    if (c?.status === 'True') trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

/** The pod's primary IP: `status.podIPs[0].ip`, else `status.podIP`. */
export function podIP(pod: KubeObject): string {
  const ips = pod.status?.podIPs;
  if (Array.isArray(ips) && ips.length > 0 && ips[0]?.ip) return ips[0].ip;
  return pod.status?.podIP ?? '';
}

export const podTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', false, 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', false, 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', false, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    col('IP', 'string', true, 'IP address allocated to the pod.'),
    col('Node', 'string', true, 'The node the pod is bound to.'),
    col('Nominated Node', 'string', true, 'The node the scheduler nominated for this pod.'),
    col('Readiness Gates', 'string', true, 'Pod readiness gates that are True, out of all.'),
  ],
  cells(pod, now) {
    const s = podStatusCells(pod, now);
    return [
      pod.metadata.name, s.ready, s.status, s.restarts, age(pod, now),
      podIP(pod) || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates(pod),
    ];
  },
};

/** Pod fields selectable beyond metadata.name/namespace (PodToSelectableFields). */
export const podFieldSelectors: Record<string, FieldGetter> = {
  'spec.nodeName': (p) => p.spec?.nodeName,
  'spec.restartPolicy': (p) => p.spec?.restartPolicy,
  'spec.schedulerName': (p) => p.spec?.schedulerName,
  'spec.serviceAccountName': (p) => p.spec?.serviceAccountName,
  'spec.hostNetwork': (p) => (p.spec?.hostNetwork === true ? 'true' : 'false'),
  'status.phase': (p) => p.status?.phase,
  'status.podIP': (p) => podIP(p) || undefined,
  'status.nominatedNodeName': (p) => p.status?.nominatedNodeName,
};
