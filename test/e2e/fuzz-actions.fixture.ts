/**
 * What the API fuzzer (fuzz.fixture.ts) sends: fast-check arbitraries for request actions — bodies
 * mutated in type, nullness, depth, size and unicode; odd queries; patches of all three types;
 * malformed targets and headers; Upgrade requests — and how a mutation is applied to a seed object.
 */
import fc from 'fast-check';
import { SEEDS } from './fuzz-seeds.fixture.ts';

// ---------------------------------------------------------------------------------------------
// Arbitraries

export const EDGE_INTS = ['0', '-1', '1', '500', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1e3', 'x', '', '%zz', '１'];
export const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', 'All', 'Strict', 'Warn', 'Ignore', 'Exact', 'NotOlderThan', 'a=b', 'a in (b)', 'metadata.name=x', '!a', 'spec.nodeName=', '%', '\u0000', '名前', '😀', 'a\nb'),
);
export const deepValue = fc.integer({ min: 1, max: 400 }).map((n) => { let v: unknown = 1; for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v }; return v; });
export const bigString = fc.constantFrom(1000, 70_000, 300_000, 3_200_000).map((n) => 'x'.repeat(n));
export const special = fc.oneof(
  fc.constantFrom(null, '', 0, -1, 1.5, 2 ** 53, 2 ** 63, -(2 ** 63), 1e308, true, false, [], {}, [null], { '': null }, '1Gi', '-1Gi', 'NaN'),
  text, deepValue,
);
export const value: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  { arbitrary: special, weight: 4 },
  { arbitrary: bigString, weight: 1 },
);

export interface Mutation { op: 'set' | 'delete' | 'null' | 'unknown' | 'wrap'; path: number[]; value: unknown; key: string }
export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('set', 'set', 'delete', 'null', 'unknown', 'wrap'),
  path: fc.array(fc.nat(), { maxLength: 7 }),
  value,
  key: text,
});
/** Mostly valid requests reach deeper code: a third of the bodies go unmutated. */
export const mutations = fc.oneof({ weight: 1, arbitrary: fc.constant([] as Mutation[]) }, { weight: 2, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) });

/** A query parameter that is usually absent. */
export function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

export const query = fc.record({
  dryRun: rarely(fc.constantFrom('All', 'All', 'None', 'x')),
  fieldValidation: rarely(fc.constantFrom('Strict', 'Warn', 'Ignore', 'x')),
  limit: rarely(fc.constantFrom(...EDGE_INTS)),
  resourceVersion: rarely(fc.constantFrom('0', '1', '', 'x', '99999999999', '9223372036854775808')),
  resourceVersionMatch: rarely(fc.constantFrom('Exact', 'NotOlderThan', 'x')),
  labelSelector: rarely(text),
  fieldSelector: rarely(text),
  continue: rarely(fc.oneof(text, fc.constantFrom('eyJ2IjoxfQ', 'eyJ2IjoxLCJydiI6MSwic3RhcnQiOiIvIn0'))),
  timeoutSeconds: rarely(fc.constantFrom(...EDGE_INTS)),
  gracePeriodSeconds: rarely(fc.constantFrom(...EDGE_INTS)),
  propagationPolicy: rarely(fc.constantFrom('Orphan', 'Background', 'Foreground', 'x')),
  extra: rarely(fc.constantFrom('%zz', '&&', '=x', 'watch=1', 'a=%E0%A4%A', 'pretty=true')),
}, { requiredKeys: [] });
export type Query = typeof query extends fc.Arbitrary<infer T> ? T : never;

export const seedIndex = fc.nat({ max: SEEDS.length - 1 });
export const contentType = fc.constantFrom('application/json', 'application/json', 'application/json', 'application/yaml', 'text/plain', 'application/vnd.kubernetes.protobuf', '');
export const patchType = fc.constantFrom('application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml', 'x/y');
export const jsonPatchOp = fc.record({
  op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'x'),
  path: fc.oneof(fc.constantFrom('/metadata/labels/a', '/metadata/finalizers', '/metadata/finalizers/-', '/spec', '/data/key', '/metadata/name', '/status', '/', '', '/metadata/annotations/a~1b', '/spec/containers/0/image'), text),
  from: fc.option(fc.constantFrom('/metadata/labels', '/spec', '/x'), { nil: undefined }),
  value,
}, { requiredKeys: ['op', 'path'] });

