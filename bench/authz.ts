/**
 * `authz`: authorization decisions per second with 1,000 Roles and 5,000 RoleBindings (plus the
 * default policy) — the RbacAuthorizer alone, and the whole chain a request goes through
 * (system:masters, every security part's authorizers), both fed the same objects: the chain of an
 * in-process `berth server` (startServer, controllers off) through the API, the lone authorizer
 * directly. Then what authorization adds to an in-process read (LocalClient.get as a user vs as
 * the API server itself).
 *
 * Data: 100 namespaces × 10 Roles (3 rules each); 100 × 50 RoleBindings, each to one of its
 * namespace's Roles (or view/edit), subjects a user u<i> and a group g<j>: 1,000 users in 100 groups.
 * Requests: 20,000 attribute records, users and namespaces at random, verbs get/list/create/delete on
 * pods, configmaps, secrets, deployments — about a fifth allowed. Decisions are synchronous loops for
 * 2 s after a 0.5 s warm-up (one core; the chain's async hops included).
 * Peer: no published figure for this size; kubernetes/kubernetes#58531 quotes upstream's
 * BenchmarkAuthorize (the bootstrap policy's test data) at ~2.7 µs per decision on an 8-core laptop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../src/apis/object.ts';
import type { Attributes, Authorizer, UserInfo } from '../src/auth/attributes.ts';
import { RbacAuthorizer, type RbacKind } from '../src/auth/rbac/rbac-authorizer.ts';
import { R, type ResourceRef } from '../src/client/client.ts';
import { LocalClient } from '../src/client/local-client.ts';
import { startServer } from '../src/server/berth-server.ts';
import { createLogger } from '../src/util/log.ts';
import { f, printTable, sleep } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const NAMESPACES = 100;
const ROLES_PER_NS = 10;
const BINDINGS_PER_NS = 50;
const USERS = 1000;
const GROUPS = 100;
const RUN_MS = QUICK ? 500 : 2000;
const RBAC = 'rbac.authorization.k8s.io';
const ref = (resource: string): ResourceRef => ({ group: RBAC, version: 'v1', resource });

/** A deterministic pseudo-random sequence (runs compare). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const RESOURCES: [string, string][] = [['', 'pods'], ['', 'configmaps'], ['', 'secrets'], ['apps', 'deployments']];
const VERBS = ['get', 'list', 'create', 'delete'];

function data(): { kind: RbacKind; obj: KubeObject }[] {
  const rand = rng(1);
  const out: { kind: RbacKind; obj: KubeObject }[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = `ns${n}`;
    for (let r = 0; r < ROLES_PER_NS; r++) {
      const rules = [0, 1, 2].map(() => {
        const [group, resource] = RESOURCES[Math.floor(rand() * RESOURCES.length)];
        return { verbs: VERBS.filter(() => rand() < 0.5), apiGroups: [group], resources: [resource] };
      }).filter((rule) => rule.verbs.length);
      out.push({ kind: 'Role', obj: { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: `role${r}`, namespace }, rules } });
    }
    for (let b = 0; b < BINDINGS_PER_NS; b++) {
      const pick = rand();
      const roleRef = pick < 0.1 ? { apiGroup: RBAC, kind: 'ClusterRole', name: pick < 0.05 ? 'view' : 'edit' } : { apiGroup: RBAC, kind: 'Role', name: `role${Math.floor(rand() * ROLES_PER_NS)}` };
      const subjects = [
        { kind: 'User', apiGroup: RBAC, name: `u${Math.floor(rand() * USERS)}` },
        { kind: 'Group', apiGroup: RBAC, name: `g${Math.floor(rand() * GROUPS)}` },
      ];
      out.push({ kind: 'RoleBinding', obj: { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: `rb${b}`, namespace }, roleRef, subjects } });
    }
  }
  return out;
}

function requests(count: number): Attributes[] {
  const rand = rng(2);
  return Array.from({ length: count }, () => {
    const u = Math.floor(rand() * USERS);
    const user: UserInfo = { name: `u${u}`, groups: [`g${u % GROUPS}`, 'system:authenticated'] };
    const [apiGroup, resource] = RESOURCES[Math.floor(rand() * RESOURCES.length)];
    const verb = VERBS[Math.floor(rand() * VERBS.length)];
    return {
      user, verb, isResourceRequest: true, path: '', apiGroup, apiVersion: 'v1', resource, subresource: '',
      namespace: `ns${Math.floor(rand() * NAMESPACES)}`, name: verb === 'get' || verb === 'delete' ? 'x' : '',
    };
  });
}

/** Decisions per second of `z` over `reqs`, and the share allowed. */
async function measure(z: Authorizer, reqs: Attributes[]): Promise<{ perSec: number; allowed: number }> {
  const loop = async (ms: number) => {
    let n = 0;
    let allowed = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 1000; i++) {
        if (await z.authorize(reqs[(n + i) % reqs.length]) === 'allow') allowed++;
      }
      n += 1000;
    }
    return { n, allowed };
  };
  await loop(RUN_MS / 4);
  const t0 = performance.now();
  const { n, allowed } = await loop(RUN_MS);
  return { perSec: n / ((performance.now() - t0) / 1000), allowed: allowed / n };
}

