import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { ingressClassStrategy, ingressStrategy } from './ingress.ts';

const ing = (spec: unknown): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x' }, spec });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);
const svc = (port: Record<string, unknown> = { number: 80 }) => ({ service: { name: 'web', port } });

test('a minimal Ingress (the Kubernetes docs\' example) is valid; neither rules nor defaultBackend is refused', () => {
  assert.deepEqual(f(ingressStrategy.validate!(ing({
    ingressClassName: 'nginx-example',
    rules: [{ http: { paths: [{ path: '/testpath', pathType: 'Prefix', backend: svc() }] } }],
  }))), []);
  assert.deepEqual(f(ingressStrategy.validate!(ing({ defaultBackend: svc({ name: 'http' }), tls: [{ hosts: ['*.example.com'], secretName: 's' }] }))), []);
  assert.deepEqual(f(ingressStrategy.validate!(ing({}))), ['spec:FieldValueInvalid']);
});

test('rules: hosts are DNS names (wildcard allowed, no IP), paths absolute with a pathType, one backend with one port', () => {
  const errs = ingressStrategy.validate!(ing({
    rules: [
      { host: '10.0.0.1', http: { paths: [{ path: 'rel', pathType: 'Prefix', backend: svc() }] } },
      { host: '*.ok.example', http: { paths: [{ path: '/', backend: svc({ name: 'http', number: 80 }) }, { path: '/x', pathType: 'Glob', backend: { ...svc(), resource: { kind: 'K', name: 'n' } } }] } },
      { http: { paths: [{ path: '/', pathType: 'Exact', backend: svc({ number: 70000 }) }] } },
    ],
  }));
  assert.deepEqual(f(errs), [
    'spec.rules[0].host:FieldValueInvalid', 'spec.rules[0].http.paths[0].path:FieldValueInvalid',
    'spec.rules[1].http.paths[0].pathType:FieldValueRequired', 'spec.rules[1].http.paths[0].backend.service.port:FieldValueInvalid',
    'spec.rules[1].http.paths[1].pathType:FieldValueNotSupported', 'spec.rules[1].http.paths[1].backend:FieldValueInvalid',
    'spec.rules[2].http.paths[0].backend.service.port.number:FieldValueInvalid',
  ]);
});

test('IngressClass: a domain-prefixed controller, immutable', () => {
  const ic = (controller?: string): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'c' }, spec: { controller } });
  assert.deepEqual(f(ingressClassStrategy.validate!(ic('k8s.io/ingress-nginx'))), []);
  assert.deepEqual(f(ingressClassStrategy.validate!(ic('nginx'))), ['spec.controller:FieldValueInvalid']);
  assert.deepEqual(f(ingressClassStrategy.validate!(ic())), ['spec.controller:FieldValueRequired']);
  assert.deepEqual(f(ingressClassStrategy.validateUpdate!(ic('a.io/x'), ic('b.io/x'))), ['spec.controller:FieldValueInvalid']);
});
