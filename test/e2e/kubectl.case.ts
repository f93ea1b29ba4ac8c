/**
 * The kubectl acceptance suite, shared by every storage backend: real kubectl 1.32 with a fresh
 * discovery cache against one Berth server per suite file.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { BerthServer } from '../support/berth-server.ts';
import { findKubectl, type KubectlResult } from '../support/kubectl.ts';
import { assertFails, assertOk, columns, lines, parseJson, parseTable } from '../support/kubectl-assert.ts';
import { spawnKubectl } from '../support/kubectl-watch.ts';
import { registerClientNodeTests } from './client-node.case.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const APP = path.join(FIXTURES, 'app.yaml');
const APP_V2 = path.join(FIXTURES, 'app-v2.yaml');
const T = { timeout: 90_000 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A Deployment used by the mutation tests (created with `kubectl create -f -`). */
function mutDeployment(name: string, ns: string): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'docker.io/library/busybox:1.36',
              command: ['sleep', '3600'],
              env: [{ name: 'A', value: '1' }],
              ports: [{ name: 'http', containerPort: 8080 }],
            },
          ],
        },
      },
    },
  };
}

function configMap(name: string, ns: string, data: Record<string, string>, extraMeta: Record<string, unknown> = {}): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extraMeta }, data };
}

/**
 * Register the acceptance suite under `describe(label)`. `start` launches a fresh server; it is
 * called once in `before` and cleaned up in `after` (also when tests fail).
 */
