import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import { ANN_BRICK_DIR, ANN_BRICKS } from '../../apis/volumes/replicated-volume.ts';
import { glusterEngine } from './gluster-engine.ts';
import { planRebuild, REBUILD_AFTER_MS } from './rebuild-replica.ts';
import type { ReplicatedContext } from './replicated-context.ts';

const T0 = Date.parse('2026-12-07T03:00:00Z');
const node = (i: number, ready: 'True' | 'Unknown', since = T0): KubeObject => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: `n${i}`, labels: { [STORAGE_NODE_LABEL]: 'true' }, annotations: { [ANN_BRICK_DIR]: `/data/n${i}/bricks` } },
  status: { addresses: [{ type: 'InternalIP', address: `198.18.0.${10 + i}` }], conditions: [{ type: 'Ready', status: ready, lastTransitionTime: new Date(since).toISOString() }] },
});
const pv: KubeObject = {
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-a', annotations: { [ANN_BRICKS]: JSON.stringify([1, 2, 3].map((i) => ({ node: `n${i}`, address: `198.18.0.${10 + i}`, path: `/data/n${i}/bricks/pvc-a/brick` }))) } },
  status: { phase: 'Bound' },
};
/** Only what planRebuild reads: the nodes and volumes caches and the engine. */
function ctxOf(nodes: KubeObject[]): ReplicatedContext {
  const cache = (items: KubeObject[]) => ({ get: (name: string) => items.find((x) => x.metadata.name === name), list: () => items });
  return { engine: glusterEngine, nodes: cache(nodes), volumes: cache([pv]) } as unknown as ReplicatedContext;
}

test('a replica on a node NotReady for the rebuild delay moves to the spare node; before it, the plan says when to look again', () => {
  const ctx = ctxOf([node(1, 'True'), node(2, 'Unknown', T0), node(3, 'True'), node(4, 'True')]);
  for (const delayMs of [5_000, 20_000, REBUILD_AFTER_MS]) {
    assert.deepEqual(planRebuild(ctx, pv, delayMs, T0 + delayMs - 1500), { retryInMs: 1500 }, `delay ${delayMs}`);
    const plan = planRebuild(ctx, pv, delayMs, T0 + delayMs);
    assert.ok(plan && 'from' in plan, `delay ${delayMs}: ${JSON.stringify(plan)}`);
    assert.equal(plan.from.node, 'n2');
    assert.equal(plan.to.node, 'n4');
    assert.equal(plan.to.path, '/data/n4/bricks/pvc-a/brick');
  }
  // Every node Ready: nothing to do.
  assert.equal(planRebuild(ctxOf([node(1, 'True'), node(2, 'True'), node(3, 'True'), node(4, 'True')]), pv, 5_000, T0 + 60_000), undefined);
});
