/**
 * The kubectl acceptance suite, second half (kubectl.case.ts runs it after kubectl-read.case.ts, on
 * the objects it created): mutating commands, delete, bad input, the client-node cases, teardown.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { assertFails, assertOk, lines, parseTable } from '../support/kubectl-assert.ts';
import { registerClientNodeTests } from './client-node.case.ts';
import { APP_V2, type KubectlSuite, T, configMap, mutDeployment, sleep } from './kubectl-suite.fixture.ts';

export function kubectlWriteCases(c: KubectlSuite): void {
  const { k, ok, getJson, assertNotFound, createObjects, createNs, assertServing, srv } = c;
  describe('mutating commands', () => {
    const ns = 'e2e-mut';
    const dep = async (): Promise<any> => getJson(['get', 'deploy', 'mut', '-n', ns]);

    before(async () => {
      await createNs(ns);
      await ok(['create', '-f', '-'], { input: JSON.stringify(mutDeployment('mut', ns)) });
      await ok(['create', '-f', '-'], { input: JSON.stringify(configMap('editme', ns, { color: 'red', size: 'L' })) });
    });

    it('create namespace', T, async () => {
      assert.equal(await ok(['create', 'namespace', 'e2e-made']), 'namespace/e2e-made created\n');
      const t = parseTable(await ok(['get', 'ns', 'e2e-made']));
      assert.deepEqual(t.rows[0]!.slice(0, 2), ['e2e-made', 'Active']);
    });

    it('create configmap --from-literal', T, async () => {
      assert.equal(await ok(['create', 'configmap', 'lit', '-n', ns, '--from-literal=k1=v1', '--from-literal=k2=v2']), 'configmap/lit created\n');
      assert.deepEqual((await getJson(['get', 'cm', 'lit', '-n', ns])).data, { k1: 'v1', k2: 'v2' });
    });

    it('create secret generic --from-literal', T, async () => {
      assert.equal(await ok(['create', 'secret', 'generic', 'sec', '-n', ns, '--from-literal=password=pw']), 'secret/sec created\n');
      const s = await getJson(['get', 'secret', 'sec', '-n', ns]);
      assert.equal(s.type, 'Opaque');
      assert.equal(s.data.password, Buffer.from('pw').toString('base64'));
    });

    it('create of an existing name fails with AlreadyExists', T, async () => {
      assertFails(
        await k(['create', '-f', '-'], { input: JSON.stringify(configMap('editme', ns, { color: 'other' })) }),
        'create existing configmap',
        /AlreadyExists/,
        /configmaps "editme" already exists/,
      );
      assert.deepEqual((await getJson(['get', 'cm', 'editme', '-n', ns])).data, { color: 'red', size: 'L' });
    });

    it('label and annotate', T, async () => {
      assert.equal(await ok(['label', 'deploy', 'mut', '-n', ns, 'color=blue']), 'deployment.apps/mut labeled\n');
      assert.equal(await ok(['annotate', 'deploy', 'mut', '-n', ns, 'note=hello world']), 'deployment.apps/mut annotated\n');
      const d = await dep();
      assert.equal(d.metadata.labels.color, 'blue');
      assert.equal(d.metadata.labels.app, 'mut');
      assert.equal(d.metadata.annotations.note, 'hello world');
      assert.equal(await ok(['label', 'deploy', 'mut', '-n', ns, 'color-']), 'deployment.apps/mut unlabeled\n');
      assert.equal((await dep()).metadata.labels.color, undefined);
    });

    it('scale deploy/mut --replicas=5, then wait --for=jsonpath', T, async () => {
      assert.equal(await ok(['scale', 'deploy/mut', '-n', ns, '--replicas=5']), 'deployment.apps/mut scaled\n');
      const out = await ok(['wait', '-n', ns, '--for=jsonpath={.spec.replicas}=5', 'deploy/mut', '--timeout=15s']);
      assert.equal(out, 'deployment.apps/mut condition met\n');
      assert.equal((await dep()).spec.replicas, 5);
    });

    it('set env', T, async () => {
      assert.equal(await ok(['set', 'env', 'deploy/mut', '-n', ns, 'FOO=bar']), 'deployment.apps/mut env updated\n');
      const env = (await dep()).spec.template.spec.containers[0].env;
      assert.deepEqual(
        env.map((e: any) => [e.name, e.value]),
        [
          ['A', '1'],
          ['FOO', 'bar'],
        ],
      );
    });

    it('patch --type=json', T, async () => {
      const out = await ok([
        'patch', 'deploy', 'mut', '-n', ns, '--type=json',
        '-p', '[{"op":"replace","path":"/spec/replicas","value":4},{"op":"add","path":"/metadata/labels/jp","value":"yes"}]',
      ]);
      assert.equal(out, 'deployment.apps/mut patched\n');
      const d = await dep();
      assert.equal(d.spec.replicas, 4);
      assert.equal(d.metadata.labels.jp, 'yes');
      assertFails(
        await k(['patch', 'deploy', 'mut', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]']),
        'failing json-patch test op',
      );
      assert.equal((await dep()).spec.replicas, 4);
    });

    it('patch --type=merge', T, async () => {
      const out = await ok(['patch', 'deploy', 'mut', '-n', ns, '--type=merge', '-p', '{"metadata":{"labels":{"jp":null,"mp":"yes"}}}']);
      assert.equal(out, 'deployment.apps/mut patched\n');
      const d = await dep();
      assert.equal(d.metadata.labels.mp, 'yes');
      assert.equal(d.metadata.labels.jp, undefined);
      assert.equal(d.metadata.labels.app, 'mut');
    });

    it('patch --type=strategic merges containers by name', T, async () => {
      const out = await ok([
        'patch', 'deploy', 'mut', '-n', ns, '--type=strategic',
        '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"docker.io/library/busybox:1.37"}]}}}}',
      ]);
      assert.equal(out, 'deployment.apps/mut patched\n');
      const c = (await dep()).spec.template.spec.containers;
      assert.equal(c.length, 1);
      assert.equal(c[0].image, 'docker.io/library/busybox:1.37');
      assert.deepEqual(c[0].command, ['sleep', '3600']);
      assert.deepEqual(c[0].env.map((e: any) => e.name), ['A', 'FOO']);
      assert.equal(c[0].ports[0].containerPort, 8080);
    });

    it('patch --subresource=status changes status only, then wait --for=condition', T, async () => {
      const before = await dep();
      const patch = {
        spec: { replicas: 9 },
        status: {
          conditions: [
            { type: 'E2eReady', status: 'True', reason: 'E2e', message: 'set by the e2e suite', lastUpdateTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' },
          ],
        },
      };
      const out = await ok(['patch', 'deploy', 'mut', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify(patch)]);
      assert.equal(out, 'deployment.apps/mut patched\n');
      const after = await dep();
      assert.equal(after.spec.replicas, before.spec.replicas, 'spec must not change through the status subresource');
      assert.ok(
        after.status?.conditions?.some((c: any) => c.type === 'E2eReady' && c.status === 'True'),
        `condition not stored: ${JSON.stringify(after.status)}`,
      );
      const waited = await ok(['wait', '-n', ns, '--for=condition=E2eReady', 'deploy/mut', '--timeout=15s']);
      assert.equal(waited, 'deployment.apps/mut condition met\n');
    });

    it('edit with a scripted KUBE_EDITOR', T, async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-editor-'));
      try {
        const script = path.join(dir, 'editor.sh');
        await writeFile(script, '#!/bin/sh\nsed -i "s/color: red/color: green/" "$1"\n');
        await chmod(script, 0o755);
        const out = await ok(['edit', 'cm', 'editme', '-n', ns], { env: { KUBE_EDITOR: script, EDITOR: script } });
        assert.equal(out, 'configmap/editme edited\n');
        assert.deepEqual((await getJson(['get', 'cm', 'editme', '-n', ns])).data, { color: 'green', size: 'L' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('replace -f', T, async () => {
      const cm = await getJson(['get', 'cm', 'editme', '-n', ns]);
      cm.data.color = 'blue';
      assert.equal(await ok(['replace', '-f', '-'], { input: JSON.stringify(cm) }), 'configmap/editme replaced\n');
      assert.deepEqual((await getJson(['get', 'cm', 'editme', '-n', ns])).data, { color: 'blue', size: 'L' });
    });

    it('replace with a stale resourceVersion fails with 409 Conflict', T, async () => {
      const stale = await getJson(['get', 'cm', 'editme', '-n', ns]);
      await ok(['label', 'cm', 'editme', '-n', ns, 'bump=1']);
      stale.data.color = 'stale';
      assertFails(
        await k(['replace', '-f', '-'], { input: JSON.stringify(stale) }),
        'replace with stale resourceVersion',
        /Conflict/,
        /the object has been modified/,
      );
      const now = await getJson(['get', 'cm', 'editme', '-n', ns]);
      assert.equal(now.data.color, 'blue');
      assert.equal(now.metadata.labels.bump, '1');
    });
  });

  describe('delete', () => {
    const ns = 'e2e-del';
    const createOwned = async (parent: string, child: string): Promise<string> => {
      await ok(['create', '-f', '-'], { input: JSON.stringify(configMap(parent, ns, { role: 'parent' })) });
      const uid = (await getJson(['get', 'cm', parent, '-n', ns])).metadata.uid;
      assert.ok(uid, 'parent has no uid');
      const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: parent, uid, blockOwnerDeletion: true };
      await ok(['create', '-f', '-'], { input: JSON.stringify(configMap(child, ns, { role: 'child' }, { ownerReferences: [owner] })) });
      return uid;
    };
    const eventually = async (what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await fn()) return;
        await sleep(250);
      }
      assert.fail(`${what} did not happen within ${ms} ms`);
    };
    const exists = async (name: string): Promise<boolean> => (await k(['get', 'cm', name, '-n', ns])).code === 0;

    before(async () => {
      await createNs(ns);
    });

    it('plain delete', T, async () => {
      await createObjects(configMap('plain', ns, { a: 'b' }));
      assert.equal(await ok(['delete', 'cm', 'plain', '-n', ns]), 'configmap "plain" deleted\n');
      assertFails(await k(['get', 'cm', 'plain', '-n', ns]), 'get deleted cm', /NotFound/, /configmaps "plain" not found/);
      assertFails(await k(['delete', 'cm', 'plain', '-n', ns]), 'delete missing cm', /NotFound/);
    });

    it('background delete garbage-collects dependents', T, async () => {
      await createOwned('bg-parent', 'bg-child');
      await ok(['delete', 'cm', 'bg-parent', '-n', ns, '--timeout=20s']);
      assert.equal(await exists('bg-parent'), false);
      await eventually('garbage collection of bg-child', async () => !(await exists('bg-child')));
    });

    it('--cascade=orphan keeps dependents and removes their ownerReferences', T, async () => {
      const uid = await createOwned('orphan-parent', 'orphan-child');
      const out = await ok(['delete', 'cm', 'orphan-parent', '-n', ns, '--cascade=orphan', '--timeout=20s']);
      assert.equal(out, 'configmap "orphan-parent" deleted\n');
      assert.equal(await exists('orphan-parent'), false);
      await sleep(1_000);
      const child = await getJson(['get', 'cm', 'orphan-child', '-n', ns]);
      assert.ok(!(child.metadata.ownerReferences ?? []).some((o: any) => o.uid === uid), `ownerReference not removed: ${JSON.stringify(child.metadata)}`);
    });

    it('--cascade=foreground with no dependents: the object disappears', T, async () => {
      await createObjects(configMap('fg-lonely', ns, { a: 'b' }));
      const out = await ok(['delete', 'cm', 'fg-lonely', '-n', ns, '--cascade=foreground', '--timeout=20s']);
      assert.equal(out, 'configmap "fg-lonely" deleted\n');
      await eventually('removal of fg-lonely', async () => !(await exists('fg-lonely')), 5_000);
    });

    it('--cascade=foreground with a dependent: dependent first, then the owner', T, async () => {
      await createOwned('fg-parent', 'fg-child');
      await ok(['delete', 'cm', 'fg-parent', '-n', ns, '--cascade=foreground', '--timeout=20s']);
      await eventually('removal of fg-parent and fg-child', async () => !(await exists('fg-parent')) && !(await exists('fg-child')));
    });

    it('a finalizer holds deletion until it is removed', T, async () => {
      await createObjects(configMap('held', ns, { a: 'b' }, { finalizers: ['e2e.berth.dev/hold'] }));
      assert.equal(await ok(['delete', 'cm', 'held', '-n', ns, '--wait=false']), 'configmap "held" deleted\n');
      const pending = await getJson(['get', 'cm', 'held', '-n', ns]);
      assert.ok(pending.metadata.deletionTimestamp, `deletionTimestamp should be set: ${JSON.stringify(pending.metadata)}`);
      assert.deepEqual(pending.metadata.finalizers, ['e2e.berth.dev/hold']);
      await ok(['patch', 'cm', 'held', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      await eventually('removal of held after its finalizer was cleared', async () => !(await exists('held')), 5_000);
    });

    it('--cascade=foreground keeps the owner (foregroundDeletion finalizer) until a blocked dependent is gone', T, async () => {
      await createOwned('fgb-parent', 'fgb-child');
      await ok(['patch', 'cm', 'fgb-child', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":["e2e.berth.dev/hold"]}}']);
      await ok(['delete', 'cm', 'fgb-parent', '-n', ns, '--cascade=foreground', '--wait=false']);
      await eventually('dependent marked for deletion', async () => {
        const child = await getJson(['get', 'cm', 'fgb-child', '-n', ns]);
        return Boolean(child.metadata.deletionTimestamp);
      });
      const parent = await getJson(['get', 'cm', 'fgb-parent', '-n', ns]);
      assert.ok(parent.metadata.deletionTimestamp, 'owner should be terminating');
      assert.ok((parent.metadata.finalizers ?? []).includes('foregroundDeletion'), `owner finalizers: ${JSON.stringify(parent.metadata.finalizers)}`);
      await ok(['patch', 'cm', 'fgb-child', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      await eventually('removal of fgb-child and then fgb-parent', async () => !(await exists('fgb-child')) && !(await exists('fgb-parent')));
    });
  });

  describe('bad input is rejected with a clear message and nothing is stored', () => {
    const ns = 'e2e-bad';
    before(async () => {
      await createNs(ns);
    });
    const cmNames = async (): Promise<string[]> => lines(await ok(['get', 'cm', '-n', ns, '-o', 'name']));

    it('negative replicas', T, async () => {
      const d = mutDeployment('neg', ns) as any;
      d.spec.replicas = -1;
      assertFails(await k(['apply', '-f', '-'], { input: JSON.stringify(d) }), 'apply replicas -1', /spec\.replicas: Invalid value: -1/);
      await assertServing();
      await assertNotFound(['get', 'deploy', 'neg', '-n', ns]);
    });

    it('invalid name', T, async () => {
      const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: ${ns}\ndata:\n  a: b\n`;
      assertFails(await k(['apply', '-f', '-'], { input: yaml }), 'apply invalid name', /metadata\.name: Invalid value: "Bad_Name"/);
      await assertServing();
      assert.ok(!(await cmNames()).includes('configmap/Bad_Name'));
    });

    it('unknown field under default (strict) validation', T, async () => {
      const d = mutDeployment('typo', ns) as any;
      d.spec.replicass = 2;
      assertFails(await k(['apply', '-f', '-'], { input: JSON.stringify(d) }), 'apply unknown field', /unknown field "(spec\.)?replicass"/);
      await assertServing();
      await assertNotFound(['get', 'deploy', 'typo', '-n', ns]);
    });

    it('malformed YAML', T, async () => {
      const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: ${ns}\ndata: [unclosed\n  a: b\n`;
      assertFails(await k(['apply', '-f', '-'], { input: yaml }), 'apply malformed yaml', /yaml/i);
      await assertServing();
      assert.ok(!(await cmNames()).includes('configmap/broken'));
    });

    it('unknown apiVersion/kind', T, async () => {
      const yaml = `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: ${ns}\nspec:\n  size: 1\n`;
      assertFails(await k(['apply', '-f', '-'], { input: yaml }), 'apply unknown kind', /no matches for kind "Widget" in version "example\.com\/v1"/);
      await assertServing();
    });

    it('oversized body (> 3 MiB) is refused with 413', T, async () => {
      const cm = configMap('huge', ns, { blob: 'x'.repeat(3.5 * 1024 * 1024) });
      assertFails(
        await k(['create', '-f', '-'], { input: JSON.stringify(cm), timeoutMs: 60_000 }),
        'create 3.5 MiB configmap',
        /Request entity too large|RequestEntityTooLarge/i,
      );
      await assertServing();
      await assertNotFound(['get', 'cm', 'huge', '-n', ns]);
    });
  });

  registerClientNodeTests(srv);

  describe('teardown through kubectl', () => {
    it('get in an empty namespace says "No resources found"', T, async () => {
      await createNs('e2e-empty');
      const res = await k(['get', 'pods', '-n', 'e2e-empty']);
      assertOk(res, 'get pods in empty namespace');
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /No resources found in e2e-empty namespace\./);
    });

    it('delete -f of the manifest (without its Namespace) deletes every object', T, async () => {
      const docs = (await readFile(APP_V2, 'utf8')).split(/^---$/m).filter((d) => !/^kind: Namespace$/m.test(d));
      assert.equal(docs.length, 8);
      const out = await ok(['delete', '-f', '-', '--timeout=60s'], { input: docs.join('\n---\n'), timeoutMs: 75_000 });
      assert.deepEqual(
        lines(out).sort(),
        [
          'configmap "web-config" deleted',
          'cronjob.batch "nightly" deleted',
          'deployment.apps "web" deleted',
          'job.batch "migrate" deleted',
          'secret "web-secret" deleted',
          'service "db-headless" deleted',
          'service "web" deleted',
          'statefulset.apps "db" deleted',
        ],
      );
      await assertNotFound(['get', 'deploy', 'web', '-n', 'e2e-app']);
    });

    it('deleting a namespace removes its contents, then the namespace', T, async () => {
      await createObjects(configMap('inside', 'e2e-empty', { a: 'b' }));
      assert.equal(await ok(['delete', 'namespace', 'e2e-empty', '--timeout=60s'], { timeoutMs: 75_000 }), 'namespace "e2e-empty" deleted\n');
      await assertNotFound(['get', 'ns', 'e2e-empty']);
      const left = await k(['get', 'cm', '-n', 'e2e-empty', '-o', 'name']);
      assert.equal(left.stdout, '', `objects left in the deleted namespace:\n${left.stdout}`);
    });
  });
}
