/**
 * `ssa`: what server-side apply costs next to a JSON merge patch making the same change. A `berth
 * server` child (SQLite, TLS + the admin client certificate from its kubeconfig) holds two equal
 * Deployments (3 containers with ports, env, resources and probes — a typical manifest) made by
 * apply; each round changes `spec.minReadySeconds` and one annotation on both (no pods come or go:
 * the controllers' work stays out of the figures), one by
 * `application/apply-patch+yaml` of the whole manifest (fieldManager=bench), the other by
 * `application/merge-patch+json` of just those two fields, alternating, one request at a time.
 * A third series applies the unchanged manifest (a no-op apply: merge, compare, nothing written).
 * Peer: the merge patch in the same run (the brief's comparison); upstream publishes no SSA latency.
 */
import { startBerth } from './lib/server.ts';
import { keepAliveAgent, request } from './lib/load.ts';
import { f, pct, printTable, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 200 : 600;
const WARMUP = QUICK ? 50 : 200;
/** Apply may cost more than a merge patch (it merges the whole manifest and tracks ownership); not more than this many times at p50. */
const TARGET_RATIO = 3;

function manifest(name: string, minReady: number, rev: number): Record<string, unknown> {
  const container = (i: number) => ({
    name: `c${i}`, image: `registry.local/app${i}:1.${i}`,
    args: ['--port', String(8080 + i), '--verbose'],
    ports: [{ containerPort: 8080 + i, name: `http${i}` }, { containerPort: 9090 + i, name: `metrics${i}` }],
    env: Array.from({ length: 6 }, (_, j) => ({ name: `VAR_${j}`, value: `value-${i}-${j}` })),
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 8080 + i }, periodSeconds: 5 },
    volumeMounts: [{ name: 'data', mountPath: `/data/${i}` }],
  });
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name, tier: 'web' }, annotations: { 'bench/rev': String(rev) } },
    spec: {
      replicas: 1,
      minReadySeconds: minReady,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' } },
        spec: { containers: [0, 1, 2].map(container), volumes: [{ name: 'data', emptyDir: {} }] },
      },
    },
  };
}

export async function run(): Promise<boolean> {
  const server = await startBerth();
  try {
    const agent = keepAliveAgent(2, server.tls);
    const url = (name: string, q = '') => `${server.url}/apis/apps/v1/namespaces/default/deployments/${name}${q}`;
    const apply = (name: string, body: unknown) => request(agent, 'PATCH', url(name, '?fieldManager=bench'), JSON.stringify(body), { 'content-type': 'application/apply-patch+yaml' });
    const merge = (name: string, minReady: number, rev: number) => request(agent, 'PATCH', url(name),
      JSON.stringify({ metadata: { annotations: { 'bench/rev': String(rev) } }, spec: { minReadySeconds: minReady } }), { 'content-type': 'application/merge-patch+json' });
    await apply('ssa', manifest('ssa', 1, 0));
    await apply('mp', manifest('mp', 1, 0));
    const ssa: number[] = [];
    const mp: number[] = [];
    const noop: number[] = [];
    let size = 0;
    for (let i = 1; i <= WARMUP + ROUNDS; i++) {
      const minReady = (i % 5) + 1;
      let t = performance.now();
      const r = await apply('ssa', manifest('ssa', minReady, i));
      const a = performance.now() - t;
      t = performance.now();
      await merge('mp', minReady, i);
      const m = performance.now() - t;
      t = performance.now();
      await apply('ssa', manifest('ssa', minReady, i));
      const n = performance.now() - t;
      if (i > WARMUP) { ssa.push(a); mp.push(m); noop.push(n); }
      size = r.body.length;
    }
    // Same end state, two ways: the applied object carries managedFields, the patched one the creator's only.
    const a = JSON.parse((await request(agent, 'GET', url('ssa'))).body.toString());
    const b = JSON.parse((await request(agent, 'GET', url('mp'))).body.toString());
    if (a.spec.minReadySeconds !== b.spec.minReadySeconds) throw new Error(`minReadySeconds differ: ${a.spec.minReadySeconds} vs ${b.spec.minReadySeconds}`);
    const row = (label: string, xs: number[]) => { const s = sortNum(xs); return [label, f(pct(s, 50), 2), f(pct(s, 90), 2), f(pct(s, 99), 2), f(s.reduce((x, y) => x + y, 0) / s.length, 2)]; };
    printTable(`server-side apply vs JSON merge patch, same change (minReadySeconds + 1 annotation), ${ROUNDS} rounds, sequential`, ['request', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms'], [
      row('apply (whole manifest)', ssa),
      row('merge patch (2 fields)', mp),
      row('apply, nothing changed', noop),
    ], [`object as answered: ${size} bytes; managedFields entries on the applied object: ${a.metadata.managedFields?.length ?? 0}`]);
    const ratio = pct(sortNum([...ssa]), 50) / pct(sortNum([...mp]), 50);
    console.log(`  apply / merge patch at p50: ${f(ratio, 2)}× (target ≤ ${TARGET_RATIO}×)`);
    return ratio <= TARGET_RATIO;
  } finally {
    await server.stop();
  }
}