export function runKubectlSuite(label: string, start: () => Promise<BerthServer>): void {
  describe(`kubectl acceptance (${label})`, () => {
    let server: BerthServer | undefined;
    const srv = (): BerthServer => {
      assert.ok(server, 'Berth server did not start (see the before hook failure)');
      return server;
    };
    const k = (args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult> =>
      srv().kubectl(args, opts);
    const ok = async (args: string[], opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<string> =>
      assertOk(await k(args, opts), `kubectl ${args.join(' ')}`);
    const getJson = async (args: string[]): Promise<any> => parseJson(await ok([...args, '-o', 'json']), `kubectl ${args.join(' ')}`);
    /** Assert `kubectl get` of one object answers NotFound. */
    const assertNotFound = async (args: string[]): Promise<void> => {
      assertFails(await k(args), `kubectl ${args.join(' ')} (expected NotFound)`, /NotFound|not found/);
    };
    /** Create objects from JSON with `kubectl create -f -` (setup; avoids typed-client generators). */
    const createObjects = async (...objs: object[]): Promise<void> => {
      await ok(['create', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
    };
    const createNs = (name: string): Promise<void> => createObjects({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    /** The server still answers and kubectl still works. */
    const assertServing = async (): Promise<void> => {
      const out = await ok(['get', '--raw', '/readyz']);
      assert.match(out, /ok/);
      await ok(['get', 'namespaces']);
    };

    before(async () => {
      await findKubectl(); // fails the whole suite with a clear message when kubectl is missing
      server = await start();
    });
    after(async () => {
      if (!server) return;
      const logFile = path.join(os.tmpdir(), `berth-e2e-${label}-server.log`);
      await writeFile(logFile, server.logs()).catch(() => undefined);
      console.log(`[e2e] ${label}: server log saved to ${logFile}`);
      await server.cleanup();
    });

    describe('discovery and version', () => {
      it('api-resources lists deployments (deploy) and statefulsets (sts) with short names', T, async () => {
        const out = await ok(['api-resources']);
        const table = parseTable(out);
        assert.deepEqual(table.header, ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
        assert.ok(
          table.rows.some((r) => r.join(' ') === 'deployments deploy apps/v1 true Deployment'),
          `no "deployments deploy apps/v1 true Deployment" row in:\n${out}`,
        );
        assert.ok(
          table.rows.some((r) => r.join(' ') === 'statefulsets sts apps/v1 true StatefulSet'),
          `no "statefulsets sts apps/v1 true StatefulSet" row in:\n${out}`,
        );
        assert.ok(table.rows.some((r) => r.join(' ') === 'configmaps cm v1 true ConfigMap'), `no configmaps row in:\n${out}`);
      });

      it('version prints the server version', T, async () => {
        const out = await ok(['version']);
        assert.match(out, /Client Version: v1\.32/);
        assert.match(out, /Server Version: v\d+\.\d+\.\d+/);
      });
    });

    describe('apply of a multi-document manifest', () => {
      let deployBefore: any;

      it('creates every object', T, async () => {
        const out = await ok(['apply', '-f', APP]);
        assert.deepEqual(
          lines(out).sort(),
          [
            'configmap/web-config created',
            'cronjob.batch/nightly created',
            'deployment.apps/web created',
            'job.batch/migrate created',
            'namespace/e2e-app created',
            'secret/web-secret created',
            'service/db-headless created',
            'service/web created',
            'statefulset.apps/db created',
          ],
        );
      });

      it('re-applying the same manifest reports every object unchanged', T, async () => {
        deployBefore = await getJson(['get', 'deploy', 'web', '-n', 'e2e-app']);
        const out = await ok(['apply', '-f', APP]);
        const ls = lines(out);
        assert.equal(ls.length, 9, `expected 9 lines, got:\n${out}`);
        for (const l of ls) assert.match(l, / unchanged$/, `expected "unchanged", got "${l}" in:\n${out}`);
        const again = await getJson(['get', 'deploy', 'web', '-n', 'e2e-app']);
        assert.equal(again.metadata.generation, deployBefore.metadata.generation, 'an unchanged apply must not bump generation');
      });

      it('applying app-v2 configures only the deployment, with exactly that change', T, async () => {
        const out = await ok(['apply', '-f', APP_V2]);
        const ls = lines(out);
        assert.equal(ls.length, 9, `expected 9 lines, got:\n${out}`);
        for (const l of ls) {
          if (l.startsWith('deployment.apps/web ')) assert.equal(l, 'deployment.apps/web configured');
          else assert.match(l, / unchanged$/, `only the deployment should change; got "${l}" in:\n${out}`);
        }

        const list = await getJson(['get', 'deploy', '-n', 'e2e-app']);
        assert.equal(list.kind, 'List');
        const dep = list.items.find((d: any) => d.metadata?.name === 'web');
        assert.ok(dep, `deployment web missing from get deploy -o json:\n${JSON.stringify(list)}`);
        assert.equal(dep.spec.replicas, 3);
        const c = dep.spec.template.spec.containers;
        assert.equal(c.length, 1);
        assert.deepEqual(
          c[0].env.map((e: any) => [e.name, e.value]),
          [
            ['FOO', '1'],
            ['BAZ', '3'],
          ],
          'env BAR should be gone, FOO and BAZ kept in order',
        );
        assert.deepEqual(
          c[0].ports.map((p: any) => [p.name, p.containerPort]),
          [
            ['http', 80],
            ['metrics', 9090],
          ],
          'port 9090 should be added after port 80',
        );
        assert.ok(dep.metadata.generation > (deployBefore?.metadata?.generation ?? 0), 'metadata.generation should increase');

        // Everything else is intact: compare with the pre-v2 object minus the intended changes.
        const strip = (d: any): any => {
          const x = structuredClone(d);
          delete x.status;
          delete x.metadata.resourceVersion;
          delete x.metadata.generation;
          delete x.metadata.managedFields;
          delete x.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
          delete x.metadata.annotations?.['deployment.kubernetes.io/revision'];
          delete x.spec.replicas;
          delete x.spec.template.spec.containers[0].env;
          delete x.spec.template.spec.containers[0].ports;
          return x;
        };
        assert.ok(deployBefore, 'previous test did not capture the deployment');
        assert.deepEqual(strip(dep), strip(deployBefore));
        const lastApplied = JSON.parse(dep.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
        assert.equal(lastApplied.spec.replicas, 3, 'last-applied-configuration should be updated');
      });
    });

    describe('get', () => {
      before(async () => {
        // A pod bound to a node that does not exist, so nothing tries to run it.
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'probe', namespace: 'e2e-app', labels: { app: 'probe' } },
          spec: { nodeName: 'e2e-nowhere', containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36', command: ['sleep', '3600'] }] },
        };
        await ok(['create', '-f', '-'], { input: JSON.stringify(pod) });
        await createNs('e2e-sel');
        const cms = [
          configMap('one', 'e2e-sel', { k: 'v' }, { labels: { app: 'web', tier: 'a' } }),
          configMap('two', 'e2e-sel', { k: 'v' }, { labels: { app: 'web', tier: 'b' } }),
          configMap('three', 'e2e-sel', { k: 'v' }, { labels: { app: 'db', tier: 'c' } }),
        ];
        await createObjects(...cms);
      });

      const headers: Array<[string, string[], boolean]> = [
        ['pods', ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], true],
        ['deployments', ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], true],
        ['services', ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], true],
        ['configmaps', ['NAME', 'DATA', 'AGE'], true],
        ['secrets', ['NAME', 'TYPE', 'DATA', 'AGE'], true],
        ['statefulsets', ['NAME', 'READY', 'AGE'], true],
        ['jobs', ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'], true],
        ['cronjobs', ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'], true],
        ['namespaces', ['NAME', 'STATUS', 'AGE'], false],
      ];
      for (const [resource, header, namespaced] of headers) {
        it(`get ${resource} prints the familiar columns`, T, async () => {
          const out = await ok(['get', resource, ...(namespaced ? ['-n', 'e2e-app'] : [])]);
          const table = parseTable(out);
          assert.deepEqual(table.header, header, `header of kubectl get ${resource}:\n${out}`);
          assert.ok(table.rows.length > 0, `no rows:\n${out}`);
          for (const row of table.rows) assert.equal(row.length, header.length, `row/header mismatch in:\n${out}`);
        });
      }

      it('table cells carry the expected values', T, async () => {
        const row = async (resource: string, name: string): Promise<string[]> => {
          const out = await ok(['get', resource, name, '-n', 'e2e-app']);
          const t = parseTable(out);
          assert.equal(t.rows.length, 1, out);
          return t.rows[0]!;
        };
        // Collect every mismatch so one missing feature does not hide the others.
        const problems: string[] = [];
        const check = (what: string, actual: unknown, expected: unknown | RegExp): void => {
          const good = expected instanceof RegExp ? expected.test(String(actual)) : JSON.stringify(actual) === JSON.stringify(expected);
          if (!good) problems.push(`${what}: expected ${expected instanceof RegExp ? expected : JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
        };
        const svc = await row('svc', 'web');
        check('svc web NAME/TYPE', svc.slice(0, 2), ['web', 'ClusterIP']);
        // ClusterIP allocation comes with the Services issue; until then the column shows the
        // object's own spec.clusterIP, or <none> when it has none.
        const spec = (await getJson(['get', 'svc', 'web', '-n', 'e2e-app'])).spec;
        check('svc web CLUSTER-IP', svc[2], spec.clusterIP ?? '<none>');
        check('svc web EXTERNAL-IP/PORT(S)', svc.slice(3, 5), ['<none>', '80/TCP']);
        const headless = await row('svc', 'db-headless');
        check('svc db-headless', headless.slice(0, 5), ['db-headless', 'ClusterIP', 'None', '<none>', '5432/TCP']);
        check('cm web-config', (await row('cm', 'web-config')).slice(0, 2), ['web-config', '2']);
        check('secret web-secret', (await row('secret', 'web-secret')).slice(0, 3), ['web-secret', 'Opaque', '1']);
        const dep = await row('deploy', 'web');
        check('deploy web READY', dep[1], /^\d+\/3$/);
        check('sts db READY', (await row('sts', 'db'))[1], /^\d+\/1$/);
        check('job migrate COMPLETIONS', (await row('job', 'migrate'))[2], /^\d+\/1$/);
        const cj = await row('cronjob', 'nightly');
        check('cronjob nightly', cj.slice(0, 6), ['nightly', '0 3 * * *', '<none>', 'False', '0', '<none>']);
        const ns = parseTable(await ok(['get', 'ns', 'e2e-app'])).rows[0]!;
        check('ns e2e-app', ns.slice(0, 2), ['e2e-app', 'Active']);
        assert.deepEqual(problems, []);
      });

      it('-o wide adds the priority columns', T, async () => {
        const dep = parseTable(await ok(['get', 'deploy', 'web', '-n', 'e2e-app', '-o', 'wide']));
        assert.deepEqual(dep.header, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
        assert.deepEqual(dep.rows[0]!.slice(5), ['web', 'docker.io/library/nginx:1.25', 'app=web']);
        const pods = parseTable(await ok(['get', 'pods', '-n', 'e2e-app', '-o', 'wide']));
        assert.deepEqual(pods.header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
        const probe = pods.rows.find((r) => r[0] === 'probe');
        assert.ok(probe, 'probe pod row missing');
        assert.equal(probe[6], 'e2e-nowhere');
        const svc = parseTable(await ok(['get', 'svc', 'web', '-n', 'e2e-app', '-o', 'wide']));
        assert.deepEqual(svc.header, ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
        assert.equal(svc.rows[0]![6], 'app=web');
      });

      it('-o yaml and -o json print full objects and lists', T, async () => {
        const listYaml = parseYaml(await ok(['get', 'cm', '-n', 'e2e-app', '-o', 'yaml']));
        assert.equal(listYaml.kind, 'List');
        assert.equal(listYaml.apiVersion, 'v1');
        const cm = listYaml.items.find((i: any) => i.metadata.name === 'web-config');
        assert.ok(cm, 'web-config missing from -o yaml list');
        assert.equal(cm.kind, 'ConfigMap');
        assert.deepEqual(cm.data, { greeting: 'hello', mode: 'test' });
        const one = parseYaml(await ok(['get', 'cm', 'web-config', '-n', 'e2e-app', '-o', 'yaml']));
        assert.equal(one.kind, 'ConfigMap');
        assert.equal(one.metadata.namespace, 'e2e-app');
        assert.match(one.metadata.uid, /^[0-9a-f-]{36}$/);
        assert.match(one.metadata.resourceVersion, /^\d+$/);
        assert.ok(!Number.isNaN(Date.parse(one.metadata.creationTimestamp)), 'creationTimestamp should be a date');
        const sts = await getJson(['get', 'sts', 'db', '-n', 'e2e-app']);
        assert.equal(sts.kind, 'StatefulSet');
        assert.equal(sts.apiVersion, 'apps/v1');
        assert.equal(sts.spec.volumeClaimTemplates[0].metadata.name, 'data');
        assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '1Gi');
        const secret = await getJson(['get', 'secret', 'web-secret', '-n', 'e2e-app']);
        assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cr3t');
      });

      it('-o jsonpath and -o name', T, async () => {
        const jp = await ok(['get', 'cm', '-n', 'e2e-sel', '-l', 'app', '-o', 'jsonpath={.items[*].metadata.name}']);
        assert.deepEqual(jp.trim().split(/\s+/).sort(), ['one', 'three', 'two']);
        const names = await ok(['get', 'cm', '-n', 'e2e-sel', '-l', 'app', '-o', 'name']);
        assert.deepEqual(lines(names).sort(), ['configmap/one', 'configmap/three', 'configmap/two']);
        const dep = await ok(['get', 'deploy', 'web', '-n', 'e2e-app', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
        assert.equal(dep, 'docker.io/library/nginx:1.25');
      });

      it('--show-labels', T, async () => {
        const t = parseTable(await ok(['get', 'cm', 'one', '-n', 'e2e-sel', '--show-labels']));
        assert.deepEqual(t.header, ['NAME', 'DATA', 'AGE', 'LABELS']);
        assert.equal(t.rows[0]![3], 'app=web,tier=a');
      });

      it('label selectors: equality and set-based', T, async () => {
        const names = async (selector: string): Promise<string[]> =>
          lines(await ok(['get', 'cm', '-n', 'e2e-sel', '-l', selector, '-o', 'name'])).sort();
        assert.deepEqual(await names('app=web'), ['configmap/one', 'configmap/two']);
        assert.deepEqual(await names('tier in (b,c)'), ['configmap/three', 'configmap/two']);
        assert.deepEqual(await names('tier notin (a),app'), ['configmap/three', 'configmap/two']);
        assert.deepEqual(await names('app!=web,tier'), ['configmap/three']);
        const deploys = parseTable(await ok(['get', 'deploy,svc', '-n', 'e2e-app', '-l', 'app=web']));
        assert.ok(deploys.rows.length >= 1);
      });

      it('--field-selector metadata.name=two', T, async () => {
        const t = parseTable(await ok(['get', 'cm', '-n', 'e2e-sel', '--field-selector', 'metadata.name=two']));
        assert.deepEqual(
          t.rows.map((r) => r[0]),
          ['two'],
        );
        const all = lines(await ok(['get', 'cm', '-A', '--field-selector', 'metadata.namespace=e2e-sel', '-o', 'name', '-l', 'app']));
        assert.deepEqual(all.sort(), ['configmap/one', 'configmap/three', 'configmap/two']);
      });

      it('-A lists every namespace with a NAMESPACE column', T, async () => {
        const out = await ok(['get', 'cm', '-A']);
        const t = parseTable(out);
        assert.deepEqual(t.header, ['NAMESPACE', 'NAME', 'DATA', 'AGE']);
        const pairs = t.rows.map((r) => `${r[0]}/${r[1]}`);
        for (const want of ['e2e-sel/one', 'e2e-sel/two', 'e2e-app/web-config']) {
          assert.ok(pairs.includes(want), `${want} missing from get cm -A:\n${out}`);
        }
      });

      it('get cm -w prints a line for a change made after it started', T, async () => {
        const watch = await spawnKubectl(['get', 'cm', '-n', 'e2e-sel', '-w'], { kubeconfig: srv().kubeconfig, cacheDir: srv().cacheDir });
        try {
          await watch.waitForLine(/^NAME\s+DATA\s+AGE/, 10_000);
          await watch.waitForLine(/^three\s/, 10_000);
          await createObjects(configMap('watched', 'e2e-sel', { a: 'b' }));
          const line = await watch.waitForLine(/^watched\s/, 5_000);
          assert.equal(columns(line)[1], '1');
          // A label change is a MODIFIED event; kubectl prints the row again.
          const before = watch.stdout().split('\n').filter((l) => /^one\s/.test(l)).length;
          await ok(['label', 'cm', 'one', '-n', 'e2e-sel', 'seen=yes']);
          const deadline = Date.now() + 5_000;
          while (watch.stdout().split('\n').filter((l) => /^one\s/.test(l)).length <= before && Date.now() < deadline) await sleep(100);
          assert.ok(
            watch.stdout().split('\n').filter((l) => /^one\s/.test(l)).length > before,
            `MODIFIED event not printed within 5 s:\n${watch.stdout()}\n${watch.stderr()}`,
          );
        } finally {
          await watch.stop();
        }
      });
    });

    describe('describe', () => {
      it('describe deployment', T, async () => {
        const out = await ok(['describe', 'deployment', 'web', '-n', 'e2e-app']);
        assert.match(out, /^Name:\s+web$/m);
        assert.match(out, /^Namespace:\s+e2e-app$/m);
        assert.match(out, /^Selector:\s+app=web$/m);
        assert.match(out, /^Replicas:\s+3 desired/m);
        assert.match(out, /Image:\s+docker\.io\/library\/nginx:1\.25/);
        assert.match(out, /9090\/TCP/);
        assert.match(out, /FOO:\s+1/);
        assert.doesNotMatch(out, /BAR:/);
      });

      it('describe configmap', T, async () => {
        const out = await ok(['describe', 'configmap', 'web-config', '-n', 'e2e-app']);
        assert.match(out, /^Name:\s+web-config$/m);
        assert.match(out, /^Namespace:\s+e2e-app$/m);
        assert.match(out, /^Labels:\s+app=web$/m);
        assert.match(out, /^Data\n====/m);
        assert.match(out, /^greeting:\n----\nhello$/m);
      });
    });

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
  });
}
