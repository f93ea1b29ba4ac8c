import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { apiServerRegistry, observeRequest } from './request-metrics.ts';
import type { RequestInfo } from './request-info.ts';

const lease: RequestInfo = { group: 'coordination.k8s.io', version: 'v1', namespace: 'kube-node-lease', resource: 'leases', name: 'n-1', verb: 'patch' };
const watch: RequestInfo = { group: '', version: 'v1', resource: 'pods', verb: 'watch' };

/** One request through observeRequest, its response closed `ms` after it started. */
function serve(method: string, info: RequestInfo, status: number, ms: number, query = new URLSearchParams()): () => void {
  const req = { method, headers: { 'content-type': 'application/merge-patch+json' } } as unknown as IncomingMessage;
  const res = Object.assign(new EventEmitter(), { statusCode: status }) as unknown as ServerResponse;
  observeRequest(req, res, info, performance.now() - ms, query);
  return () => res.emit('close');
}

test('requests are counted by code and timed, in the exposition prom-client gives its own counter and histogram', async () => {
  serve('PATCH', lease, 200, 30)();
  serve('PATCH', lease, 200, 30)();
  serve('PATCH', lease, 409, 30)();
  serve('PATCH', lease, 200, 30, new URLSearchParams('dryRun=All'))();
  const text = await apiServerRegistry.metrics();

  // The same observations through prom-client's own metrics: every line but the sums (times differ by µs) is the same.
  const peer = new Registry();
  const labelNames = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'];
  const c = new Counter({ name: 'apiserver_request_total', help: 'x', labelNames: [...labelNames, 'code'], registers: [peer] });
  const h = new Histogram({ name: 'apiserver_request_duration_seconds', help: 'x', labelNames, registers: [peer], buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60] });
  const labels = { verb: 'PATCH', dry_run: '', group: 'coordination.k8s.io', version: 'v1', resource: 'leases', subresource: '', scope: 'resource', component: 'apiserver' };
  c.inc({ ...labels, code: '200' }, 2);
  c.inc({ ...labels, code: '409' });
  c.inc({ ...labels, dry_run: 'All', code: '200' });
  for (let i = 0; i < 3; i++) h.observe(labels, 0.03);
  h.observe({ ...labels, dry_run: 'All' }, 0.03);
  const expected = (await peer.metrics()).split('\n').filter((l) => l && !l.startsWith('#') && !l.includes('_sum{'));
  const lines = new Set(text.split('\n'));
  for (const l of expected) assert.ok(lines.has(l), `missing: ${l}`);
  assert.match(text, /^apiserver_request_duration_seconds_sum\{verb="PATCH",dry_run="",group="coordination.k8s.io",version="v1",resource="leases",subresource="",scope="resource",component="apiserver"\} 0\.09\d*$/m);
  assert.match(text, /# TYPE apiserver_request_total counter/);
  assert.match(text, /# TYPE apiserver_request_duration_seconds histogram/);
});

test('a watch is long-running: in the gauge while open, then counted, never timed', async () => {
  const close = serve('GET', watch, 200, 5);
  const open = await apiServerRegistry.metrics();
  assert.match(open, /^apiserver_longrunning_requests\{verb="WATCH",group="",version="v1",resource="pods",subresource="",scope="cluster",component="apiserver"\} 1$/m);
  close();
  const after = await apiServerRegistry.metrics();
  assert.match(after, /^apiserver_longrunning_requests\{verb="WATCH",[^}]*\} 0$/m);
  assert.match(after, /^apiserver_request_total\{verb="WATCH",dry_run="",group="",version="v1",resource="pods",subresource="",scope="cluster",component="apiserver",code="200"\} 1$/m);
  assert.doesNotMatch(after, /apiserver_request_duration_seconds_count\{verb="WATCH"/);
});

test('a request is recorded once, whatever its response emits', async () => {
  const info: RequestInfo = { group: 'apps', version: 'v1', namespace: 'x', resource: 'deployments', verb: 'create' };
  const close = serve('POST', info, 201, 1);
  close();
  close();
  assert.match(await apiServerRegistry.metrics(), /^apiserver_request_total\{verb="POST",[^}]*resource="deployments"[^}]*code="201"\} 1$/m);
});

test('the merged registry of /metrics serves them (Registry.merge)', async () => {
  const merged = Registry.merge([apiServerRegistry, new Registry()]);
  assert.match(await merged.metrics(), /apiserver_request_total\{/);
  const json = await merged.getMetricsAsJSON();
  const total = json.find((m) => m.name === 'apiserver_request_total')!;
  assert.ok(total.values.some((v) => v.labels.code === '409' && v.value === 1));
  const duration = json.find((m) => m.name === 'apiserver_request_duration_seconds')!;
  assert.ok(duration.values.some((v) => v.labels.le === '+Inf' && v.labels.resource === 'leases' && v.labels.dry_run === ''));
});