export async function run(): Promise<boolean> {
  const objects = data();
  const reqs = requests(20_000);
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-bench-authz-'));
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'error' }) });
  try {
    const system = new LocalClient(server.registry);
    const loadStart = performance.now();
    for (let n = 0; n < NAMESPACES; n++) await system.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}` } });
    for (const { kind, obj } of objects) await system.create(ref(kind === 'Role' ? 'roles' : 'rolebindings'), obj.metadata.namespace, obj);
    const loadMs = performance.now() - loadStart;
    // The chain's RBAC cache follows the informers: wait for the last binding to take effect.
    const last = objects.at(-1)!.obj;
    const probe: Attributes = { ...reqs[0], user: { name: last.subjects[0].name, groups: [] }, namespace: last.metadata.namespace!, verb: 'create', apiGroup: RBAC, resource: 'selfsubjectaccessreviews' };
    for (let i = 0; i < 600 && (await server.authorizer.authorize({ ...probe, apiGroup: 'authorization.k8s.io' })) !== 'allow'; i++) await sleep(50);
    await sleep(500);

    // The lone authorizer, fed the same objects plus the defaults as stored.
    const lone = new RbacAuthorizer();
    for (const [kind, resource] of [['ClusterRole', 'clusterroles'], ['ClusterRoleBinding', 'clusterrolebindings'], ['Role', 'roles'], ['RoleBinding', 'rolebindings']] as const) {
      for (const o of (await system.list(ref(resource), undefined)).items) lone.set(kind, o);
    }
    const alone = await measure(lone, reqs);
    const chain = await measure(server.authorizer, reqs);

    // An in-process read, as the API server itself and as a user allowed to read it.
    await system.create(R.configmaps, 'ns0', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } });
    const reader: UserInfo = { name: 'reader', groups: ['system:authenticated'] };
    await system.create(ref('rolebindings'), 'ns0', { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'reader', namespace: 'ns0' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'reader' }] });
    const asReader = system.as({ user: reader, authorizer: server.authorizer });
    for (let i = 0; i < 200; i++) { try { await asReader.get(R.configmaps, 'ns0', 'x'); break; } catch { await sleep(20); } }
    const gets = async (c: LocalClient) => {
      const end = performance.now() + RUN_MS / 2;
      let n = 0;
      const t0 = performance.now();
      while (performance.now() < end) { await c.get(R.configmaps, 'ns0', 'x'); n++; }
      return ((performance.now() - t0) * 1000) / n;
    };
    await gets(system);
    const plainUs = await gets(system);
    const authorizedUs = await gets(asReader);

    const size = `${NAMESPACES * ROLES_PER_NS} Roles, ${NAMESPACES * BINDINGS_PER_NS} RoleBindings (+ ${(await system.list(ref('clusterroles'), undefined)).items.length} default ClusterRoles)`;
    printTable(`authz — ${size}`, ['measure', 'Berth', 'peer'], [
      ['RbacAuthorizer alone', `${f(alone.perSec / 1000, 0)}k decisions/s (${f(1e6 / alone.perSec, 2)} µs)`, 'k8s BenchmarkAuthorize ~2.7 µs (#58531, other data)'],
      ['whole chain (masters, parts, RBAC)', `${f(chain.perSec / 1000, 0)}k decisions/s (${f(1e6 / chain.perSec, 2)} µs)`, ''],
      ['  share allowed', `${f(alone.allowed * 100, 0)} % / ${f(chain.allowed * 100, 0)} %`, ''],
      ['in-process get: API server itself / as a user', `${f(plainUs, 1)} / ${f(authorizedUs, 1)} µs`, ''],
      ['loading the objects through the API', `${f(loadMs / 1000, 1)} s`, ''],
    ], ['no target: figures for the README']);
    return true;
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
