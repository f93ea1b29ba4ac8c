/**
 * Control-plane benchmarks: `npm run bench -- NAME` with NAME one of api, watch, list, idle, pods, pm2, sched, sched-inproc, scale, dns, proxy, runc, runc-pods, pull, port-forward, fuzz, authz, api-security, volumes, node-loss, pod-network, failover, ssa, crd, ui,
 * metrics, discovery, footprint, all.
 * Exit status 0 when every target is met, 1 when one is missed, 2 on a crash or a bad name.
 */
const BENCHMARKS: Record<string, () => Promise<{ run(): Promise<boolean> }>> = {
  idle: () => import('./idle.ts'),
  api: () => import('./api.ts'),
  list: () => import('./list.ts'),
  watch: () => import('./watch.ts'),
  pods: () => import('./pods.ts'),
  pm2: () => import('./pm2.ts'),
  footprint: () => import('./footprint.ts'),
  sched: () => import('./sched.ts'),
  'sched-inproc': () => import('./sched-inproc.ts'),
  scale: () => import('./scale.ts'),
  dns: () => import('./dns.ts'),
  proxy: () => import('./proxy-sync.ts'),
  runc: () => import('./runc-startup.ts'),
  'runc-pods': () => import('./runc-pods.ts'),
  pull: () => import('./pull.ts'),
  'port-forward': () => import('./port-forward.ts'),
  fuzz: () => import('./fuzz.ts'),
  authz: () => import('./authz.ts'),
  volumes: () => import('./volumes.ts'),
  'api-security': () => import('./api-security.ts'),
  'node-loss': () => import('./node-loss.ts'),
  'pod-network': () => import('./pod-network.ts'),
  failover: () => import('./failover.ts'),
  ssa: () => import('./ssa.ts'),
  crd: () => import('./crd.ts'),
  ui: () => import('./ui.ts'),
  replicated: () => import('./replicated.ts'),
  metrics: () => import('./metrics.ts'),
  discovery: () => import('./discovery.ts'),
};

const name = process.argv[2] ?? '';
// `all` leaves out the fuzz soak (30 minutes on its own).
const names = name === 'all' ? Object.keys(BENCHMARKS).filter((n) => n !== 'fuzz') : [name];
if (!names.every((n) => n in BENCHMARKS)) {
  console.error(`usage: npm run bench -- <${[...Object.keys(BENCHMARKS), 'all'].join('|')}>`);
  process.exit(2);
}

let allPass = true;
try {
  for (const n of names) {
    const started = performance.now();
    console.log(`\n#### bench ${n} (node ${process.version}, ${new Date().toISOString()})`);
    const pass = await (await BENCHMARKS[n]()).run();
    console.log(`#### bench ${n}: ${pass ? 'targets met' : 'TARGET MISSED'} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    allPass &&= pass;
  }
} catch (err) {
  console.error(err);
  process.exit(2);
}
process.exit(allPass ? 0 : 1);
