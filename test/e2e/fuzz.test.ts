/**
 * The API fuzz suite in CI: about a minute of property-based requests (fuzz.fixture.ts) against a
 * real `bin/berth server`, seeded. A failure prints its seed; replay it with
 * `BERTH_FUZZ_SEED=<seed> node --import tsx --test test/e2e/fuzz.test.ts`. `BERTH_FUZZ_MS` sets the
 * duration; `npm run bench -- fuzz` runs it for 30 minutes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import fc from 'fast-check';
import { rawRequest, request, runFuzz, transport } from './fuzz.fixture.ts';

/** The path Node's client sends when `request` appends `p` to the server's origin (dot segments resolved). */
function pathAsSent(p: string): string {
  try {
    return new URL(`http://x${p}`).pathname;
  } catch {
    return p;
  }
}

const seed = Number(process.env.BERTH_FUZZ_SEED ?? Date.now() % 2 ** 31);
const durationMs = Number(process.env.BERTH_FUZZ_MS ?? 60_000);

let berth: BerthServer;
before(async () => { berth = await startBerth(); });
after(async () => { await berth.cleanup(); });

test(`API fuzz, ${durationMs / 1000} s, seed ${seed}`, { timeout: durationMs + 120_000 }, async () => {
  console.log(`fuzz seed ${seed} (replay: BERTH_FUZZ_SEED=${seed})`);
  const report = await runFuzz({ url: berth.url, tls: berth.credentials(), alive: () => berth.lastExit() === undefined, seed, durationMs, stopOnViolation: true });
  console.log(`fuzz: ${report.requests} requests, by status ${JSON.stringify(report.byStatus)}, explained 5xx ${report.explained5xx}, socket errors ${report.socketErrors}`);
  console.log(`fuzz actions: ${Object.entries(report.actions).map(([k, v]) => `${k} ${v.n} (${(v.ms / v.n).toFixed(0)} ms)`).join(', ')}`);
  const top = Object.entries(report.refusals).sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`fuzz refusals (top): ${top.map(([k, n]) => `\n  ${n} × ${k}`).join('')}`);
  assert.deepEqual(report.violations, []);
  assert.equal(report.crashed, false);
  assert.ok(report.requests > 100, `only ${report.requests} requests`);
  assert.equal(berth.lastExit(), undefined, 'the server is still running');
  const internal = berth.logs().split('\n').filter((l) => l.includes('internal error serving a request'));
  assert.deepEqual(internal, [], 'no 500 was logged');
});

/** Paths a request without credentials may reach (Kubernetes' anonymous-auth conditions). */
const ANONYMOUS_PATHS = ['/healthz', '/livez', '/readyz', '/version'];
/** The web UI's static shell is public too (/ui, /ui/…): a login page. */
const isAnonymous = (p: string) => ANONYMOUS_PATHS.includes(p) || p === '/ui' || p.startsWith('/ui/');

test(`unauthenticated requests stop at 401, 15 s, seed ${seed}`, { timeout: 120_000 }, async () => {
  const anon = transport(berth.url, { ca: berth.credentials().ca });
  const segment = fc.oneof(fc.constantFrom('api', 'apis', 'v1', 'namespaces', 'default', 'pods', 'configmaps', 'apps', 'healthz', '..', '%', '%zz', '%2F', ''), fc.string({ maxLength: 12 }));
  const path = fc.array(segment, { maxLength: 7 }).map((s) => `/${s.join('/')}`);
  const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
  const query = fc.constantFrom('', '?watch=true', '?limit=99999999999999999999', '?dryRun=All', '?fieldSelector=%zz');
  const body = fc.oneof(fc.constant(undefined), fc.json({ maxDepth: 4 }), fc.constant('{'.repeat(20_000)));
  const header = fc.constantFrom<Record<string, string>>({}, { authorization: 'Bearer not-a-token' }, { authorization: 'Basic YTpi' }, { 'content-type': 'application/strategic-merge-patch+json' });
  let n = 0;
  const failures: string[] = [];
  await fc.assert(fc.asyncProperty(method, path, query, body, header, fc.boolean(), async (m, p, q, b, h, raw) => {
    n++;
    const r = raw
      ? await rawRequest(anon, `${m} ${(p + q).replace(/[\r\n ]/g, '%20')} HTTP/1.1\r\nHost: x\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${Buffer.byteLength(b ?? '')}\r\nConnection: close\r\n\r\n${b ?? ''}`)
      : await request(anon, m, p + q, b, h);
    if (r.status <= 0) return true; // Node's client refused to send it, or the server closed a malformed request
    const bearer = !!h.authorization?.startsWith('Bearer');
    // Node's client resolves dot segments (`/../healthz` is sent as `/healthz`); a raw request is sent as written.
    const sent = raw ? p : pathAsSent(p);
    const allowed = isAnonymous(sent) && !bearer;
    const ok = allowed ? r.status < 500 : r.status === 401 && (m === 'HEAD' || (r.json?.kind === 'Status' && r.json.code === 401));
    // Node's own HTTP parser answers malformed framing with a 400 before the API sees it.
    if (!ok && !(raw && r.status === 400 && !r.json)) failures.push(`${m} ${p}${q} ${JSON.stringify(h)} → ${r.status} ${r.body.slice(0, 200)}`);
    return true;
  }), { seed, interruptAfterTimeLimit: 15_000, numRuns: Number.MAX_SAFE_INTEGER, markInterruptAsFailure: false });
  anon.agent?.destroy();
  console.log(`unauthenticated fuzz: ${n} requests`);
  assert.deepEqual(failures.slice(0, 10), []);
  assert.ok(n > 50, `only ${n} requests`);
  assert.equal(berth.lastExit(), undefined, 'the server is still running');
});
