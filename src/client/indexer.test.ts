import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apis/object.ts';
import { Indexer } from './indexer.ts';

const pod = (name: string, node: string, labels: string[] = []): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', labels: Object.fromEntries(labels.map((l) => [l, 'x'])) }, spec: { nodeName: node } }) as KubeObject;
const byNode = (o: KubeObject) => [String((o as { spec?: { nodeName?: string } }).spec?.nodeName ?? '')];

test('a key moves between index values as its object changes; a value with no keys left is gone', () => {
  const ix = new Indexer('pods');
  ix.addIndex('node', byNode);
  ix.set('ns/a', pod('a', 'n1'));
  ix.set('ns/b', pod('b', 'n1'));
  assert.deepEqual(ix.byIndex('node', 'n1').map((o) => o.metadata.name), ['a', 'b']);
  assert.equal(ix.set('ns/a', pod('a', 'n2'))?.metadata.name, 'a', 'set returns what it replaced');
  assert.deepEqual(ix.byIndex('node', 'n1').map((o) => o.metadata.name), ['b']);
  assert.deepEqual(ix.byIndex('node', 'n2').map((o) => o.metadata.name), ['a']);
  assert.equal(ix.delete('ns/b')?.metadata.name, 'b');
  assert.equal(ix.delete('ns/b'), undefined);
  assert.deepEqual(ix.indexValues('node'), ['n2']);
  assert.deepEqual(ix.byIndex('node', 'n1'), []);
});

test('an index added late files what is stored; several values per object; an unknown index is an error', () => {
  const ix = new Indexer('pods');
  ix.set('ns/a', pod('a', 'n1', ['app', 'tier']));
  ix.set('ns/b', pod('b', 'n1', ['app']));
  ix.addIndex('label', (o) => Object.keys(o.metadata.labels ?? {}));
  assert.deepEqual(ix.byIndex('label', 'app').map((o) => o.metadata.name), ['a', 'b']);
  ix.set('ns/a', pod('a', 'n1', ['tier']));
  assert.deepEqual(ix.byIndex('label', 'app').map((o) => o.metadata.name), ['b']);
  assert.deepEqual(ix.byIndex('label', 'tier').map((o) => o.metadata.name), ['a']);
  assert.throws(() => ix.byIndex('nope', 'x'), /informer pods: no index named nope/);
});
