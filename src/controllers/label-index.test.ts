import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { LABEL_INDEX, SELECTOR_INDEX, labelIndex, selectedBy, selectorIndex, selectorsFor } from './label-index.ts';

const pod = (ns: string, name: string, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, ...(labels ? { labels } : {}) } });

/** An informer's index and namespace list over `objs`, counting the objects each read hands out. */
function indexed(objs: KubeObject[]) {
  const read = { objects: 0 };
  const hand = (out: KubeObject[]) => { read.objects += out.length; return out; };
  return {
    read,
    byIndex: (name: string, value: string) => { assert.equal(name, LABEL_INDEX); return hand(objs.filter((o) => labelIndex(o).includes(value))); },
    list: (ns?: string) => hand(objs.filter((o) => ns === undefined || o.metadata.namespace === ns)),
  };
}

const matchAll = (sel: Record<string, string>) => (o: KubeObject) => Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v);

test('label index: one value per label, namespaced; a prefixed key or a value with "=" stays one value', () => {
  assert.deepEqual(labelIndex(pod('a', 'p', { app: 'web', 'app.kubernetes.io/name': 'x=y' })), ['a/app=web', 'a/app.kubernetes.io/name=x=y']);
  assert.deepEqual(labelIndex(pod('a', 'p')), []);
});

test('selectedBy: the smallest bucket of the required pairs, filtered — the same objects as a walk of the namespace, never another namespace\'s', () => {
  const objs = [
    pod('a', 'web-1', { app: 'web', tier: 'front' }), pod('a', 'web-2', { app: 'web', tier: 'back' }),
    pod('a', 'db-1', { app: 'db', tier: 'back' }), pod('a', 'bare'), pod('b', 'web-b', { app: 'web', tier: 'back' }),
    ...Array.from({ length: 50 }, (_, i) => pod('a', `filler-${i}`, { app: 'filler', tier: 'back' })),
  ];
  const inf = indexed(objs);
  const names = (o: KubeObject[]) => o.map((p) => p.metadata.name).sort();
  const sel = { app: 'web', tier: 'back' };
  assert.deepEqual(names(selectedBy(inf, 'a', sel, matchAll(sel))), ['web-2']);
  // Read: the app=web bucket (2) and the tier=back bucket (52); the walk would hand out 54.
  inf.read.objects = 0;
  selectedBy(inf, 'a', { app: 'web' }, matchAll({ app: 'web' }));
  assert.equal(inf.read.objects, 2);
  // An empty bucket ends the search at once.
  inf.read.objects = 0;
  assert.deepEqual(selectedBy(inf, 'a', { app: 'none', tier: 'back' }, matchAll({ app: 'none', tier: 'back' })), []);
  assert.equal(inf.read.objects, 0);
  // No required pair: the namespace is walked.
  assert.equal(selectedBy(inf, 'a', {}, () => true).length, 54);
  assert.equal(selectedBy(inf, 'a', undefined, (o) => !o.metadata.labels).length, 1);
});

test('selectedBy agrees with a walk of the namespace for many random pods and selectors', () => {
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const objs: KubeObject[] = [];
  for (let i = 0; i < 400; i++) {
    const labels: Record<string, string> = {};
    for (const k of ['app', 'tier', 'example.com/team']) if (rnd(4) > 0) labels[k] = `v${rnd(3)}`;
    objs.push(pod(`ns${rnd(2)}`, `p${i}`, labels));
  }
  const inf = indexed(objs);
  for (let i = 0; i < 200; i++) {
    const sel: Record<string, string> = {};
    for (const k of ['app', 'tier', 'example.com/team']) if (rnd(2)) sel[k] = `v${rnd(3)}`;
    const ns = `ns${rnd(2)}`;
    const walk = objs.filter((o) => o.metadata.namespace === ns && matchAll(sel)(o));
    assert.deepEqual(new Set(selectedBy(inf, ns, sel, matchAll(sel))), new Set(walk), JSON.stringify({ ns, sel }));
  }
});

test('selectorsFor: the selectors that may pick an object, found through its labels — each once, the same as matching every selector of the namespace', () => {
  let seed = 11;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  // Selectors as Services: spec.selector, absent (selects nothing), or {} (here: every object).
  const selectors: KubeObject[] = [];
  for (let i = 0; i < 150; i++) {
    const sel: Record<string, string> = {};
    for (const k of ['app', 'tier', 'example.com/team']) if (rnd(2)) sel[k] = `v${rnd(3)}`;
    selectors.push({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: `ns${rnd(2)}`, name: `s${i}` }, spec: rnd(10) ? { selector: sel } : {} });
  }
  const requiredOf = (s: KubeObject) => s.spec?.selector as Record<string, string> | undefined;
  const fn = selectorIndex(requiredOf);
  assert.deepEqual(fn({ metadata: { namespace: 'a' }, spec: { selector: { z: '1', b: '2' } } } as KubeObject), ['a/b=2'], 'the first pair by key');
  assert.deepEqual(fn({ metadata: { namespace: 'a' }, spec: { selector: {} } } as KubeObject), ['a/*']);
  assert.deepEqual(fn({ metadata: { namespace: 'a' }, spec: {} } as KubeObject), []);
  const inf = { byIndex: (name: string, value: string) => { assert.equal(name, SELECTOR_INDEX); return selectors.filter((s) => fn(s).includes(value)); } };
  for (let i = 0; i < 300; i++) {
    const labels: Record<string, string> = {};
    for (const k of ['app', 'tier', 'example.com/team', 'other']) if (rnd(4) > 0) labels[k] = `v${rnd(3)}`;
    const p = pod(`ns${rnd(2)}`, `p${i}`, labels);
    const matches = (s: KubeObject) => !!requiredOf(s) && matchAll(requiredOf(s)!)(p);
    const walk = selectors.filter((s) => s.metadata.namespace === p.metadata.namespace && matches(s));
    const found = selectorsFor(inf, p, matches);
    assert.equal(found.length, new Set(found).size, 'each selector once');
    assert.deepEqual(new Set(found), new Set(walk), JSON.stringify(labels));
  }
});
