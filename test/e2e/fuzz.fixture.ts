/**
 * Berth's API fuzzer: property-based (fast-check), seeded and reproducible. Each run is a sequence
 * of requests against one running server — creates, updates and patches of every served resource
 * and subresource with mutated bodies (types, nulls, depth, size, unicode), patches of all three
 * types, deletes with odd DeleteOptions, reads and watches with odd queries, malformed request
 * targets and headers, and Upgrade requests (exec, attach, port-forward; websocket and SPDY) —
 * each checked against the invariants:
 *   - the process stays up;
 *   - no 5xx for a client's mistake (explained 5xx: a pod's node has no reachable agent, a
 *     streaming subresource Berth does not serve, a resourceVersion from the future);
 *   - every 4xx/5xx body is a Status with that code;
 *   - a refused write leaves nothing behind (a refused create stores nothing; a refused or
 *     dry-run update leaves the object as it was);
 *   - an accepted write is readable (a dry run is not stored).
 * Used by test/e2e/fuzz.test.ts (CI, about a minute) and bench/fuzz.ts (long runs).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { SEEDS, collectionPath, type Seed } from './fuzz-seeds.fixture.ts';
import { action, mutate, type FuzzAction, type Query, queryString } from './fuzz-actions.fixture.ts';

export const FUZZ_NS = 'fuzz';
const AGENT_URL_ANNOTATION = 'berth.dev/agent-url';

/** How requests reach the server: its URL and, for https, the CA and the client certificate (none: anonymous). */
export interface Transport {
  url: string;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  agent?: http.Agent;
}

export interface FuzzOptions {
  url: string;
  /** For an https server: its CA and the (admin) client certificate the requests carry. */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** False once the server process has exited. */
  alive: () => boolean;
  seed: number;
  durationMs: number;
  /** Stop at the first violation (CI); otherwise count them all (benchmark). */
  stopOnViolation?: boolean;
  progress?: (report: FuzzReport) => void;
}

export interface Violation {
  invariant: string;
  request: string;
  detail: string;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  /** Actions performed and the time they took, per kind of action. */
  actions: Record<string, { n: number; ms: number }>;
  byStatus: Record<string, number>;
  explained5xx: number;
  socketErrors: number;
  /** How often each refusal was given (code and the message's start), to see what the fuzz reaches. */
  refusals: Record<string, number>;
  violations: Violation[];
  crashed: boolean;
}

interface Reply { status: number; body: string; json: any; error?: string }

// ---------------------------------------------------------------------------------------------
// HTTP

function parseJson(s: string): unknown { try { return JSON.parse(s); } catch { return undefined; } }

/** A keep-alive transport to `url` (https when `tls` is given). */
export function transport(url: string, tlsOptions?: Transport['tls']): Transport {
  const common = { keepAlive: true, maxSockets: 4 };
  return { url, tls: tlsOptions, agent: tlsOptions ? new https.Agent({ ...common, ...tlsOptions }) : new http.Agent(common) };
}

export function request(tr: Transport, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, readMs = 0): Promise<Reply> {
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      const len: Record<string, string> = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
      const mod = tr.tls ? https : http;
      req = mod.request(`${tr.url}${path}`, { method, agent: tr.agent, headers: { ...len, ...headers }, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        let timer: NodeJS.Timeout | undefined;
        const done = () => { clearTimeout(timer); const b = Buffer.concat(chunks).toString(); resolve({ status: res.statusCode ?? 0, body: b, json: parseJson(b) }); };
        // A stream (watch, log) is read for a moment, then dropped.
        if (readMs && res.statusCode === 200) timer = setTimeout(() => { res.destroy(); done(); }, readMs);
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        res.on('error', () => done());
      });
    } catch (err) {
      resolve({ status: -1, body: '', json: undefined, error: `client refused to send: ${(err as Error).message}` });
      return;
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: '', json: undefined, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
}

