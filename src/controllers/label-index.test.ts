import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { LABEL_INDEX, labelIndex, selectedBy } from './label-index.ts';

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
