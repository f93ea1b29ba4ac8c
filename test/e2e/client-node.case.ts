/**
 * @kubernetes/client-node against Berth: list, create and watch pods using the server's kubeconfig.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import type { BerthServer } from '../support/berth-server.ts';

const NS = 'e2e-client';

function pod(name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'client-node' } },
    // Bound to a node that does not exist, so nothing tries to run it.
    spec: { nodeName: 'e2e-nowhere', containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36', command: ['sleep', '3600'] }] },
  };
}

/** Register the client-node tests; `server` returns the suite's running server. */
export function registerClientNodeTests(server: () => BerthServer): void {
  describe('@kubernetes/client-node', () => {
    /**
     * The server's kubeconfig, loaded as-is. client-node 1.x refuses plain-http clusters unless
     * `insecure-skip-tls-verify: true` is set; the first test checks the file works unmodified, the
     * others force that flag so that a kubeconfig problem does not hide list/create/watch results.
     */
    const client = (forceSkipTls = true): { kc: KubeConfig; core: CoreV1Api } => {
      const raw = new KubeConfig();
      raw.loadFromFile(server().kubeconfig);
      if (!forceSkipTls) return { kc: raw, core: raw.makeApiClient(CoreV1Api) };
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: raw.clusters.map((c) => ({ ...c, skipTLSVerify: c.server.startsWith('http:') ? true : c.skipTLSVerify })),
        users: raw.users,
        contexts: raw.contexts,
        currentContext: raw.currentContext,
      });
      return { kc, core: kc.makeApiClient(CoreV1Api) };
    };

    it('the kubeconfig written by the server works unmodified', { timeout: 30_000 }, async () => {
      const { core } = client(false);
      const list = await core.listNamespace();
      assert.ok(Array.isArray(list.items));
    });

    it('lists pods, creates a pod, and a watch sees its ADDED event', { timeout: 60_000 }, async () => {
      const { kc, core } = client();
      await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });

      const empty = await core.listNamespacedPod({ namespace: NS });
      assert.ok(Array.isArray(empty.items), 'items must be an array');
      assert.equal(empty.items.length, 0);
      assert.match(empty.metadata?.resourceVersion ?? '', /^\d+$/, 'list must carry metadata.resourceVersion');

      const created = await core.createNamespacedPod({ namespace: NS, body: pod('cn-first') });
      assert.equal(created.metadata?.name, 'cn-first');
      assert.ok(created.metadata?.uid, 'created pod has a uid');

      const listed = await core.listNamespacedPod({ namespace: NS });
      assert.deepEqual(
        listed.items.map((p) => p.metadata?.name),
        ['cn-first'],
      );

      const events: Array<{ type: string; name: string | undefined }> = [];
      let watchError: unknown;
      let seen: () => void = () => undefined;
      const sawAdded = new Promise<void>((resolve) => (seen = resolve));
      const watch = new Watch(kc);
      const controller = await watch.watch(
        `/api/v1/namespaces/${NS}/pods`,
        { resourceVersion: listed.metadata?.resourceVersion },
        (type, obj: V1Pod) => {
          events.push({ type, name: obj?.metadata?.name });
          if (type === 'ADDED' && obj?.metadata?.name === 'cn-watched') seen();
        },
        (err) => {
          watchError = err;
        },
      );
      try {
        await core.createNamespacedPod({ namespace: NS, body: pod('cn-watched') });
        const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000));
        const result = await Promise.race([sawAdded.then(() => 'ok' as const), timeout]);
        assert.equal(result, 'ok', `no ADDED event for cn-watched within 5 s; events: ${JSON.stringify(events)}; error: ${String(watchError)}`);
      } finally {
        controller.abort();
      }
    });

    it('reading a missing pod rejects with 404', { timeout: 30_000 }, async () => {
      const { core } = client();
      await assert.rejects(core.readNamespacedPod({ namespace: NS, name: 'does-not-exist' }), (err: any) => {
        assert.equal(err?.code, 404, `expected code 404, got ${String(err)}`);
        return true;
      });
    });
  });
}
