/**
 * The API server's request metrics (k8s.io/apiserver/pkg/endpoints/metrics): apiserver_request_total
 * by verb, group, version, resource, subresource, scope, component and code;
 * apiserver_request_duration_seconds for requests that are not long-running; and
 * apiserver_longrunning_requests (watches and streams open now). One registry per process; the
 * server's /metrics serves it with the others.
 *
 * The counter and the histogram are kept here per label set (a series, found by one string key) and
 * handed to prom-client's registry as metric objects it formats when scraped: prom-client's own
 * inc/observe validate and hash every label object on every call, ~15 µs a request (2–3 % of a
 * Lease renewal's server CPU over HTTPS, bench/sched-writes.ts). The exposition is prom-client's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { RequestInfo } from './request-info.ts';

export const apiServerRegistry = new Registry();

const registers = [apiServerRegistry];
const longRunning = new Gauge({ name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.', labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'], registers });

/** kube-apiserver's buckets for apiserver_request_duration_seconds. */
const BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** One label set: its requests by code, and (requests that are not long-running) their latencies. */
interface Series {
  labels: Readonly<Record<string, string>>;
  codes: Map<number, number>;
  /** Per bucket, not cumulative; the last slot counts what is above every bound. */
  buckets: number[];
  sum: number;
  count: number;
}

const series = new Map<string, Series>();

/** What prom-client's registry formats: a metric family, values with their own and shared labels. */
interface MetricValue {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName?: string;
}

/** A metric prom-client's Registry can hold: its exposition comes from get() / getForPromString(). */
function family(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) {
  const data = () => ({ name, help, type, values: values(), aggregator: 'sum' as const });
  return {
    name, help, type, aggregator: 'sum' as const,
    getForPromString: async () => data(),
    // prom-client's get() has each value's labels in one object.
    get: async () => {
      const d = data();
      return { ...d, values: d.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...sharedLabels, ...v.labels } })) };
    },
    reset: () => series.clear(),
  };
}

const requestsFamily = family('apiserver_request_total', 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.', 'counter', () => {
  const out: MetricValue[] = [];
  for (const s of series.values()) for (const [code, n] of s.codes) out.push({ labels: { ...s.labels, code: String(code) }, value: n });
  return out;
});

const durationFamily = family('apiserver_request_duration_seconds', 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.', 'histogram', () => {
  const out: MetricValue[] = [];
  const bucket = 'apiserver_request_duration_seconds_bucket';
  for (const s of series.values()) {
    if (s.count === 0) continue;
    let acc = 0;
    BUCKETS.forEach((le, i) => out.push({ labels: { le }, sharedLabels: s.labels, value: (acc += s.buckets[i]), metricName: bucket }));
    out.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
    out.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: 'apiserver_request_duration_seconds_sum' });
    out.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: 'apiserver_request_duration_seconds_count' });
  }
  return out;
});

for (const f of [requestsFamily, durationFamily]) apiServerRegistry.registerMetric(f as unknown as Parameters<Registry['registerMetric']>[0]);

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
    s = {
      labels: { verb, dry_run: dryRun, group, version, resource, subresource, scope, component: 'apiserver' },
      codes: new Map(), buckets: new Array(BUCKETS.length + 1).fill(0), sum: 0, count: 0,
    };
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
    const seconds = (performance.now() - startedAt) / 1000;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    s.buckets[i]++;
    s.sum += seconds;
    s.count++;
  });
}
