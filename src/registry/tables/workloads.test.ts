import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { controllerRevisionTable, daemonSetTable, deploymentTable, replicaSetFieldSelectors, replicaSetTable, statefulSetTable } from './apps.ts';
import { cronJobTable, jobFieldSelectors, jobTable } from './batch.ts';

const now = new Date('2024-01-01T12:00:00Z');
const meta = { name: 'web', namespace: 'default', creationTimestamp: '2024-01-01T09:00:00Z' };
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'side', image: 'busybox' }] } };
const obj = (o: any): KubeObject => ({ metadata: { ...meta }, ...o });
const names = (cols: { name: string }[]) => cols.map((c) => c.name);

test('deployment', () => {
  assert.deepEqual(names(deploymentTable.columns), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  const d = obj({
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, template },
    status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  });
  assert.deepEqual(deploymentTable.cells(d, now), ['web', '2/3', 3, 2, '3h', 'nginx,side', 'nginx:1.25,busybox', 'app=web,tier in (a,b)']);
  assert.deepEqual(deploymentTable.cells(obj({ spec: { template } }), now).slice(1, 4), ['0/1', 0, 0]);
  assert.equal(deploymentTable.cells(obj({ spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Bad' }] } } }), now)[7], '<invalid>');
});

test('replicaset', () => {
  const rs = obj({ spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template }, status: { replicas: 2, readyReplicas: 1 } });
  assert.deepEqual(replicaSetTable.cells(rs, now), ['web', 2, 2, 1, '3h', 'nginx,side', 'nginx:1.25,busybox', 'app=web']);
  assert.equal(replicaSetFieldSelectors['status.replicas'](rs), '2');
  assert.equal(replicaSetFieldSelectors['status.replicas'](obj({})), '0');
});

test('statefulset', () => {
  assert.deepEqual(names(statefulSetTable.columns), ['Name', 'Ready', 'Age', 'Containers', 'Images']);
  assert.deepEqual(statefulSetTable.cells(obj({ spec: { replicas: 3, template }, status: { readyReplicas: 3 } }), now), ['web', '3/3', '3h', 'nginx,side', 'nginx:1.25,busybox']);
});

test('daemonset', () => {
  assert.deepEqual(names(daemonSetTable.columns), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector']);
  const ds = obj({
    spec: { selector: { matchLabels: { app: 'web' } }, template: { ...template, spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux', disk: 'ssd' } } } },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  });
  assert.deepEqual(daemonSetTable.cells(ds, now), ['web', 3, 3, 2, 3, 2, 'disk=ssd,kubernetes.io/os=linux', '3h', 'nginx,side', 'nginx:1.25,busybox', 'app=web']);
  assert.equal(daemonSetTable.cells(obj({ spec: { template } }), now)[6], '<none>');
});

test('controllerrevision', () => {
  const cr = obj({ revision: 2, metadata: { ...meta, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }] } });
  assert.deepEqual(controllerRevisionTable.cells(cr, now), ['web', 'statefulset.apps/db', 2, '3h']);
  assert.equal(controllerRevisionTable.cells(obj({ revision: 1 }), now)[1], '<none>');
});

test('job: status, completions, duration', () => {
  assert.deepEqual(names(jobTable.columns), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
  const done = obj({
    spec: { completions: 3, template, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } } },
    status: { succeeded: 3, startTime: '2024-01-01T10:00:00Z', completionTime: '2024-01-01T10:02:30Z', conditions: [{ type: 'Complete', status: 'True' }] },
  });
  assert.deepEqual(jobTable.cells(done, now), ['web', 'Complete', '3/3', '2m30s', '3h', 'nginx,side', 'nginx:1.25,busybox', 'batch.kubernetes.io/controller-uid=u1']);
  const running = obj({ spec: { parallelism: 2, template }, status: { succeeded: 0, startTime: '2024-01-01T11:59:00Z' } });
  assert.deepEqual(jobTable.cells(running, now).slice(1, 4), ['Running', '0/1 of 2', '60s']);
  assert.deepEqual(jobTable.cells(obj({ spec: { template } }), now).slice(1, 4), ['Running', '0/1', '']);
  assert.equal(jobTable.cells(obj({ spec: {}, status: { conditions: [{ type: 'Failed', status: 'True' }] } }), now)[1], 'Failed');
  assert.equal(jobTable.cells(obj({ spec: {}, status: { conditions: [{ type: 'Suspended', status: 'True' }] } }), now)[1], 'Suspended');
  assert.equal(jobTable.cells(obj({ metadata: { ...meta, deletionTimestamp: '2024-01-01T11:00:00Z' }, spec: {} }), now)[1], 'Terminating');
  assert.equal(jobFieldSelectors['status.successful'](done), '3');
});

test('cronjob', () => {
  assert.deepEqual(names(cronJobTable.columns), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector']);
  const cj = obj({
    spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: 'web-1' }], lastScheduleTime: '2024-01-01T11:55:00Z' },
  });
  assert.deepEqual(cronJobTable.cells(cj, now), ['web', '*/5 * * * *', '<none>', 'False', 1, '5m', '3h', 'nginx,side', 'nginx:1.25,busybox', '<none>']);
  const cj2 = obj({ spec: { schedule: '0 0 * * *', timeZone: 'Europe/Paris', suspend: true, jobTemplate: { spec: { template } } } });
  assert.deepEqual(cronJobTable.cells(cj2, now).slice(1, 6), ['0 0 * * *', 'Europe/Paris', 'True', 0, '<none>']);
  assert.equal(cronJobTable.cells(obj({ spec: {} }), now)[3], '<unset>');
});
