// The fence guard's rules outside start-up: the pod source's filtered view (a pod becoming fenced is
// its deletion) and the sweep on re-connecting (gone, elsewhere, fenced → stopped; the rest kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import type { InformerHandlers } from '../../client/controller-types.ts';
import type { Client } from '../../client/client.ts';
import { createLogger } from '../../util/log.ts';
import { fencedHere, RunnablePods, sweepMovedPods } from './fence-guard.ts';
import { WorkerTable, type TableWorker } from './worker-table.ts';

const pod = (uid: string, node: string, fence?: object): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `p-${uid}`, namespace: 'default', uid, ...(fence ? { annotations: { 'storage.berth.dev/fence': JSON.stringify(fence) } } : {}) },
  spec: { nodeName: node },
}) as KubeObject;

test('fencedHere: a fence naming this node, for this pod or for no pod in particular; malformed fences are none', () => {
  assert.equal(fencedHere(pod('a', 'n1', { node: 'n1', generation: 1 }), 'n1'), true);
  assert.equal(fencedHere(pod('a', 'n1', { node: 'n1', generation: 1, pod: 'a' }), 'n1'), true);
  assert.equal(fencedHere(pod('a', 'n1', { node: 'n1', generation: 1, pod: 'b' }), 'n1'), false);
  assert.equal(fencedHere(pod('a', 'n1', { node: 'n2', generation: 1 }), 'n1'), false);
  assert.equal(fencedHere(pod('a', 'n1', { node: 'n1' }), 'n1'), false);
  assert.equal(fencedHere(pod('a', 'n1'), 'n1'), false);
});

test('RunnablePods: fenced or foreign pods are hidden; a pod becoming fenced is delivered as its deletion', () => {
  let registered: InformerHandlers = {};
  const items = [pod('a', 'n1'), pod('b', 'n1', { node: 'n1', generation: 1 }), pod('c', 'n2')];
  const view = new RunnablePods({ list: () => items, addHandlers: (h) => { registered = h; }, removeHandlers: () => { registered = {}; } }, 'n1');
  assert.deepEqual(view.list().map((p) => p.metadata.uid), ['a']);
  const seen: string[] = [];
  const h: InformerHandlers = { add: (p) => seen.push(`add ${p.metadata.uid}`), update: (_o, p) => seen.push(`update ${p.metadata.uid}`), delete: (p) => seen.push(`delete ${p.metadata.uid}`) };
  view.addHandlers(h);
  registered.add!(pod('b', 'n1', { node: 'n1', generation: 1 }));
  registered.add!(pod('d', 'n1'));
  registered.update!(pod('d', 'n1'), pod('d', 'n1'));
  registered.update!(pod('d', 'n1'), pod('d', 'n1', { node: 'n1', generation: 2 }));
  registered.update!(pod('d', 'n1', { node: 'n1', generation: 2 }), pod('d', 'n1', { node: 'n1', generation: 2 }));
  registered.delete!(pod('d', 'n1', { node: 'n1', generation: 2 }));
  assert.deepEqual(seen, ['add d', 'update d', 'delete d']);
  view.removeHandlers(h);
  assert.equal(registered.add, undefined);
});

class W implements TableWorker {
  removed = false;
  private finish!: () => void;
  readonly done = new Promise<void>((r) => { this.finish = r; });
  constructor(readonly pod: KubeObject) {}
  get uid() { return this.pod.metadata.uid!; }
  update() {}
  remove() { this.removed = true; this.finish(); }
  schedule() {}
  instance() { return undefined; }
  logPath() { return undefined; }
}

test('sweepMovedPods: workers of pods gone, bound elsewhere or fenced here are stopped; the rest kept; an unreadable API throws', async () => {
  const table = new WorkerTable<W>();
  const ws = { keep: new W(pod('keep', 'n1')), gone: new W(pod('gone', 'n1')), moved: new W(pod('moved', 'n1')), fenced: new W(pod('fenced', 'n1')) };
  for (const w of Object.values(ws)) table.add(w);
  const api = [pod('keep', 'n1'), pod('moved', 'n2'), pod('fenced', 'n1', { node: 'n1', generation: 4, pod: 'fenced' })];
  const client = { list: async (_r: unknown, _ns: unknown, o: { fieldSelector: string }) => ({ items: api.filter((p) => o.fieldSelector === `spec.nodeName=${p.spec!.nodeName}`) }) } as unknown as Client;
  const n = await sweepMovedPods({ client, nodeName: 'n1', workers: table, log: createLogger({ level: 'error' }) });
  assert.equal(n, 3);
  assert.deepEqual(Object.entries(ws).filter(([, w]) => w.removed).map(([k]) => k).sort(), ['fenced', 'gone', 'moved']);
  const broken = { list: async () => { throw new Error('connect ECONNREFUSED'); } } as unknown as Client;
  await assert.rejects(sweepMovedPods({ client: broken, nodeName: 'n1', workers: table, log: createLogger({ level: 'error' }) }), /ECONNREFUSED/);
});
