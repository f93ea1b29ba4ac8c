/**
 * autoscaling/v1 ⇄ autoscaling/v2 HorizontalPodAutoscalers (pkg/apis/autoscaling/v1/conversion.go):
 * v1 has one CPU target (targetCPUUtilizationPercentage) and one current figure; whatever v2 holds
 * beyond that — other metrics, behavior, conditions, current metrics — travels in v1 as JSON in the
 * `autoscaling.alpha.kubernetes.io/*` annotations, so a round trip through v1 loses nothing.
 */
import type { KubeObject } from '../../apis/object.ts';

type Rec = Record<string, any>;

const A = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
};

const isCpuUtilization = (m: Rec) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';

/** A stored (v2) object as autoscaling/v1 shows it. */
export function hpaToV1(obj: KubeObject): KubeObject {
  const spec: Rec = obj.spec ?? {};
  const status: Rec = obj.status ?? {};
  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}) };
  const metrics: Rec[] = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) annotations[A.metrics] = JSON.stringify(others);
  if (spec.behavior) annotations[A.behavior] = JSON.stringify(spec.behavior);
  if (status.conditions?.length) annotations[A.conditions] = JSON.stringify(status.conditions);
  const current: Rec[] = status.currentMetrics ?? [];
  const cpuNow = current.find((c) => c.type === 'Resource' && c.resource?.name === 'cpu');
  const otherNow = current.filter((c) => c !== cpuNow);
  if (otherNow.length) annotations[A.currentMetrics] = JSON.stringify(otherNow);
  const metadata: Rec = { ...obj.metadata, annotations };
  if (!Object.keys(annotations).length) delete metadata.annotations;
  const v1Spec: Rec = { scaleTargetRef: spec.scaleTargetRef, maxReplicas: spec.maxReplicas };
  if (spec.minReplicas !== undefined) v1Spec.minReplicas = spec.minReplicas;
  if (cpu) v1Spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
  const v1Status: Rec = { currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0 };
  for (const f of ['observedGeneration', 'lastScaleTime']) if (status[f] !== undefined) v1Status[f] = status[f];
  if (cpuNow?.resource?.current?.averageUtilization !== undefined) v1Status.currentCPUUtilizationPercentage = cpuNow.resource.current.averageUtilization;
  return { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata, spec: v1Spec, status: v1Status };
}

function takeJson(annotations: Record<string, string>, key: string): any {
  const v = annotations[key];
  delete annotations[key];
  if (v === undefined) return undefined;
  try { return JSON.parse(v); } catch { return undefined; }
}

/** An autoscaling/v1 object as stored (v2); what the v1 annotations carried is restored. */
export function hpaFromV1(obj: KubeObject): KubeObject {
  const spec: Rec = obj.spec ?? {};
  const status: Rec = obj.status ?? {};
  const annotations: Record<string, string> = { ...(obj.metadata?.annotations ?? {}) };
  const metrics: Rec[] = [];
  if (spec.targetCPUUtilizationPercentage !== undefined && spec.targetCPUUtilizationPercentage !== null) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  metrics.push(...(takeJson(annotations, A.metrics) ?? []));
  const behavior = takeJson(annotations, A.behavior);
  const conditions = takeJson(annotations, A.conditions);
  const currentOthers: Rec[] = takeJson(annotations, A.currentMetrics) ?? [];
  const v2Spec: Rec = { scaleTargetRef: spec.scaleTargetRef, maxReplicas: spec.maxReplicas };
  if (spec.minReplicas !== undefined) v2Spec.minReplicas = spec.minReplicas;
  if (metrics.length) v2Spec.metrics = metrics;
  if (behavior) v2Spec.behavior = behavior;
  const v2Status: Rec = { currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0 };
  for (const f of ['observedGeneration', 'lastScaleTime']) if (status[f] !== undefined) v2Status[f] = status[f];
  const currentMetrics: Rec[] = [];
  if (status.currentCPUUtilizationPercentage !== undefined) currentMetrics.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } });
  currentMetrics.push(...currentOthers);
  if (currentMetrics.length) v2Status.currentMetrics = currentMetrics;
  if (conditions) v2Status.conditions = conditions;
  const metadata: Rec = { ...(obj.metadata ?? {}), annotations };
  if (!Object.keys(annotations).length) delete metadata.annotations;
  return { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata, spec: v2Spec, status: v2Status };
}
