/**
 * One probe attempt, as the kubelet's prober runs it (pkg/kubelet/prober, pkg/probe/{exec,http,tcp}):
 * exec succeeds on exit 0; httpGet on a 200–399 answer (HTTPS without verifying the certificate,
 * redirects followed only on the same host); tcpSocket when a connection opens. `timeoutSeconds`
 * (default 1) bounds each attempt. gRPC probes are not supported and report failure.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export type ProbeResult = 'success' | 'failure';

export interface ProbeOutcome {
  result: ProbeResult;
  message: string;
}

/** What a probe runs against: the pod IP, a way to exec in the container, and its ports (for names). */
export interface ProbeTarget {
  podIP: string;
  exec(argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** The container's `ports`, so `port: http` resolves to a number. */
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

const MAX_BODY = 10 * 1024;
const MAX_REDIRECTS = 10;

/** Runs `probe` once against `target`. Never rejects. */
export async function runProbe(probe: Record<string, any>, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, (probe.timeoutSeconds ?? 1) * 1000);
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, timeoutMs);
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || target.podIP, resolvePort(probe.tcpSocket.port, target), timeoutMs);
    if (probe.grpc) return { result: 'failure', message: 'gRPC probes are not supported' };
    return { result: 'failure', message: 'missing probe handler' };
  } catch (err) {
    return { result: 'failure', message: (err as Error).message };
  }
}

/** A number, a numeric string, or a port name looked up in the container's ports. */
export function resolvePort(port: number | string | undefined, target: Pick<ProbeTarget, 'ports'>): number {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  const found = target.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`couldn't find port: ${String(port)} in container ports`);
  return found.containerPort;
}

async function execProbe(argv: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`command ${JSON.stringify(argv)} timed out`)), timeoutMs + 100);
    t.unref();
  });
  const { exitCode, output } = await Promise.race([target.exec(argv, timeoutMs), timer]);
  if (exitCode === 0) return { result: 'success', message: output };
  return { result: 'failure', message: output || `command ${JSON.stringify(argv)} exited with ${exitCode}` };
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (o: ProbeOutcome) => {
      sock.destroy();
      resolve(o);
    };
    sock.setTimeout(timeoutMs, () => done({ result: 'failure', message: `dial tcp ${host}:${port}: i/o timeout` }));
    sock.once('connect', () => done({ result: 'success', message: '' }));
    sock.once('error', (err) => done({ result: 'failure', message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

async function httpProbe(get: Record<string, any>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const scheme = String(get.scheme ?? 'HTTP').toLowerCase();
  const host = get.host || target.podIP;
  const port = resolvePort(get.port, target);
  let path = String(get.path ?? '/');
  if (!path.startsWith('/')) path = '/' + path;
  const hostPart = net.isIPv6(host) ? `[${host}]` : host;
  let url = new URL(`${scheme}://${hostPart}:${port}${path}`);
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.33', Accept: '*/*' };
  // Probe headers override the defaults (case-insensitively), as in the kubelet.
  for (const h of (get.httpHeaders ?? []) as { name: string; value: string }[]) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === h.name.toLowerCase()) delete headers[k];
    headers[h.name] = h.value;
  }
  const deadline = Date.now() + timeoutMs;
  for (let hop = 0; ; hop++) {
    const res = await httpOnce(url, headers, Math.max(1, deadline - Date.now()));
    if (res.status >= 300 && res.status < 400 && res.location && hop < MAX_REDIRECTS) {
      const next = new URL(res.location, url);
      if (next.host !== url.host) {
        // The kubelet treats a redirect to another host as success rather than following it.
        return { result: 'success', message: `Probe terminated redirects, Response body: ${res.body}` };
      }
      url = next;
      continue;
    }
    if (res.status >= 200 && res.status < 400) return { result: 'success', message: res.body };
    return { result: 'failure', message: `HTTP probe failed with statuscode: ${res.status}` };
  }
}

function httpOnce(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method: 'GET', headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < MAX_BODY) body += chunk.slice(0, MAX_BODY - body.length);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`Get "${url.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err.message.startsWith('Get "') ? err : new Error(`Get "${url.href}": ${err.message}`));
    });
    req.end();
  });
}
