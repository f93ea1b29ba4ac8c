import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { startTestEnv, type TestEnv } from '../control-plane.fixture.ts';
import { FakeClock } from '../cronjob/clock.ts';
import { HPAS, HorizontalController } from './horizontal-controller.ts';

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
  const hpa = new HorizontalController(c, factory, env.log, { metrics, resources: env.server.registry.types.map((t) => t.info), clock, syncPeriodMs: 3_600_000 });
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
