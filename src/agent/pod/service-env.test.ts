import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { serviceLinkEnv } from './service-env.ts';

const svc = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec });
const kubernetes = svc('default', 'kubernetes', { clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] });
const services = [
  kubernetes,
  svc('app', 'web-front', { clusterIP: '10.43.0.7', ports: [{ port: 80 }, { name: 'metrics', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
  svc('app', 'headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
  svc('app', 'ext', { type: 'ExternalName', externalName: 'example.com' }),
  svc('other', 'db', { clusterIP: '10.43.0.9', ports: [{ port: 5432 }] }),
];
const pod = (ns: string, spec: Record<string, unknown> = {}): KubeObject => ({ metadata: { namespace: ns, name: 'p' }, spec });

test('the kubelet\'s service link variables: the kubernetes Service always, the namespace\'s Services unless disabled', () => {
  assert.deepEqual(serviceLinkEnv(pod('app'), services), {
    KUBERNETES_SERVICE_HOST: '10.43.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.43.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.43.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.43.0.1',
    WEB_FRONT_SERVICE_HOST: '10.43.0.7',
    WEB_FRONT_SERVICE_PORT: '80',
    WEB_FRONT_SERVICE_PORT_METRICS: '9090',
    WEB_FRONT_SERVICE_PORT_DNS: '53',
    WEB_FRONT_PORT: 'tcp://10.43.0.7:80',
    WEB_FRONT_PORT_80_TCP: 'tcp://10.43.0.7:80',
    WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
    WEB_FRONT_PORT_80_TCP_PORT: '80',
    WEB_FRONT_PORT_80_TCP_ADDR: '10.43.0.7',
    WEB_FRONT_PORT_9090_TCP: 'tcp://10.43.0.7:9090',
    WEB_FRONT_PORT_9090_TCP_PROTO: 'tcp',
    WEB_FRONT_PORT_9090_TCP_PORT: '9090',
    WEB_FRONT_PORT_9090_TCP_ADDR: '10.43.0.7',
    WEB_FRONT_PORT_53_UDP: 'udp://10.43.0.7:53',
    WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
    WEB_FRONT_PORT_53_UDP_PORT: '53',
    WEB_FRONT_PORT_53_UDP_ADDR: '10.43.0.7',
  });
  assert.deepEqual(Object.keys(serviceLinkEnv(pod('app', { enableServiceLinks: false }), services)).filter((k) => !k.startsWith('KUBERNETES_')), [], 'enableServiceLinks: false keeps only the API server');
  assert.equal(serviceLinkEnv(pod('app', { enableServiceLinks: false }), services).KUBERNETES_SERVICE_HOST, '10.43.0.1');
  assert.equal(serviceLinkEnv(pod('other'), services).DB_SERVICE_PORT, '5432');
  assert.equal(serviceLinkEnv(pod('other'), services).WEB_FRONT_SERVICE_HOST, undefined, 'other namespaces\' Services are not linked');
});

test('a Service named kubernetes in the pod\'s namespace wins over the API server\'s, whatever the order', () => {
  const own = svc('app', 'kubernetes', { clusterIP: '10.43.0.50', ports: [{ port: 8080 }] });
  assert.equal(serviceLinkEnv(pod('app'), [kubernetes, own]).KUBERNETES_SERVICE_HOST, '10.43.0.50');
  assert.equal(serviceLinkEnv(pod('app'), [own, kubernetes]).KUBERNETES_SERVICE_HOST, '10.43.0.50');
  assert.equal(serviceLinkEnv(pod('app'), []).KUBERNETES_SERVICE_HOST, undefined, 'no Service, no variables');
});
