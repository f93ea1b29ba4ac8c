/**
 * `kubectl get horizontalpodautoscalers` columns (printers.go printHorizontalPodAutoscaler): NAME,
 * REFERENCE (kind/name), TARGETS (current/target per metric, `<unknown>` before the controller's
 * first status), MINPODS, MAXPODS, REPLICAS, AGE.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from './format.ts';

type Rec = Record<string, any>;

/** TARGETS as kubectl 1.32 prints them: `cpu: 45%/80%`, `memory: 120Mi/100Mi`, `<unknown>` before the first status. */
function targetsCell(hpa: KubeObject): string {
  const metrics: Rec[] = hpa.spec?.metrics ?? [];
  if (!metrics.length) return '<none>';
  const current: Rec[] = hpa.status?.currentMetrics ?? [];
  const parts = metrics.map((m) => {
    if (m.type !== 'Resource' && m.type !== 'ContainerResource') return `<unknown>/${m[m.type?.charAt(0).toLowerCase() + m.type?.slice(1)]?.target?.averageValue ?? m[m.type?.charAt(0).toLowerCase() + m.type?.slice(1)]?.target?.value ?? '<unknown>'}`;
    const key = m.type === 'Resource' ? 'resource' : 'containerResource';
    const src: Rec = m[key] ?? {};
    const cur = current.find((c) => c.type === m.type && c[key]?.name === src.name)?.[key]?.current;
    const t: Rec = src.target ?? {};
    if (t.type === 'Utilization') return `${src.name}: ${cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : '<unknown>'}/${t.averageUtilization}%`;
    return `${src.name}: ${cur?.averageValue ?? '<unknown>'}/${t.averageValue ?? t.value}`;
  });
  return parts.length > 2 ? `${parts.slice(0, 2).join(', ')} + ${parts.length - 2} more...` : parts.join(', ');
}

export const horizontalPodAutoscalerTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Reference', 'string', false, 'scaleTargetRef points to the target resource to scale'),
    col('Targets', 'string', false, 'metrics contains the specifications for which to use to calculate the desired replica count'),
    col('MinPods', 'string', false, 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'integer', false, 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'integer', false, 'currentReplicas is current number of replicas of pods managed by this autoscaler'),
    AGE_COLUMN,
  ],
  cells: (hpa, now) => [
    hpa.metadata.name, `${hpa.spec?.scaleTargetRef?.kind}/${hpa.spec?.scaleTargetRef?.name}`, targetsCell(hpa),
    hpa.spec?.minReplicas !== undefined ? String(hpa.spec.minReplicas) : '<unset>', hpa.spec?.maxReplicas ?? 0, hpa.status?.currentReplicas ?? 0, age(hpa, now),
  ],
};

