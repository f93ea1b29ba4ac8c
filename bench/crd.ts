/**
 * `crd`: what a CustomResourceDefinition's schema costs per write. A `berth server` child (SQLite,
 * TLS + the admin client certificate) serves a CRD whose version has a 50-field structural schema
 * (strings with patterns and enums, bounded integers, booleans, 10 defaults, one CEL rule); each
 * round creates one custom object and one ConfigMap of the same size (50 data keys of the same
 * values, as strings), then updates both (PUT of the whole object, 10 fields changed), alternating,
 * one request at a time — so validation, pruning, defaulting and CEL are all the difference.
 * Peer: the ConfigMap in the same run (the brief's comparison); upstream publishes no such figure.
 */
import { startBerth, sleep } from './lib/server.ts';
import { keepAliveAgent, request } from './lib/load.ts';
import { f, pct, printTable, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 200 : 1000;
const WARMUP = QUICK ? 50 : 100;
/** Schema validation may cost more than a ConfigMap's; not more than this many times at p50. */
const TARGET_RATIO = 2;
const FIELDS = 50;

type Field = { name: string; schema: Record<string, unknown>; value: (i: number) => unknown };

function fields(): Field[] {
  return Array.from({ length: FIELDS }, (_, n): Field => {
    const name = `field${String(n).padStart(2, '0')}`;
    switch (n % 5) {
      case 0: return { name, schema: { type: 'string', pattern: '^[a-z0-9-]+$', maxLength: 63 }, value: (i) => `value-${n}-${i}` };
      case 1: return { name, schema: { type: 'integer', minimum: 0, maximum: 1_000_000, ...(n < 20 ? { default: 7 } : {}) }, value: (i) => (i * 31 + n) % 1_000_000 };
      case 2: return { name, schema: { type: 'string', enum: ['small', 'medium', 'large'], ...(n < 20 ? { default: 'medium' } : {}) }, value: (i) => ['small', 'medium', 'large'][(i + n) % 3] };
      case 3: return { name, schema: { type: 'boolean', ...(n < 20 ? { default: false } : {}) }, value: (i) => (i + n) % 2 === 0 };
      default: return { name, schema: { type: 'string', format: 'date-time' }, value: (i) => new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString() };
    }
  });
}

function crd(fs: Field[]): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'benchmarks.bench.berth.dev' },
    spec: {
      group: 'bench.berth.dev', scope: 'Namespaced', names: { plural: 'benchmarks', kind: 'Benchmark' },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-validations': [{ rule: 'self.field01 <= 1000000', message: 'field01 is bounded' }],
                properties: Object.fromEntries(fs.map((x) => [x.name, x.schema])),
              },
            },
          },
        },
      }],
    },
  };
}

export async function run(): Promise<boolean> {
  const server = await startBerth();
  try {
    const agent = keepAliveAgent(2, server.tls);
    const fs = fields();
    const post = (path: string, body: unknown) => request(agent, 'POST', `${server.url}${path}`, JSON.stringify(body), { 'content-type': 'application/json' });
    const put = (path: string, body: unknown) => request(agent, 'PUT', `${server.url}${path}`, JSON.stringify(body), { 'content-type': 'application/json' });
    await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd(fs));
    const crPath = '/apis/bench.berth.dev/v1/namespaces/default/benchmarks';
    for (let i = 0; ; i++) {
      // 404 (thrown) until the CRD is Established and served.
      if (await request(agent, 'GET', `${server.url}${crPath}`).then((r) => r.status === 200, () => false)) break;
      if (i > 200) throw new Error('the CRD was not served within 20 s');
      await sleep(100);
    }
    const cmPath = '/api/v1/namespaces/default/configmaps';
    const spec = (i: number) => Object.fromEntries(fs.map((x) => [x.name, x.value(i)]));
    const cr = (name: string, i: number) => ({ apiVersion: 'bench.berth.dev/v1', kind: 'Benchmark', metadata: { name }, spec: spec(i) });
    const cm = (name: string, i: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: Object.fromEntries(Object.entries(spec(i)).map(([k, v]) => [k, String(v)])) });
    const lat = { crCreate: [] as number[], cmCreate: [] as number[], crUpdate: [] as number[], cmUpdate: [] as number[] };
    let crBytes = 0;
    let cmBytes = 0;
    const timed = async (xs: number[], keep: boolean, fn: () => Promise<{ status: number; body: Buffer }>, ok: number) => {
      const t = performance.now();
      const r = await fn();
      const ms = performance.now() - t;
      if (r.status !== ok) throw new Error(`status ${r.status}: ${r.body.toString().slice(0, 300)}`);
      if (keep) xs.push(ms);
      return r;
    };
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      const keep = i >= WARMUP;
      const name = `b${i}`;
      const a = await timed(lat.crCreate, keep, () => post(crPath, cr(name, i)), 201);
      const b = await timed(lat.cmCreate, keep, () => post(cmPath, cm(name, i)), 201);
      crBytes = a.body.length;
      cmBytes = b.body.length;
      const crObj = JSON.parse(a.body.toString());
      const cmObj = JSON.parse(b.body.toString());
      crObj.spec = { ...crObj.spec, ...Object.fromEntries(fs.slice(0, 10).map((x) => [x.name, x.value(i + 1)])) };
      cmObj.data = { ...cmObj.data, ...Object.fromEntries(fs.slice(0, 10).map((x) => [x.name, String(x.value(i + 1))])) };
      await timed(lat.crUpdate, keep, () => put(`${crPath}/${name}`, crObj), 200);
      await timed(lat.cmUpdate, keep, () => put(`${cmPath}/${name}`, cmObj), 200);
    }
    const row = (label: string, xs: number[]) => { const s = sortNum(xs); return [label, f(pct(s, 50), 2), f(pct(s, 90), 2), f(pct(s, 99), 2)]; };
    printTable(`custom resource (50-field schema) vs ConfigMap of the same size, ${ROUNDS} rounds, sequential`, ['request', 'p50 ms', 'p90 ms', 'p99 ms'], [
      row('create custom resource', lat.crCreate),
      row('create ConfigMap', lat.cmCreate),
      row('update custom resource (PUT)', lat.crUpdate),
      row('update ConfigMap (PUT)', lat.cmUpdate),
    ], [`objects as answered: custom resource ${crBytes} bytes, ConfigMap ${cmBytes} bytes`]);
    const ratio = Math.max(pct(sortNum(lat.crCreate), 50) / pct(sortNum(lat.cmCreate), 50), pct(sortNum(lat.crUpdate), 50) / pct(sortNum(lat.cmUpdate), 50));
    console.log(`  custom resource / ConfigMap at p50 (worse of create, update): ${f(ratio, 2)}× (target ≤ ${TARGET_RATIO}×)`);
    return ratio <= TARGET_RATIO;
  } finally {
    await server.stop();
  }
}