export const action = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('create' as const), seed: seedIndex, muts: mutations, type: contentType, q: query, weirdName: fc.option(text, { nil: undefined }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('update' as const), seed: seedIndex, sub: fc.constantFrom('', 'status', 'scale', 'finalize'), muts: mutations, q: query }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('patch' as const), seed: seedIndex, sub: fc.constantFrom('', '', 'status', 'scale'), type: patchType, muts: mutations, ops: fc.array(jsonPatchOp, { maxLength: 3 }), raw: fc.option(value, { nil: undefined }), q: query }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('pod-sub' as const), sub: fc.constantFrom('binding', 'eviction'), body: fc.oneof(value, fc.record({ apiVersion: fc.constantFrom('v1', 'policy/v1', 'x'), kind: fc.constantFrom('Binding', 'Eviction', 'x'), metadata: fc.option(fc.record({ name: fc.oneof(text, fc.constant('fz-pod')) }), { nil: undefined }), target: fc.option(fc.record({ name: text }), { nil: undefined }), deleteOptions: fc.option(value, { nil: undefined }) }, { requiredKeys: [] })), q: query }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), seed: seedIndex, collection: fc.boolean(), body: fc.option(value, { nil: undefined }), q: query }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('read' as const), seed: seedIndex, item: fc.boolean(), watch: fc.boolean(), table: fc.boolean(), q: query }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('raw' as const), method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'BREW', 'CONNECT'), target: fc.oneof(text, fc.constantFrom('//', '/%', '/api/v1/namespaces/fuzz/pods/%zz', '/apis/%E0%A4%A/v1', '*', 'http://x/version', '/ui/../etc/passwd', '/openapi/v3/..%2f..%2f', '/api/v1/namespaces/fuzz/configmaps?limit=9223372036854775808', '/api/v1/namespaces/fuzz/pods/fz-pod', '/apis/apps/v1/namespaces/fuzz/deployments', '/api/v1/nodes/fz-node/status', '/api/v1/namespaces/fuzz/pods/fz-pod/eviction', '/api/v1/namespaces')), header: fc.option(fc.tuple(text, text), { nil: undefined }), body: fc.option(value, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('upgrade' as const), sub: fc.constantFrom('exec', 'attach', 'portforward', 'log', 'status', 'x'), protocol: fc.constantFrom('websocket', 'SPDY/3.1', 'h2c', ''), pod: fc.constantFrom('fz-pod', 'fz-nopod', '%zz', 'fz-unbound'), q: query }) },
);
export type FuzzAction = typeof action extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// Mutating objects

export function applyMutation(root: Record<string, any>, m: Mutation): void {
  let parent: any = root;
  for (let i = 0; i < m.path.length - 1; i++) {
    const keys = Object.keys(parent);
    if (!keys.length) break;
    const next = parent[keys[m.path[i] % keys.length]];
    if (typeof next !== 'object' || next === null) break;
    parent = next;
  }
  const keys = Object.keys(parent);
  const key = keys.length ? keys[(m.path[m.path.length - 1] ?? 0) % keys.length] : m.key;
  switch (m.op) {
    case 'set': parent[key] = m.value; break;
    case 'delete': if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key]; break;
    case 'null': parent[key] = null; break;
    case 'unknown': if (!Array.isArray(parent)) parent[m.key] = m.value; break;
    case 'wrap': parent[key] = [parent[key]]; break;
  }
}

export function mutate<T extends Record<string, any>>(obj: T, muts: Mutation[]): T {
  for (const m of muts) applyMutation(obj, m);
  return obj;
}

export function queryString(q: Query, keep: (k: string) => boolean = () => true): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (k !== 'extra' && v !== undefined && keep(k)) p.set(k, String(v));
  const s = p.toString();
  const all = [s, q.extra].filter(Boolean).join('&');
  return all ? `?${all}` : '';
}

