/**
 * What bench scale's churn phase reads besides its own clocks (issue 19): the server's own latency of
 * the churn's mutations (apiserver_request_duration_seconds, as ClusterLoader2 judges the SLO from
 * the API server's metrics), the server's event-loop delay over the churn (prom-client's
 * nodejs_eventloop_lag_* — its histogram restarts at every scrape), and a list read that counts the
 * body's bytes instead of keeping them. The bench process also runs the churn's open loop, which
 * counts a stall of its own loop in the latency of every call scheduled meanwhile: keeping and
 * concatenating a 150,000-pod body (~700 MB) held it ~2 s at every list's end. A throw-away probe
 * (2026-12-07, load 34–39): a trivial HTTPS server with a 700 MB body and a /small path, 200 GETs/s of
 * /small beside back-to-back body reads, 30 s each, twice — kept: p99 1,912 / 2,037 ms, max 2,043 /
 * 2,210 ms (this loop's delay max ~2 s); counted: p99 926 / 985 ms, max 1.2 s (delay max 0.4–0.5 s,
 * the machine's load). The 150,000-pod run's churn p99 (2,222 ms, max 2,385, 5 lists) has that shape.
 */
import http from 'node:http';
import https from 'node:https';

/** GET `url` and read the body to its end without keeping it; its size in bytes. Rejects on a non-2xx or a body that is not a whole List. */
export function readListBody(agent: http.Agent, url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method: 'GET', agent, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      let tail = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        tail = (tail + c.subarray(Math.max(0, c.length - 2)).toString('latin1')).slice(-2);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) reject(new Error(`GET ${url}: ${status}`));
        else if (tail !== ']}') reject(new Error(`GET ${url}: the body does not end a List (${bytes} bytes)`));
        else resolve(bytes);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Cumulative bucket counts by upper bound (seconds), summed over the series `want` picks. */
function buckets(metrics: string, name: string, want: (labels: Record<string, string>) => boolean): Map<number, number> {
  const out = new Map<number, number>();
  const prefix = `${name}_bucket{`;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(prefix.length, close).matchAll(/(\w+)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
    if (!want(labels)) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    out.set(le, (out.get(le) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return out;
}

export interface ServerLatency {
  count: number;
  /** Share of the calls the server answered within 1 s. */
  within1s: number;
  /** The bucket bound (s) the 50th / 99th percentile falls in (kube's buckets: …, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, …). */
  p50Le: number;
  p99Le: number;
}

/** The server's latency of the requests `want` picks between two scrapes of its /metrics (the histograms are cumulative: their difference). */
export function serverLatency(before: string, after: string, want: (labels: Record<string, string>) => boolean): ServerLatency {
  const name = 'apiserver_request_duration_seconds';
  const a = buckets(before, name, want);
  const b = buckets(after, name, want);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const cum = bounds.map((le) => (b.get(le) ?? 0) - (a.get(le) ?? 0));
  const count = cum.length ? cum[cum.length - 1]! : 0;
  const at = (q: number): number => bounds[cum.findIndex((c) => c >= q * count)] ?? NaN;
  const i1 = bounds.indexOf(1);
  return { count, within1s: count && i1 >= 0 ? cum[i1]! / count : NaN, p50Le: at(0.5), p99Le: at(0.99) };
}

/** The churn's own calls: pod creates in `namespace` and deletes of its pods (their subresources and other namespaces' pods are not in these series). */
export function churnCalls(labels: Record<string, string>): boolean {
  return labels.resource === 'pods' && labels.subresource === '' && labels.group === ''
    && ((labels.verb === 'POST' && labels.scope === 'namespace') || (labels.verb === 'DELETE' && labels.scope === 'resource'));
}

/** The server's event-loop delay since its previous /metrics scrape (ms): p50, p99, max. */
export function serverLoopDelay(metrics: string): { p50: number; p99: number; max: number } {
  const read = (n: string): number => Number(new RegExp(`^nodejs_eventloop_lag_${n}_seconds (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) * 1000;
  return { p50: read('p50'), p99: read('p99'), max: read('max') };
}
