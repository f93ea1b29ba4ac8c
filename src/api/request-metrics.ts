/**
 * The API server's request metrics (k8s.io/apiserver/pkg/endpoints/metrics): apiserver_request_total
 * by verb, group, version, resource, subresource, scope, component and code;
 * apiserver_request_duration_seconds for requests that are not long-running; and
 * apiserver_longrunning_requests (watches and streams open now). One registry per process; the
 * server's /metrics serves it with the others.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestInfo } from './request-info.ts';

export const apiServerRegistry = new Registry();

const registers = [apiServerRegistry];
const LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'] as const;
const requests = new Counter({ name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.', labelNames: LABELS, registers });
const duration = new Histogram({
  name: 'apiserver_request_duration_seconds', help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
  labelNames: LABELS.filter((l) => l !== 'code'), registers,
  buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
});
const longRunning = new Gauge({ name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.', labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'], registers });

const STREAMS = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/** Kubernetes' canonical verb: LIST / WATCH / GET / POST / PUT / PATCH / DELETE / APPLY / CONNECT. */
function verbOf(req: IncomingMessage, info: RequestInfo | undefined): string {
  if (!info) return (req.method ?? 'GET').toUpperCase();
  if (info.verb === 'list') return 'LIST';
  if (info.verb === 'watch') return 'WATCH';
  if (info.verb === 'patch' && (req.headers['content-type'] ?? '').startsWith('application/apply-patch')) return 'APPLY';
  if (info.subresource && STREAMS.has(info.subresource) && info.subresource !== 'log') return 'CONNECT';
  return (req.method ?? 'GET').toUpperCase();
}

function scopeOf(info: RequestInfo | undefined): string {
  if (!info) return '';
  if (info.name) return 'resource';
  return info.namespace ? 'namespace' : 'cluster';
}

/**
 * Records one request: counted and timed when its response is finished (or the client left); a
 * watch or stream is long-running — counted, but in the gauge while open instead of the histogram.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse, info: RequestInfo | undefined, startedAt: number, query?: URLSearchParams): void {
  const verb = verbOf(req, info);
  const labels = {
    verb, dry_run: query?.getAll('dryRun').join(',') ?? '', group: info?.group ?? '', version: info?.version ?? '', resource: info?.resource ?? '',
    subresource: info?.subresource ?? '', scope: scopeOf(info), component: 'apiserver',
  };
  const long = verb === 'WATCH' || verb === 'CONNECT' || (info?.subresource === 'log' && query?.get('follow') === 'true');
  const lrLabels = { verb, group: labels.group, version: labels.version, resource: labels.resource, subresource: labels.subresource, scope: labels.scope, component: 'apiserver' };
  if (long) longRunning.inc(lrLabels);
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    requests.inc({ ...labels, code: String(res.statusCode) });
    if (long) longRunning.dec(lrLabels);
    else duration.observe(labels, (performance.now() - startedAt) / 1000);
  };
  res.once('finish', record);
  res.once('close', record);
}
