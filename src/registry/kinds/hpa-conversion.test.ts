import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpaFromV1, hpaToV1 } from './hpa-conversion.ts';

const v2 = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 10, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
  },
  status: {
    currentReplicas: 2, desiredReplicas: 3, observedGeneration: 4,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } }],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'm', lastTransitionTime: '2026-12-06T12:00:00Z' }],
  },
};

test('v2 → v1: the CPU target and figure in v1 fields, the rest in the alpha annotations', () => {
  const v1 = hpaToV1(structuredClone(v2));
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.deepEqual(v1.spec, { scaleTargetRef: v2.spec.scaleTargetRef, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
  assert.deepEqual(v1.status, { currentReplicas: 2, desiredReplicas: 3, observedGeneration: 4, currentCPUUtilizationPercentage: 90 });
  assert.deepEqual(JSON.parse(v1.metadata.annotations!['autoscaling.alpha.kubernetes.io/metrics']), [v2.spec.metrics[1]]);
  assert.ok(v1.metadata.annotations!['autoscaling.alpha.kubernetes.io/behavior']);
  assert.ok(v1.metadata.annotations!['autoscaling.alpha.kubernetes.io/conditions']);
});

test('v1 → v2 restores what the annotations carried; a plain v1 object gets its CPU metric', () => {
  const back = hpaFromV1(hpaToV1(structuredClone(v2)));
  assert.deepEqual(back.spec, v2.spec);
  assert.deepEqual(back.status.conditions, v2.status.conditions);
  assert.equal(back.metadata.annotations, undefined);
  const plain = hpaFromV1({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } });
  assert.deepEqual(plain.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  const none = hpaFromV1({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } });
  assert.equal(none.spec.metrics, undefined, 'left for the defaults (cpu 80 %)');
});
