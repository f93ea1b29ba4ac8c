import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPod, defaultPodSpec, defaultPullPolicy } from './pod-spec.ts';
import { podQOSClass } from '../../apis/pod-qos.ts';

test('image pull policy follows the tag', () => {
  assert.equal(defaultPullPolicy('nginx'), 'Always');
  assert.equal(defaultPullPolicy('nginx:latest'), 'Always');
  assert.equal(defaultPullPolicy('nginx:1.27'), 'IfNotPresent');
  assert.equal(defaultPullPolicy('localhost:5000/app'), 'Always');
  assert.equal(defaultPullPolicy('localhost:5000/app:v1'), 'IfNotPresent');
  assert.equal(defaultPullPolicy('nginx@sha256:abc'), 'IfNotPresent');
});

test('pod spec defaults', () => {
  const spec: Record<string, any> = {
    containers: [{
      name: 'a', image: 'nginx:1.27', ports: [{ containerPort: 80 }],
      livenessProbe: { httpGet: { port: 80 } }, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
    }],
    volumes: [{ name: 'scratch' }, { name: 's', secret: { secretName: 'x' } }],
  };
  defaultPodSpec(spec);
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.schedulerName, 'default-scheduler');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.deepEqual(spec.securityContext, {});
  assert.equal(spec.enableServiceLinks, undefined, 'pod-only default');
  const c = spec.containers[0];
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.equal(c.ports[0].protocol, 'TCP');
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.equal(c.readinessProbe.periodSeconds, 5);
  assert.deepEqual(spec.volumes[0], { name: 'scratch', emptyDir: {} });
  assert.equal(spec.volumes[1].secret.defaultMode, 420);
});

test('pod-only defaults', () => {
  const pod: any = { metadata: {}, spec: { hostNetwork: true, containers: [{ name: 'a', image: 'a', ports: [{ containerPort: 53 }], resources: { limits: { cpu: '1' } } }] } };
  defaultPod(pod);
  assert.equal(pod.spec.enableServiceLinks, true);
  assert.equal(pod.spec.serviceAccountName, 'default');
  assert.equal(pod.spec.serviceAccount, 'default');
  assert.equal(pod.spec.containers[0].ports[0].hostPort, 53);
  assert.deepEqual(pod.spec.containers[0].resources.requests, { cpu: '1' });
});

test('QoS classes', () => {
  const ctr = (resources: object) => ({ containers: [{ name: 'a', image: 'a', resources }] });
  assert.equal(podQOSClass(ctr({})), 'BestEffort');
  assert.equal(podQOSClass(ctr({ requests: { cpu: '100m' } })), 'Burstable');
  assert.equal(podQOSClass(ctr({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Guaranteed');
  assert.equal(podQOSClass(ctr({ requests: { cpu: '1000m', memory: '1Gi' }, limits: { cpu: '1', memory: '1024Mi' } })), 'Guaranteed');
  assert.equal(podQOSClass(ctr({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })), 'Burstable');
  assert.equal(podQOSClass(ctr({ limits: { cpu: '1' }, requests: { cpu: '1' } })), 'Burstable');
});
