import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { startTestEnv, type TestEnv } from '../control-plane.fixture.ts';
import { FakeClock } from '../cronjob/clock.ts';
import { HPAS, HorizontalController } from './horizontal-controller.ts';
import { registryScales } from './scale-client.ts';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
let env: TestEnv;
before(async () => { env = await startTestEnv(); });
after(async () => { await env.close(); });

test('HPA controller: scales a Deployment up on CPU, holds a scale-down for the 5 min window, then scales down; status and conditions', async () => {
  const c = env.client;
  const clock = new FakeClock(Date.parse('2026-12-06T12:00:00Z'));
  await c.create(DEPLOYMENTS, 'default', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'host' }] } } },
  });
  const pod = await c.create(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'host', resources: { requests: { cpu: '100m' } } }] },
  });
  const long = '2026-12-06T11:00:00Z';
  await c.update(R.pods, 'default', { ...pod, status: { phase: 'Running', startTime: long, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: long }] } }, 'status');
  await c.create(HPAS, 'default', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  });
  let cpu = '200m';
  const metrics = async (): Promise<KubeObject[]> => [{
    apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name: 'web-1', namespace: 'default' },
    timestamp: new Date(clock.now() - 5000).toISOString(), window: '10s', containers: [{ name: 'c', usage: { cpu, memory: '10Mi' } }],
  }];
  const factory = new InformerFactory(c, { log: env.log });
  const hpa = new HorizontalController(c, factory, env.log, { metrics, scales: registryScales(env.server.registry, c), clock, syncPeriodMs: 3_600_000 });
  factory.start();
  try {
    const replicas = async () => (await c.get(DEPLOYMENTS, 'default', 'web')).spec.replicas;
    const status = async () => (await c.get(HPAS, 'default', 'web')).status;
    const cond = (st: any, type: string) => st.conditions.find((x: any) => x.type === type);

    // 200 % of the request against 50 %: 4 × 1 = 4 (and within max(2 × 1, 4)).
    await hpa.reconcile('default/web');
    assert.equal(await replicas(), 4);
    let st = await status();
    assert.equal(st.desiredReplicas, 4);
    assert.deepEqual(st.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 200, averageValue: '200m' } } }]);
    assert.equal(cond(st, 'AbleToScale').reason, 'SucceededRescale');
    assert.equal(cond(st, 'ScalingActive').reason, 'ValidMetricFound');
    assert.equal(cond(st, 'ScalingLimited').reason, 'DesiredWithinRange');
    assert.ok(st.lastScaleTime);

    // Load gone: 10 % → 1, held by the 5 min window of recommendations.
    cpu = '10m';
    clock.advance(60_000);
    await hpa.reconcile('default/web');
    assert.equal(await replicas(), 4);
    st = await status();
    assert.equal(cond(st, 'AbleToScale').reason, 'ScaleDownStabilized');
    clock.advance(300_000);
    await hpa.reconcile('default/web');
    assert.equal(await replicas(), 1);

    // A target that does not exist: AbleToScale False, FailedGetScale.
    await c.patch(HPAS, 'default', 'web', 'merge', { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nope' } } });
    await hpa.reconcile('default/web');
    st = await status();
    assert.equal(cond(st, 'AbleToScale').status, 'False');
    assert.equal(cond(st, 'AbleToScale').reason, 'FailedGetScale');
  } finally {
    factory.stop();
    hpa.queue.shutDown();
  }
});


test('HPA controller: scales a custom resource through its CRD\'s scale subresource (specReplicasPath, labelSelectorPath), found after the controller started', async () => {
  const c = env.client;
  const clock = new FakeClock(Date.parse('2026-12-06T12:00:00Z'));
  const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
  const POOLS = { group: 'hpa.example.com', version: 'v1', resource: 'pools' };
  const metrics = async (_ns: string, selector: string): Promise<KubeObject[]> => {
    assert.equal(selector, 'tier=pool', 'pods are picked by the Scale\'s status.selector');
    return ['pool-a', 'pool-b'].map((name) => ({
      apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name, namespace: 'default' },
      timestamp: new Date(clock.now() - 5000).toISOString(), window: '10s', containers: [{ name: 'c', usage: { cpu: '150m', memory: '10Mi' } }],
    }));
  };
  const factory = new InformerFactory(c, { log: env.log });
  const hpa = new HorizontalController(c, factory, env.log, { metrics, scales: registryScales(env.server.registry, c), clock, syncPeriodMs: 3_600_000 });
  factory.start();
  try {
    // The CRD keeps replicas at spec.size and the selector in status: only the scale mapping knows where.
    const crd = await c.create(CRDS, undefined, {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'pools.hpa.example.com' },
      spec: {
        group: 'hpa.example.com', scope: 'Namespaced', names: { plural: 'pools', singular: 'pool', kind: 'Pool', listKind: 'PoolList' },
        versions: [{
          name: 'v1', served: true, storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.count', labelSelectorPath: '.status.selector' } },
          schema: { openAPIV3Schema: { type: 'object', properties: {
            spec: { type: 'object', properties: { size: { type: 'integer' } } },
            status: { type: 'object', properties: { count: { type: 'integer' }, selector: { type: 'string' } } },
          } } },
        }],
      },
    });
    await c.update(CRDS, undefined, { ...crd, status: { storedVersions: ['v1'], conditions: [{ type: 'NamesAccepted', status: 'True' }, { type: 'Established', status: 'True' }] } }, 'status');
    for (let i = 0; i < 200 && !env.server.registry.store('hpa.example.com', 'pools'); i++) await new Promise((r) => setTimeout(r, 25));
    const pool = await c.create(POOLS, 'default', { apiVersion: 'hpa.example.com/v1', kind: 'Pool', metadata: { name: 'p' }, spec: { size: 2 } });
    await c.update(POOLS, 'default', { ...pool, status: { count: 2, selector: 'tier=pool' } }, 'status');
    const long = '2026-12-06T11:00:00Z';
    for (const name of ['pool-a', 'pool-b']) {
      const pod = await c.create(R.pods, 'default', {
        apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { tier: 'pool' } },
        spec: { containers: [{ name: 'c', image: 'host', resources: { requests: { cpu: '100m' } } }] },
      });
      await c.update(R.pods, 'default', { ...pod, status: { phase: 'Running', startTime: long, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: long }] } }, 'status');
    }
    await c.create(HPAS, 'default', {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'pool' },
      spec: { scaleTargetRef: { apiVersion: 'hpa.example.com/v1', kind: 'Pool', name: 'p' }, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    });
    // 150 % against 50 %: 3 × 2 = 6 (within max(2 × 2, 4) = 4 → 4: upstream's older scale-up limit).
    await hpa.reconcile('default/pool');
    const after = await c.get(POOLS, 'default', 'p');
    assert.equal(after.spec.size, 4, 'replicas written where the CRD\'s specReplicasPath says');
    assert.equal(after.spec.replicas, undefined);
    assert.ok((after.metadata.managedFields ?? []).some((m: any) => m.subresource === 'scale'), 'the write is recorded as through the scale subresource');
    const st = (await c.get(HPAS, 'default', 'pool')).status;
    assert.equal(st.currentReplicas, 2, 'current replicas from the Scale\'s status (statusReplicasPath)');
    assert.equal(st.desiredReplicas, 4);
    assert.equal(st.conditions.find((x: any) => x.type === 'AbleToScale').reason, 'SucceededRescale');
  } finally {
    factory.stop();
    hpa.queue.shutDown();
  }
});
