/**
 * The API server's reader of node agents' Summary API (/stats/summary; metrics-server's kubelet
 * scraper, in small): one HTTPS GET per node with the API server's kubelet-client certificate, a
 * short cache (kubectl top right after another reads the same scrape), concurrent callers sharing
 * one request, and a node that does not answer in time counting as no metrics (as metrics-server
 * leaves out a node it cannot scrape).
 */
import http from 'node:http';
import https from 'node:https';
import type { AgentTls } from '../proxy/pod-stream-proxy.ts';

/** The part of the kubelet Summary this API reads. */
export interface Summary {
  node: { nodeName: string; cpu?: { time: string; usageNanoCores?: number }; memory?: { time: string; workingSetBytes?: number } };
  pods: Array<{
    podRef: { name: string; namespace: string; uid: string };
    cpu?: { time: string; usageNanoCores?: number };
    containers: Array<{ name: string; cpu?: { time: string; usageNanoCores?: number }; memory?: { time: string; workingSetBytes?: number } }>;
  }>;
}

export interface SummaryReaderOptions {
  /** How long a scrape is reused (default 5 s; the agents sample every 10 s). */
  cacheMs?: number;
  timeoutMs?: number;
  tls?: () => AgentTls | undefined;
  now?: () => number;
  /** Tests and simulated nodes: a summary from elsewhere. */
  fetch?: (agentUrl: string) => Promise<Summary>;
}

function getJson(agentUrl: string, tls: AgentTls | undefined, timeoutMs: number): Promise<Summary> {
  const url = new URL('/stats/summary', tls ? agentUrl.replace(/^http:/, 'https:') : agentUrl);
  return new Promise((resolve, reject) => {
    const opts = { timeout: timeoutMs, headers: { accept: 'application/json' } };
    const req = url.protocol === 'https:'
      ? https.get(url, { ...opts, ca: tls?.ca, cert: tls?.cert, key: tls?.key, minVersion: 'TLSv1.2' })
      : http.get(url, opts);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url.host}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`));
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Summary); } catch (err) { reject(err as Error); }
      });
    });
  });
}

export class SummaryReader {
  private readonly cache = new Map<string, { at: number; value: Promise<Summary | undefined> }>();
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: SummaryReaderOptions = {}) {
    this.cacheMs = opts.cacheMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  /** The node's summary, or undefined when its agent did not answer (logged by the caller if at all). */
  read(nodeName: string, agentUrl: string): Promise<Summary | undefined> {
    const key = `${nodeName}|${agentUrl}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.cacheMs) return hit.value;
    const fetch = this.opts.fetch ?? ((u: string) => getJson(u, this.opts.tls?.(), this.opts.timeoutMs ?? 5000));
    const value = fetch(agentUrl).then((s) => (s && Array.isArray(s.pods) ? s : undefined), () => undefined);
    this.cache.set(key, { at: this.now(), value });
    // Nodes that went away do not stay in the cache.
    if (this.cache.size > 64) for (const [k, v] of this.cache) if (this.now() - v.at >= this.cacheMs) this.cache.delete(k);
    return value;
  }
}
