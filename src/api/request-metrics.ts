/**
 * The API server's request metrics (k8s.io/apiserver/pkg/endpoints/metrics): apiserver_request_total
 * by verb, group, version, resource, subresource, scope, component and code;
 * apiserver_request_duration_seconds for requests that are not long-running; and
 * apiserver_longrunning_requests (watches and streams open now). One registry per process; the
 * server's /metrics serves it with the others.
 *
 * The counter and the histogram are kept here per label set (a series, found by one string key) and
 * formatted by prom-client only when scraped (util/prom-series.ts: prom-client's own inc/observe
 * cost ~15 µs a request, 2–3 % of a Lease renewal's server CPU over HTTPS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { RequestInfo } from './request-info.ts';
import { HistogramSeries, histogramValues, registerFamily, type MetricValue } from '../util/prom-series.ts';

export const apiServerRegistry = new Registry();

const registers = [apiServerRegistry];
const longRunning = new Gauge({ name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.', labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'], registers });

/** kube-apiserver's buckets for apiserver_request_duration_seconds. */
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** One label set: its requests by code, and (requests that are not long-running) their latencies. */
interface Series {
  labels: Readonly<Record<string, string>>;
  codes: Map<number, number>;
  latency: HistogramSeries;
}

const series = new Map<string, Series>();

registerFamily(registers, 'apiserver_request_total', 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.', 'counter', () => {
  const out: MetricValue[] = [];
  for (const s of series.values()) for (const [code, n] of s.codes) out.push({ labels: { ...s.labels, code: String(code) }, value: n });
  return out;
}, () => series.clear());

registerFamily(registers, 'apiserver_request_duration_seconds', 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.', 'histogram',
  () => histogramValues('apiserver_request_duration_seconds', BUCKETS, [...series.values()].map((s) => s.latency)), () => series.clear());

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

function seriesOf(verb: string, dryRun: string, info: RequestInfo | undefined): Series {
  const group = info?.group ?? '', version = info?.version ?? '', resource = info?.resource ?? '', subresource = info?.subresource ?? '';
  const scope = scopeOf(info);
  const key = `${verb} ${dryRun} ${group} ${version} ${resource} ${subresource} ${scope}`;
  let s = series.get(key);
  if (!s) {
    const labels = { verb, dry_run: dryRun, group, version, resource, subresource, scope, component: 'apiserver' };
    s = { labels, codes: new Map(), latency: new HistogramSeries(labels, BUCKETS) };
    series.set(key, s);
  }
  return s;
}

/**
 * Records one request: counted and timed when its response is done (or the client left); a watch or
 * stream is long-running — counted, but in the gauge while open instead of the histogram.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse, info: RequestInfo | undefined, startedAt: number, query?: URLSearchParams): void {
  const verb = verbOf(req, info);
  const s = seriesOf(verb, query?.has('dryRun') ? query.getAll('dryRun').join(',') : '', info);
  const long = verb === 'WATCH' || verb === 'CONNECT' || (info?.subresource === 'log' && query?.get('follow') === 'true');
  const lrLabels = long ? { verb, group: s.labels.group, version: s.labels.version, resource: s.labels.resource, subresource: s.labels.subresource, scope: s.labels.scope, component: 'apiserver' } : undefined;
  if (lrLabels) longRunning.inc(lrLabels);
  // A response emits 'close' once, after 'finish' or when the client left first.
  res.once('close', () => {
    s.codes.set(res.statusCode, (s.codes.get(res.statusCode) ?? 0) + 1);
    if (lrLabels) {
      longRunning.dec(lrLabels);
      return;
    }
    s.latency.observe((performance.now() - startedAt) / 1000);
  });
}
