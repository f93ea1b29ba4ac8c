/**
 * The kubectl acceptance suite, first half (kubectl.case.ts runs it): discovery and version, apply of
 * a multi-document manifest, get in its forms (output formats, selectors, watch) and describe.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { columns, lines, parseTable } from '../support/kubectl-assert.ts';
import { spawnKubectl } from '../support/kubectl-watch.ts';
import { APP, APP_V2, type KubectlSuite, T, configMap, sleep } from './kubectl-suite.fixture.ts';

export function kubectlReadCases(c: KubectlSuite): void {
  const { k, ok, getJson, createObjects, createNs, srv } = c;
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

}