/** Bytes on a fresh socket; the first response parsed (status, body by Content-Length or to close). */
export function rawRequest(tr: Transport, text: string | Buffer): Promise<Reply> {
  const { port, hostname } = new URL(tr.url);
  return new Promise((resolve) => {
    const sock = tr.tls ? tls.connect({ port: Number(port), host: hostname, ...tr.tls }) : net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const all = Buffer.concat(chunks).toString('latin1');
      const i = all.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(all)?.[1] ?? 0);
      const head = i < 0 ? all : all.slice(0, i);
      const lenMatch = /\r\ncontent-length: *(\d+)/i.exec(head);
      let body = i < 0 ? '' : all.slice(i + 4);
      if (lenMatch) body = body.slice(0, Number(lenMatch[1]));
      body = Buffer.from(body, 'latin1').toString('utf8');
      resolve({ status, body, json: parseJson(body), error: status ? undefined : error ?? 'no response' });
    };
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => done('idle'), 3000); };
    sock.on(tr.tls ? 'secureConnect' : 'connect', () => { sock.write(text); arm(); });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks).toString('latin1');
      const i = all.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: *(\d+)/i.exec(all.slice(0, i));
      if (i >= 0 && len && all.length - i - 4 >= Number(len[1])) done();
      else arm();
    });
    sock.on('end', () => done());
    sock.on('close', () => done());
    sock.on('error', (e) => done((e as NodeJS.ErrnoException).code));
  });
}

// ---------------------------------------------------------------------------------------------
// The run

/** Fields that the server's own controllers may change at any time (status, scheduling, taints …). */
function fingerprint(obj: any): string {
  if (!obj || typeof obj !== 'object') return String(obj);
  const { status: _s, metadata, ...rest } = obj;
  const { resourceVersion: _r, managedFields: _m, annotations: _a, generation: _g, ...meta } = metadata ?? {};
  const spec = rest.spec && typeof rest.spec === 'object' ? { ...rest.spec, nodeName: undefined, taints: undefined, unschedulable: undefined, finalizers: undefined, podCIDR: undefined, podCIDRs: undefined } : rest.spec;
  return JSON.stringify({ ...rest, spec, metadata: meta });
}

