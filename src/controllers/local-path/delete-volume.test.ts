import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import type { Client } from '../../client/client.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { HELPER_NAMESPACE, helperPod, removeFinishedHelper } from './delete-volume.ts';
import type { LocalPathContext } from './local-path-context.ts';

/** A context whose helper-pod cache holds `pods` and whose client records deletions (a fake boundary). */
function ctxWith(pods: KubeObject[]): { ctx: LocalPathContext; deleted: string[] } {
  const deleted: string[] = [];
  const cache = new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const client = { delete: async (_r: unknown, ns: string, name: string) => { deleted.push(`${ns}/${name}`); } } as unknown as Client;
  const helperPods = { get: (k: string) => cache.get(k) } as unknown as SharedInformer;
  return { ctx: { client, helperPods } as LocalPathContext, deleted };
}

const withPhase = (pv: string, phase?: string): KubeObject => ({ ...helperPod(pv, 'n1', `/x/${pv}_ns_c`), ...(phase ? { status: { phase } } : {}) });

test('a volume gone: its finished helper pod is deleted, a running one left to finish (CI: a second helper outlived its volume, Completed forever)', async () => {
  for (const [phase, gone] of [['Succeeded', true], ['Failed', true], ['Running', false], [undefined, false]] as const) {
    const { ctx, deleted } = ctxWith([withPhase('pvc-1', phase)]);
    await removeFinishedHelper(ctx, 'pvc-1');
    assert.deepEqual(deleted, gone ? [`${HELPER_NAMESPACE}/helper-pod-delete-pvc-1`] : [], String(phase));
  }
  const { ctx, deleted } = ctxWith([]);
  await removeFinishedHelper(ctx, 'pvc-2');
  assert.deepEqual(deleted, [], 'no helper, nothing to do');
});
