import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePodSpec, validatePodTemplateSpec } from './pod-spec.ts';
import { defaultPodSpec } from '../defaults/pod-spec.ts';

/** A defaulted spec built from a manifest, as the store would validate it. */
function spec(s: Record<string, any>): Record<string, any> {
  const c = structuredClone(s);
  defaultPodSpec(c);
  return c;
}

const web = () => ({
  containers: [{
    name: 'web', image: 'nginx:1.27',
    ports: [{ name: 'http', containerPort: 80 }],
    env: [{ name: 'MODE', value: 'prod' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
    readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
  }],
  volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'web-config' } }],
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
});

const fields = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field} ${e.type}`);

test('a realistic spec is valid', () => {
  assert.deepEqual(validatePodSpec(spec(web()), 'spec'), []);
});

test('containers are required', () => {
  const errs = validatePodSpec(spec({ containers: [] }), 'spec.template.spec');
  assert.deepEqual(errs, [{ type: 'FieldValueRequired', field: 'spec.template.spec.containers', message: 'Required value' }]);
});

test('container name, uniqueness and image', () => {
  const s = spec({ containers: [{ name: 'Web', image: 'a' }, { name: 'b', image: 'a' }, { name: 'b' }] });
  assert.deepEqual(fields(validatePodSpec(s, 'spec')), [
    'spec.containers[0].name FieldValueInvalid',
    'spec.containers[2].name FieldValueDuplicate',
    'spec.containers[2].image FieldValueRequired',
  ]);
});

test('ports: number range, protocol, names', () => {
  const s = spec({ containers: [{ name: 'a', image: 'a', ports: [
    { containerPort: 70000 }, { containerPort: 80, protocol: 'HTTP' }, { name: 'Http_1', containerPort: 81 },
    { name: 'web', containerPort: 82 }, { name: 'web', containerPort: 83 }, { name: 'x' },
  ] }] });
  const errs = validatePodSpec(s, 'spec');
  assert.deepEqual(fields(errs), [
    'spec.containers[0].ports[0].containerPort FieldValueInvalid',
    'spec.containers[0].ports[1].protocol FieldValueNotSupported',
    'spec.containers[0].ports[2].name FieldValueInvalid',
    'spec.containers[0].ports[4].name FieldValueDuplicate',
    'spec.containers[0].ports[5].containerPort FieldValueRequired',
  ]);
  assert.equal(errs[0].message, 'Invalid value: 70000: must be between 1 and 65535, inclusive');
  assert.equal(errs[1].message, 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"');
});

test('env names and valueFrom', () => {
  const s = spec({ containers: [{ name: 'a', image: 'a', env: [
    { name: '' }, { name: '1BAD' }, { name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }, { name: 'B', valueFrom: {} },
  ] }] });
  assert.deepEqual(fields(validatePodSpec(s, 'spec')), [
    'spec.containers[0].env[0].name FieldValueRequired',
    'spec.containers[0].env[1].name FieldValueInvalid',
    'spec.containers[0].env[2].valueFrom FieldValueInvalid',
    'spec.containers[0].env[3].valueFrom FieldValueInvalid',
  ]);
});

test('volumes: unique names, one source; mounts refer to volumes', () => {
  const s = spec({
    containers: [{ name: 'a', image: 'a', volumeMounts: [{ name: 'missing', mountPath: '/m' }, { name: 'v', mountPath: '/m' }] }],
    volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }, { name: 'v', secret: {} }],
  });
  const errs = validatePodSpec(s, 'spec');
  assert.deepEqual(fields(errs), [
    'spec.volumes[0].emptyDir FieldValueForbidden',
    'spec.volumes[1].secret.secretName FieldValueRequired',
    'spec.volumes[1].name FieldValueDuplicate',
    'spec.containers[0].volumeMounts[0].name FieldValueNotFound',
    'spec.containers[0].volumeMounts[1].mountPath FieldValueInvalid',
  ]);
  assert.equal(errs[0].message, 'Forbidden: may not specify more than 1 volume type');
  assert.equal(errs[3].message, 'Not found: "missing"');
});

test('probes need exactly one handler; thresholds non-negative; liveness successThreshold 1', () => {
  const s = spec({ containers: [{ name: 'a', image: 'a',
    livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 }, successThreshold: 2 },
    readinessProbe: { periodSeconds: -1 },
    startupProbe: { httpGet: { port: 0 } },
  }] });
  const errs = validatePodSpec(s, 'spec');
  assert.deepEqual(fields(errs), [
    'spec.containers[0].livenessProbe.tcpSocket FieldValueForbidden',
    'spec.containers[0].livenessProbe.successThreshold FieldValueInvalid',
    'spec.containers[0].readinessProbe FieldValueRequired',
    'spec.containers[0].readinessProbe.periodSeconds FieldValueInvalid',
    'spec.containers[0].startupProbe.httpGet.port FieldValueInvalid',
  ]);
  assert.equal(errs[2].message, 'Required value: must specify a handler type');
});

test('restartPolicy, dnsPolicy, terminationGracePeriodSeconds, activeDeadlineSeconds, tolerations', () => {
  const s = spec({ ...web(), restartPolicy: 'Sometimes', dnsPolicy: 'Google', terminationGracePeriodSeconds: -5, activeDeadlineSeconds: 0,
    tolerations: [{ operator: 'Equal', value: 'x' }, { key: 'k', operator: 'Exists', value: 'v' }, { key: 'k', tolerationSeconds: 5, effect: 'NoSchedule' }] });
  const errs = validatePodSpec(s, 'spec');
  assert.deepEqual(fields(errs), [
    'spec.restartPolicy FieldValueNotSupported',
    'spec.dnsPolicy FieldValueNotSupported',
    'spec.tolerations[0].operator FieldValueInvalid',
    'spec.tolerations[1].operator FieldValueInvalid',
    'spec.tolerations[2].effect FieldValueInvalid',
    'spec.activeDeadlineSeconds FieldValueInvalid',
    'spec.terminationGracePeriodSeconds FieldValueInvalid',
  ]);
  assert.equal(errs[0].message, 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  assert.equal(errs[6].message, 'Invalid value: -5: must be greater than or equal to 0');
});

test('template labels must match the selector', () => {
  const tpl = { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: spec(web()) };
  assert.deepEqual(validatePodTemplateSpec(tpl, 'spec.template', { matchLabels: { app: 'web' } }), []);
  const errs = validatePodTemplateSpec(tpl, 'spec.template', { matchLabels: { app: 'api' } });
  assert.deepEqual(errs, [{
    type: 'FieldValueInvalid', field: 'spec.template.metadata.labels',
    message: 'Invalid value: map[string]string{"app":"web", "tier":"fe"}: `selector` does not match template `labels`',
  }]);
});