/** 5xx that are not a client's mistake, each with why. */
function explained5xx(r: Reply): boolean {
  const m = String(r.json?.message ?? '');
  if (r.status === 503 && /no node agent serves|error dialing backend|is not served by Berth yet|not ready/.test(m)) return true;
  if (r.status === 504 && r.json?.reason === 'Timeout' && /Too large resource version/.test(m)) return true;
  return false;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { seed: opts.seed, requests: 0, actions: {}, byStatus: {}, explained5xx: 0, socketErrors: 0, refusals: {}, violations: [], crashed: false };
  let counter = 0;
  /** Names the fuzz created and may still exist, per seed. */
  const pool = new Map<Seed, string[]>(SEEDS.map((s) => [s, []]));
  const tr = transport(opts.url, opts.tls);
  const api = (method: string, path: string, body?: unknown, type = 'application/json', readMs = 0) =>
    request(tr, method, path, body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : safeJson(body), type ? { 'content-type': type } : {}, readMs);
  const itemPath = (seed: Seed, name: string) => `${collectionPath(seed, FUZZ_NS)}/${encodeURIComponent(name)}`;

  await setup(api, pool, itemPath);

  const violate = (invariant: string, req: string, detail: string) => {
    report.violations.push({ invariant, request: req.slice(0, 2000), detail: detail.slice(0, 2000) });
    if (opts.stopOnViolation) throw new Error(`fuzz invariant violated (seed ${opts.seed}): ${invariant}\n  request: ${req.slice(0, 2000)}\n  ${detail.slice(0, 2000)}`);
  };

  /** The invariants every answer must keep. */
  async function check(desc: string, r: Reply, method: string): Promise<void> {
    report.requests++;
    report.byStatus[r.status] = (report.byStatus[r.status] ?? 0) + 1;
    if (r.status <= 0) {
      report.socketErrors++;
      if (r.status === -1) return;
      const health = await request(tr, 'GET', '/healthz');
      if (!opts.alive() || health.status !== 200) {
        report.crashed = true;
        violate('the process stays up', desc, `after ${r.error}: healthz ${health.status} ${health.error ?? ''}`);
      }
      return;
    }
    if (r.status >= 400) {
      const key = `${r.status} ${String(r.json?.message ?? r.body).replace(/"[^"]*"/g, '"…"').slice(0, 70)}`;
      report.refusals[key] = (report.refusals[key] ?? 0) + 1;
    }
    if (r.status >= 400 && method !== 'HEAD') {
      if (r.json?.kind !== 'Status' || r.json.code !== r.status || r.json.status !== 'Failure' || typeof r.json.reason !== 'string') {
        violate('every 4xx/5xx body is a Status', desc, `${r.status}: ${r.body.slice(0, 500)}`);
      }
    }
    if (r.status >= 500) {
      if (explained5xx(r)) report.explained5xx++;
      else violate('no 5xx for client mistakes', desc, `${r.status}: ${r.body.slice(0, 1000)}`);
    }
  }

  const get = async (path: string) => request(tr, 'GET', path);

  async function perform(a: FuzzAction): Promise<void> {
    const seed = 'seed' in a ? SEEDS[a.seed] : SEEDS[2];
    const names = pool.get(seed)!;
    const existing = names.length ? names[counter % names.length] : undefined;
    switch (a.t) {
      case 'create': {
        const name = a.weirdName ?? `fz-${counter}`;
        const body = mutate(seed.make(name, FUZZ_NS), a.muts);
        const path = `${collectionPath(seed, FUZZ_NS)}${queryString(a.q, (k) => ['dryRun', 'fieldValidation'].includes(k))}`;
        const encoded = a.type === 'application/yaml' ? safeJson(body) : a.type === 'application/vnd.kubernetes.protobuf' ? Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x02, 0x08]) : safeJson(body);
        const r = await api('POST', path, encoded, a.type);
        const desc = `POST ${path} (${a.type}) ${safeJson(body).slice(0, 1500)}`;
        await check(desc, r, 'POST');
        const sentName = typeof body.metadata?.name === 'string' ? body.metadata.name : undefined;
        if (r.status === 201) {
          const got = r.json?.metadata?.name;
          const back = await get(itemPath(seed, got));
          const dry = /dryRun=All/.test(path);
          if (dry && back.status !== 404 && !(sentName && names.includes(sentName))) violate('a dry run is not stored', desc, `GET after: ${back.status}`);
          if (!dry) {
            if (back.status !== 200 && !r.json?.metadata?.ownerReferences && !seed.volatile) violate('an accepted write is readable', desc, `GET after: ${back.status} ${back.body.slice(0, 300)}`);
            else if (back.status === 200 && back.json?.metadata?.uid !== r.json?.metadata?.uid) violate('an accepted write is readable', desc, 'uid differs');
            if (!names.includes(got)) names.push(got);
            if (names.length > 40) names.shift();
          }
        } else if (r.status >= 400 && r.status !== 409 && sentName && /^[a-z0-9][a-z0-9.-]{0,252}$/.test(sentName) && !names.includes(sentName)) {
          const back = await get(itemPath(seed, sentName));
          if (back.status === 200) violate('a refused write leaves nothing behind', desc, `create answered ${r.status} but GET finds it`);
        }
        return;
      }
      case 'update': case 'patch': {
        if (!existing) return;
        const sub = a.sub && seed.subresources.includes(a.sub) ? `/${a.sub}` : '';
        const path = `${itemPath(seed, existing)}${sub}${queryString(a.q, (k) => ['dryRun', 'fieldValidation'].includes(k))}`;
        const before = await get(itemPath(seed, existing));
        if (before.status !== 200) { names.splice(names.indexOf(existing), 1); return; }
        let r: Reply;
        let desc: string;
        if (a.t === 'update') {
          const base = sub === '/scale' ? (await get(`${itemPath(seed, existing)}/scale`)).json ?? {} : structuredClone(before.json);
          const body = mutate(base, a.muts);
          r = await api('PUT', path, body);
          desc = `PUT ${path} ${safeJson(body).slice(0, 1500)}`;
        } else {
          const body = a.type === 'application/json-patch+json' ? (a.raw !== undefined ? a.raw : a.ops) : (a.raw !== undefined ? a.raw : mutate({ metadata: { labels: { p: String(counter) } }, spec: {}, data: {} }, a.muts));
          r = await api('PATCH', path, body, a.type);
          desc = `PATCH ${path} (${a.type}) ${safeJson(body).slice(0, 1500)}`;
        }
        await check(desc, r, a.t === 'update' ? 'PUT' : 'PATCH');
        const after = await get(itemPath(seed, existing));
        const dry = /dryRun=All/.test(path);
        if (r.status >= 400 || (dry && r.status < 300)) {
          const gone = after.status === 404 && (before.json?.metadata?.ownerReferences || seed.volatile);
          if (!gone && fingerprint(after.json) !== fingerprint(before.json)) {
            violate(dry ? 'a dry run is not stored' : 'a refused write leaves nothing behind', desc, `${r.status}; before ${fingerprint(before.json).slice(0, 600)}\n  after ${fingerprint(after.json).slice(0, 600)}`);
          }
        } else if (r.status < 300 && after.status !== 200 && !seed.volatile && !(r.json?.metadata?.deletionTimestamp) && !(before.json?.metadata?.deletionTimestamp)) {
          violate('an accepted write is readable', desc, `GET after: ${after.status}`);
        }
        return;
      }
      case 'pod-sub': {
        const pod = pool.get(SEEDS[2])!.at(-1) ?? 'fz-pod';
        const path = `${itemPath(SEEDS[2], pod)}/${a.sub}${queryString(a.q, (k) => k === 'dryRun')}`;
        const before = await get(itemPath(SEEDS[2], pod));
        const r = await api('POST', path, a.body === undefined ? 'null' : a.body);
        const desc = `POST ${path} ${safeJson(a.body).slice(0, 1500)}`;
        await check(desc, r, 'POST');
        if (r.status >= 400 || /dryRun=All/.test(path)) {
          const after = await get(itemPath(SEEDS[2], pod));
          if (before.status === 200 && after.status === 200 && (after.json.spec?.nodeName !== before.json.spec?.nodeName || after.json.metadata?.deletionTimestamp !== before.json.metadata?.deletionTimestamp)) {
            violate(r.status >= 400 ? 'a refused write leaves nothing behind' : 'a dry run is not stored', desc, `${r.status}: pod changed`);
          }
        }
        return;
      }
      case 'delete': {
        const target = a.collection ? collectionPath(seed, FUZZ_NS) : existing ? itemPath(seed, existing) : undefined;
        if (!target) return;
        // Cluster-scoped collections: only the fuzz's own objects.
        const q = a.collection && !seed.namespaced ? { ...a.q, labelSelector: 'fuzz=1' } : a.q;
        const path = `${target}${queryString(q)}`;
        const before = a.collection ? undefined : await get(target);
        const r = await api('DELETE', path, a.body);
        const desc = `DELETE ${path} ${safeJson(a.body).slice(0, 500)}`;
        await check(desc, r, 'DELETE');
        if (before?.status === 200 && (r.status >= 400 || /dryRun=All/.test(path))) {
          const after = await get(target);
          if (after.status !== 200 || after.json?.metadata?.deletionTimestamp !== before.json?.metadata?.deletionTimestamp) {
            const owned = before.json?.metadata?.ownerReferences;
            if (!owned) violate(r.status >= 400 ? 'a refused write leaves nothing behind' : 'a dry run is not stored', desc, `${r.status}; GET after ${after.status}`);
          }
        }
        return;
      }
      case 'read': {
        const base = a.item && existing ? itemPath(seed, existing) : collectionPath(seed, a.q.labelSelector ? 'default' : FUZZ_NS);
        const q = { ...a.q, watch: undefined } as Query;
        const path = `${base}${queryString(q)}${a.watch ? `${queryString(q) ? '&' : '?'}watch=true` : ''}`;
        const headers: Record<string, string> = a.table ? { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } : {};
        const r = await request(tr, 'GET', path, undefined, headers, a.watch ? 50 : 0);
        await check(`GET ${path}`, r, 'GET');
        return;
      }
      case 'raw': {
        const body = a.body === undefined ? '' : safeJson(a.body);
        const header = a.header ? `${a.header[0].replace(/[\r\n:]/g, '') || 'X'}: ${a.header[1].replace(/[\r\n]/g, '')}\r\n` : '';
        const target = a.target.replace(/[\r\n ]/g, '%20') || '/';
        const text = `${a.method} ${target} HTTP/1.1\r\nHost: fuzz\r\n${header}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
        const r = await rawRequest(tr, text);
        await check(`raw ${JSON.stringify(text.slice(0, 600))}`, r, a.method);
        return;
      }
      case 'upgrade': {
        const sub = a.sub === 'exec' ? 'exec?command=sh&stdout=true' : a.sub;
        const target = `/api/v1/namespaces/${FUZZ_NS}/pods/${a.pod}/${sub}${queryString(a.q, (k) => k !== 'watch').replace('?', a.sub === 'exec' ? '&' : '?')}`;
        const method = a.protocol === 'SPDY/3.1' ? 'POST' : 'GET';
        const text = `${method} ${target} HTTP/1.1\r\nHost: fuzz\r\nConnection: Upgrade\r\nUpgrade: ${a.protocol}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n`;
        const r = await rawRequest(tr, text);
        await check(`upgrade ${JSON.stringify(text.slice(0, 300))}`, r, method);
        return;
      }
    }
  }

  const started = Date.now();
  let lastProgress = started;
  await fc.assert(
    fc.asyncProperty(action, async (a) => {
      counter++;
      const t0 = performance.now();
      await perform(a);
      const stat = (report.actions[a.t] ??= { n: 0, ms: 0 });
      stat.n++;
      stat.ms += performance.now() - t0;
      if (opts.progress && Date.now() - lastProgress > 60_000) { lastProgress = Date.now(); opts.progress(report); }
      if (!opts.alive()) { report.crashed = true; violate('the process stays up', safeJson(a).slice(0, 1000), 'the server process exited'); }
      return true;
    }),
    { seed: opts.seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: opts.durationMs, markInterruptAsFailure: false, endOnFailure: true, verbose: 0 },
  ).catch((err: Error) => {
    // fast-check's report names the seed and path to replay; the violation itself is in the message.
    if (opts.stopOnViolation) throw err;
  });
  tr.agent?.destroy();
  return report;
}

/** JSON that never throws (BigInt-free values; lone surrogates are escaped by JSON.stringify). */
function safeJson(v: unknown): string {
  try { return JSON.stringify(v) ?? 'null'; } catch { return 'null'; }
}

/** The fuzz namespace, a node whose agent is unreachable, and one object of every served resource. */
async function setup(api: (m: string, p: string, b?: unknown, t?: string) => Promise<Reply>, pool: Map<Seed, string[]>, itemPath: (s: Seed, n: string) => string): Promise<void> {
  const must = async (r: Promise<Reply>, what: string) => {
    const x = await r;
    if (x.status >= 300 && x.status !== 409) throw new Error(`fuzz setup: ${what}: ${x.status} ${x.body.slice(0, 300)}`);
    return x;
  };
  await must(api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: FUZZ_NS } }), 'namespace');
  // A closed port on loopback: exec/attach/port-forward to its pods are 503s the fuzzer expects.
  const closed = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
  await must(api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'fz-node', labels: { fuzz: '1' }, annotations: { [AGENT_URL_ANNOTATION]: `http://127.0.0.1:${closed}` } }, spec: { taints: [{ key: 'fuzz', effect: 'NoSchedule' }] } }), 'node');
  const pods = SEEDS[2];
  await must(api('POST', collectionPath(pods, FUZZ_NS), { ...pods.make('fz-pod', FUZZ_NS), spec: { nodeName: 'fz-node', containers: [{ name: 'c', image: 'host' }] } }), 'pod');
  await must(api('PATCH', `${itemPath(pods, 'fz-pod')}/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json'), 'pod status');
  await must(api('POST', collectionPath(pods, FUZZ_NS), pods.make('fz-unbound', FUZZ_NS)), 'unbound pod');
  for (const seed of SEEDS) {
    const name = `fz-seed-${seed.plural}`;
    const r = await must(api('POST', collectionPath(seed, FUZZ_NS), seed.make(name, FUZZ_NS)), `seed ${seed.group}/${seed.plural}`);
    pool.get(seed)!.push(r.json?.metadata?.name ?? name);
  }
}
