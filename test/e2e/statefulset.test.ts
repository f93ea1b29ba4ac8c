/**
 * End to end: StatefulSets on `bin/berth up` with local-path volumes, through real kubectl — a
 * 3-member key-value service of process pods (python3 serving its volume) behind a headless Service:
 * members appear in order, each after the previous is Ready; `web-1.web` resolves to member 1 in the
 * cluster DNS; each member keeps its ordinal on its own volume across a restart; scaling adds and
 * removes in order and keeps (Retain) or deletes (Delete) claims; rolling updates with a partition,
 * rollout undo/history/status/restart, OnDelete; the same set as runc pods from a local registry; the
 * Kubernetes documentation's `web` example with its image swapped for a local one; bad input. Needs root.
 *
 * The same cluster also runs the CronJob-on-a-real-clock case (cronjob-clock.fixture.ts): started
 * once the node is Ready, checked after the StatefulSet cases, whose minutes fill its wait for two
 * minute boundaries (as its own suite it held the machine lock ~100 s doing nothing). The docs
 * example is applied then too and checked in its case: its `minReadySeconds: 10` (as published)
 * makes OrderedReady wait 10 s after each member is Ready before the next — 30 s of waiting that the
 * other cases now fill instead of holding the lock idle.
 *
 * Networks: pods 10.66.0.0/24, services 10.67.0.0/16, bridge `berthsts0`, all removed at the end.
 * DNS: the cluster DNS forwards to a dnsmasq on loopback this suite starts; no test asks the machine's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxLayout } from '../../src/agent/runtime/runc/runc.fixture.ts';
import { push, sh } from '../../src/agent/images/test-image.fixture.ts';
import { startRegistry, type TestRegistry } from '../../src/agent/images/test-registry.fixture.ts';
import { freePort, startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertFails, assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waitFor as waitUntil } from '../support/wait.ts';
import { startCronJobClock, type CronJobClock } from './cronjob-clock.fixture.ts';
import { allReady, createdInOrder, docsExample, headless, kvSet, type Member } from './statefulset.fixture.ts';

const BRIDGE = 'berthsts0';
const NODE = 'sts-node';
const DNS_IP = '10.67.0.10';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StatefulSets with local-path volumes on berth up', { concurrency: false }, () => {
  let b: BerthServer;
  let dnsmasq: ChildProcess | undefined;
  let work: string;
  let reg: TestRegistry;
  let image: string;
  let webImage: string;
  let cron: CronJobClock;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 90_000 });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>, ms = 120_000) => waitUntil(what, fn, ms, () => b.logs().slice(-3000));
  const apply = async (...objs: object[]) => assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs })), 'apply');
  const get = async (kind: string, name: string, ns = 'default') => parseJson<any>(assertOk(await k(['get', kind, name, '-n', ns, '-o', 'json']), `get ${kind} ${name}`), name);
  const exists = async (kind: string, name: string, ns = 'default') => (await k(['get', kind, name, '-n', ns])).code === 0;
  const inClient = async (script: string) => (await k(['exec', 'client', '--', 'sh', '-c', script])).stdout.trim();

  /** The set's members straight from the API (fast enough to poll every 100 ms). */
  async function members(app: string, ns = 'default'): Promise<Member[]> {
    const r = await b.request('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`app=${app}`)}`);
    return (r.json?.items ?? []).map((p: any) => ({
      name: p.metadata.name, uid: p.metadata.uid, deleting: !!p.metadata.deletionTimestamp,
      revision: p.metadata.labels?.['controller-revision-hash'] ?? '',
      ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    })).sort((x: Member, y: Member) => x.name.localeCompare(y.name, undefined, { numeric: true }));
  }
  /** Polls the members until `done` holds, checking `invariant` on every snapshot; returns the snapshots. */
  async function observe(app: string, done: (m: Member[]) => boolean, invariant: (m: Member[]) => string | undefined, ms = 120_000, ns = 'default'): Promise<Member[][]> {
    const seen: Member[][] = [];
    const deadline = Date.now() + ms;
    for (;;) {
      const m = await members(app, ns);
      seen.push(m);
      const broken = invariant(m);
      assert.equal(broken, undefined, `${broken}: ${JSON.stringify(m)}`);
      if (done(m)) return seen;
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(m)}\n${b.logs().slice(-3000)}`);
      await sleep(100);
    }
  }
  const ordinalOverHttp = async (host: string) => inClient(`curl -s --max-time 3 http://${host}:8080/ordinal`);
  /** The member's name answers with its ordinal, once its DNS record follows a new pod IP (an EndpointSlice update away). */
  const expectOrdinal = (host: string, i: number) => waitFor(`${host} answers ${i}`, async () => (await ordinalOverHttp(host)) === String(i), 30_000);
  const claimOf = async (name: string) => get('pvc', name);

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the StatefulSet tests need root (network namespaces, runc)');
    work = mkdtempSync(join(tmpdir(), 'berth-e2e-sts-'));
    const layout = await buildBusyboxLayout(work);
    // The documentation example's image, swapped for a local one: busybox httpd as the entrypoint.
    await sh('umoci', ['config', '--image', `${layout}:v1`, '--tag', 'web', '--clear=config.entrypoint', '--clear=config.cmd',
      '--config.entrypoint', 'httpd', '--config.cmd', '-f', '--config.cmd', '-p', '--config.cmd', '80', '--config.cmd', '-h', '--config.cmd', '/usr/share/nginx/html',
      '--config.user', '0', '--config.workingdir', '/']);
    reg = await startRegistry(join(work, 'registry'));
    await push(layout, 'v1', reg.host, 'e2e/busybox');
    await push(layout, 'web', reg.host, 'e2e/busybox');
    image = `${reg.host}/e2e/busybox:v1`;
    webImage = `${reg.host}/e2e/busybox:web`;
    const upstreamPort = await freePort();
    dnsmasq = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--user=root', `--port=${upstreamPort}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      '--no-resolv', '--no-hosts', '--pid-file=', '--address=/upstream.test/198.51.100.9'], { stdio: 'ignore' });
    b = await startBerth({
      command: 'up',
      extraArgs: ['--cluster-cidr', '10.66.0.0/16', '--pod-cidr', '10.66.0.0/24', '--service-cidr', '10.67.0.0/16', '--bridge', BRIDGE,
        '--node-name', NODE, '--dns-upstream', `127.0.0.1:${upstreamPort}`,
        // runc by default, so the documentation's example runs as written; Berth's own process pods say so.
        '--default-runtime-class', 'runc'],
    });
    await waitFor('node Ready', async () => (await k(['get', 'node', NODE])).stdout.includes(' Ready'));
    cron = await startCronJobClock(k, { nodeName: NODE, kubeconfig: b.kubeconfig, cacheDir: b.cacheDir });
    // The docs example's own namespace and class; the set is checked in its case below.
    assertOk(await k(['create', 'namespace', 'docs']), 'namespace');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'my-storage-class' }, provisioner: 'berth.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer' })), 'class');
    assertOk(await k(['apply', '-n', 'docs', '-f', '-'], docsExample(webImage)), 'apply the example');
    await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { runtimeClassName: 'process', restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }] } });
    assertOk(await k(['wait', '--for=condition=Ready', 'pod/client', '--timeout=60s']), 'client ready');
  });

  after(async () => {
    if (b) {
      await k(['delete', 'statefulsets,pods,services', '--all', '--all-namespaces', '--grace-period=1', '--wait=true']).catch(() => {});
      await k(['delete', 'pvc', '--all', '--all-namespaces', '--wait=true']).catch(() => {});
      await k(['delete', 'namespace', 'cron', '--ignore-not-found', '--wait=true', '--timeout=60s']).catch(() => {});
      await b.cleanup();
    }
    // A pod still running when berth stops keeps its namespace (the next start would adopt it): this
    // bridge's prefix is the suite's own, so whatever is left of it goes.
    const left = execFileSync('ip', ['netns', 'list']).toString().split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${BRIDGE}-`));
    for (const n of left) execFileSync('ip', ['netns', 'del', n]);
    dnsmasq?.kill();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    execFileSync('sh', ['-c', `ip link del ${BRIDGE} 2>/dev/null; ip route del unreachable 10.66.0.0/16 2>/dev/null; ip route del 10.67.0.0/16 2>/dev/null; `
      + `nft delete table inet berth-egress-${BRIDGE} 2>/dev/null; nft delete table ip berth-proxy-${BRIDGE} 2>/dev/null; nft delete table inet berth-proxy-${BRIDGE} 2>/dev/null; true`]);
  });

  test('OrderedReady: web-0, web-1, web-2 in order, each after the previous is Ready; web-1.web resolves to member 1; each keeps its ordinal on its own volume', async () => {
    await apply(headless('web'), kvSet('web'));
    const seen = await observe('web', allReady(['web-0', 'web-1', 'web-2']), createdInOrder('web'));
    // The order was visible: at some point web-0 was there alone.
    assert.ok(seen.some((m) => m.length === 1 && m[0].name === 'web-0'), 'web-0 was alone first');
    for (const i of [0, 1, 2]) {
      const pvc = await claimOf(`data-web-${i}`);
      assert.equal(pvc.status.phase, 'Bound');
      const pv = await get('pv', pvc.spec.volumeName);
      assert.equal(readFileSync(join(pv.spec.local.path, 'ordinal'), 'utf8'), `${i}\n`);
    }
    const pod1 = await get('pod', 'web-1');
    assert.equal(pod1.spec.hostname, 'web-1');
    assert.equal(pod1.spec.subdomain, 'web');
    await waitFor('web-1.web resolves', async () => (await inClient(`dig +short +time=2 +tries=1 web-1.web.default.svc.cluster.local @${DNS_IP}`)) === pod1.status.podIP);
    // Through the pod's own resolver and search path too, and each name reaches its own member.
    for (const i of [0, 1, 2]) await expectOrdinal(`web-${i}.web`, i);
    const status = (await get('statefulset', 'web')).status;
    assert.equal(status.readyReplicas, 3);
    assert.equal(status.currentRevision, status.updateRevision);
  });

  test('deleting web-1 brings back web-1 with the same claim and its data', async () => {
    const before = await get('pod', 'web-1');
    const volume = (await claimOf('data-web-1')).spec.volumeName;
    assertOk(await k(['delete', 'pod', 'web-1', '--wait=false']), 'delete web-1');
    await waitFor('web-1 replaced and Ready', async () => (await members('web')).find((m) => m.name === 'web-1' && m.uid !== before.metadata.uid && m.ready));
    assert.equal((await claimOf('data-web-1')).spec.volumeName, volume, 'the same volume');
    const pv = await get('pv', volume);
    const starts = readFileSync(join(pv.spec.local.path, 'starts'), 'utf8').trim().split('\n');
    assert.equal(starts.length, 2, `two starts on one volume: ${starts.join(' | ')}`);
    await expectOrdinal('web-1.web', 1);
  });

  test('scale to 5 adds web-3 then web-4; back to 3 removes web-4 before web-3; the claims are retained (Retain)', async () => {
    assertOk(await k(['scale', 'statefulset/web', '--replicas=5']), 'scale up');
    await observe('web', allReady(['web-0', 'web-1', 'web-2', 'web-3', 'web-4']), createdInOrder('web'));
    assertOk(await k(['scale', 'statefulset/web', '--replicas=3']), 'scale down');
    await observe('web', allReady(['web-0', 'web-1', 'web-2']), (m) => {
      const three = m.find((x) => x.name === 'web-3');
      const four = m.find((x) => x.name === 'web-4');
      return three?.deleting && four ? 'web-3 is going while web-4 is still there' : undefined;
    });
    for (const n of ['data-web-3', 'data-web-4']) assert.equal((await claimOf(n)).status.phase, 'Bound', `${n} retained`);
  });

  test('whenScaled/whenDeleted Delete: a scaled-away member\'s claim goes with it, the rest with the set (Parallel)', async () => {
    await apply(headless('db'), kvSet('db', { replicas: 2, podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Delete' } }));
    await observe('db', allReady(['db-0', 'db-1']), () => undefined);
    const pv1 = await get('pv', (await claimOf('data-db-1')).spec.volumeName);
    assertOk(await k(['scale', 'statefulset/db', '--replicas=1']), 'scale db');
    await waitFor('data-db-1 deleted', async () => !(await exists('pvc', 'data-db-1')));
    await waitFor('its volume and directory deleted', async () => !(await exists('pv', pv1.metadata.name)) && !existsSync(pv1.spec.local.path));
    assert.ok(await exists('pvc', 'data-db-0'));
    assertOk(await k(['delete', 'statefulset', 'db', '--wait=true']), 'delete db');
    await waitFor('data-db-0 deleted with the set', async () => !(await exists('pvc', 'data-db-0')));
  });

  test('rolling update with a partition: 2 updates only web-2; 0 updates web-1 then web-0; history, undo, status, restart', async () => {
    const rev1 = (await get('statefulset', 'web')).status.currentRevision;
    assertOk(await k(['patch', 'statefulset', 'web', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } })]), 'partition 2');
    // The cause is on the set before the template changes, so the new revision carries it (upstream copies
    // the set's annotations into each revision it makes; `rollout history` prints them).
    assertOk(await k(['annotate', 'statefulset/web', 'kubernetes.io/change-cause=set VERSION=v2']), 'change-cause');
    assertOk(await k(['set', 'env', 'statefulset/web', 'VERSION=v2']), 'new template');
    const rev2 = await waitFor('update revision', async () => { const s = (await get('statefulset', 'web')).status; return s.updateRevision !== rev1 && s.updateRevision; });
    await waitFor('web-2 updated', async () => (await members('web')).find((m) => m.name === 'web-2' && m.revision === rev2 && m.ready));
    await sleep(2000);
    const after2 = await members('web');
    assert.deepEqual(after2.map((m) => [m.name, m.revision === rev2]), [['web-0', false], ['web-1', false], ['web-2', true]]);
    assert.match(assertOk(await k(['rollout', 'status', 'statefulset/web', '--timeout=30s']), 'partitioned status'), /partitioned roll out complete: 1 new pods have been updated/);

    assertOk(await k(['patch', 'statefulset', 'web', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })]), 'partition 0');
    await observe('web', (m) => m.length === 3 && m.every((x) => x.revision === rev2 && x.ready && !x.deleting), (m) => {
      const zero = m.find((x) => x.name === 'web-0');
      const one = m.find((x) => x.name === 'web-1');
      return zero && one && zero.revision === rev2 && one.revision !== rev2 ? 'web-0 updated before web-1' : undefined;
    });
    // A RollingUpdate strategy always has a partition (defaulted to 0), so kubectl reports the partitioned form.
    assert.match(assertOk(await k(['rollout', 'status', 'statefulset/web', '--timeout=60s']), 'status'), /partitioned roll out complete: 3 new pods have been updated/);
    const history = assertOk(await k(['rollout', 'history', 'statefulset/web']), 'history');
    assert.match(history, /^1\s+<none>$/m);
    assert.match(history, /^2\s+set VERSION=v2$/m);

    assertOk(await k(['rollout', 'undo', 'statefulset/web']), 'undo');
    await waitFor('back to the first template everywhere', async () => {
      const s = await get('statefulset', 'web');
      const env = s.spec.template.spec.containers[0].env.find((e: any) => e.name === 'VERSION')?.value;
      const m = await members('web');
      return env === 'v1' && s.status.updatedReplicas === 3 && s.status.readyReplicas === 3 && m.length === 3 && m.every((x) => x.revision === s.status.updateRevision && x.ready);
    }, 180_000);
    // The first revision is reused, not copied: same name, renumbered as the newest (as upstream does).
    assert.equal((await get('statefulset', 'web')).status.updateRevision, rev1);
    const undone = assertOk(await k(['rollout', 'history', 'statefulset/web']), 'history after undo');
    assert.doesNotMatch(undone, /^1\s/m);
    assert.match(undone, /^2\s+set VERSION=v2$/m);
    assert.match(undone, /^3\s+<none>$/m);
    const pv0 = await get('pv', (await claimOf('data-web-0')).spec.volumeName);
    assert.match(readFileSync(join(pv0.spec.local.path, 'starts'), 'utf8').trim().split('\n').at(-1)!, / v1$/, 'web-0 runs the first template again');

    const uids = new Map((await members('web')).map((m) => [m.name, m.uid]));
    assertOk(await k(['rollout', 'restart', 'statefulset/web']), 'restart');
    await waitFor('every member restarted', async () => {
      const m = await members('web');
      return m.length === 3 && m.every((x) => x.uid !== uids.get(x.name) && x.ready);
    }, 180_000);
    assert.ok((await get('statefulset', 'web')).spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
  });

  test('OnDelete: a new template reaches a member only when it is deleted', async () => {
    assertOk(await k(['patch', 'statefulset', 'web', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } })]), 'OnDelete');
    const before = await members('web');
    assertOk(await k(['set', 'env', 'statefulset/web', 'VERSION=v3']), 'new template');
    const rev3 = await waitFor('update revision', async () => { const s = (await get('statefulset', 'web')).status; return s.updateRevision !== s.currentRevision && s.updateRevision; });
    await sleep(3000);
    assert.deepEqual((await members('web')).map((m) => m.uid), before.map((m) => m.uid), 'nobody was replaced');
    assertOk(await k(['delete', 'pod', 'web-0', '--wait=false']), 'delete web-0');
    await waitFor('web-0 at the new revision', async () => (await members('web')).find((m) => m.name === 'web-0' && m.revision === rev3 && m.ready));
    const now = await members('web');
    assert.deepEqual(now.filter((m) => m.name !== 'web-0').map((m) => m.uid), before.filter((m) => m.name !== 'web-0').map((m) => m.uid));
  });

  test('deleting the StatefulSet keeps the claims its retention policy keeps', async () => {
    assertOk(await k(['delete', 'statefulset', 'web', '--wait=true']), 'delete web');
    await waitFor('members gone', async () => (await members('web')).length === 0);
    for (const i of [0, 1, 2, 3, 4]) assert.equal((await claimOf(`data-web-${i}`)).status.phase, 'Bound', `data-web-${i} kept`);
    assertOk(await k(['delete', 'pvc', '-l', 'app=web', '--wait=true']), 'clean the claims');
  });

  test('the same StatefulSet with runc pods from the local registry', async () => {
    await apply(headless('box', 8080), {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'box' },
      spec: {
        serviceName: 'box', replicas: 3, selector: { matchLabels: { app: 'box' } },
        template: {
          metadata: { labels: { app: 'box' } },
          spec: {
            runtimeClassName: 'runc', terminationGracePeriodSeconds: 1, securityContext: { runAsUser: 1000, fsGroup: 2000 },
            containers: [{
              name: 'kv', image, command: ['sh', '-c', 'echo "$ORDINAL" > /data/ordinal; echo start >> /data/starts; exec httpd -f -p 8080 -h /data'],
              env: [{ name: 'ORDINAL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } }],
              readinessProbe: { httpGet: { path: '/ordinal', port: 8080 }, periodSeconds: 1 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      },
    });
    await observe('box', allReady(['box-0', 'box-1', 'box-2']), createdInOrder('box'));
    for (const i of [0, 1, 2]) await expectOrdinal(`box-${i}.box`, i);
    const before = await get('pod', 'box-2');
    assertOk(await k(['delete', 'pod', 'box-2', '--wait=false']), 'delete box-2');
    await waitFor('box-2 back', async () => (await members('box')).find((m) => m.name === 'box-2' && m.uid !== before.metadata.uid && m.ready));
    const pv = await get('pv', (await claimOf('data-box-2')).spec.volumeName);
    assert.equal(readFileSync(join(pv.spec.local.path, 'starts'), 'utf8'), 'start\nstart\n');
    await expectOrdinal('box-2.box', 2);
    assertOk(await k(['delete', 'statefulset', 'box', '--wait=true']), 'delete box');
  });

  test('the StatefulSet example of the Kubernetes documentation (image swapped) reaches Ready with one bound claim per member', async () => {
    // Applied in `before` (its minReadySeconds run meanwhile).
    await waitFor('3 available members', async () => (await get('statefulset', 'web', 'docs')).status?.availableReplicas === 3, 240_000);
    const claims = parseJson<any>(assertOk(await k(['get', 'pvc', '-n', 'docs', '-o', 'json']), 'claims'), 'claims').items;
    assert.deepEqual(claims.map((c: any) => [c.metadata.name, c.status.phase, c.spec.storageClassName]).sort(),
      [['www-web-0', 'Bound', 'my-storage-class'], ['www-web-1', 'Bound', 'my-storage-class'], ['www-web-2', 'Bound', 'my-storage-class']]);
    const pod0 = await get('pod', 'web-0', 'docs');
    const pv0 = await get('pv', claims.find((c: any) => c.metadata.name === 'www-web-0').spec.volumeName);
    execFileSync('sh', ['-c', `echo hello-docs > ${pv0.spec.local.path}/index.html`]);
    await waitFor('web-0.nginx.docs serves its volume', async () => (await inClient(`curl -s --max-time 3 http://web-0.nginx.docs.svc.cluster.local/index.html`)) === 'hello-docs', 30_000);
    assert.equal(pod0.spec.hostname, 'web-0');
  });

  test('bad input: a selector not matching the template, immutable fields — 422 with causes, nothing half-created', async () => {
    const bad = kvSet('bad', { selector: { matchLabels: { app: 'other' } } });
    assertFails(await k(['apply', '-f', '-'], JSON.stringify(bad)), 'selector', /selector.*does not match template labels|`selector` does not match template `labels`/);
    const created = await b.request('POST', '/apis/apps/v1/namespaces/default/statefulsets', { body: bad });
    assert.equal(created.status, 422, JSON.stringify(created.json));
    assert.equal(created.json.reason, 'Invalid');
    assert.ok(created.json.details.causes.some((c: any) => c.field === 'spec.template.metadata.labels' && c.reason === 'FieldValueInvalid'), JSON.stringify(created.json.details));
    assert.equal(await exists('statefulset', 'bad'), false, 'no set');
    await sleep(1000);
    assert.deepEqual(await members('bad'), [], 'no member');
    assert.deepEqual(parseJson<any>(assertOk(await k(['get', 'pvc', '-o', 'json']), 'claims'), 'claims').items.filter((c: any) => c.metadata.name.endsWith('-bad-0')), [], 'no claim');

    await apply(headless('imm'), kvSet('imm', { replicas: 1 }));
    await observe('imm', allReady(['imm-0']), () => undefined);
    const was = await get('statefulset', 'imm');
    const changes: Array<[string, unknown[]]> = [
      ['serviceName', [{ op: 'replace', path: '/spec/serviceName', value: 'other' }]],
      ['podManagementPolicy', [{ op: 'replace', path: '/spec/podManagementPolicy', value: 'Parallel' }]],
      // The template's labels follow, so only the selector's immutability can refuse it.
      ['selector', [{ op: 'add', path: '/spec/selector/matchLabels/tier', value: 'x' }, { op: 'add', path: '/spec/template/metadata/labels/tier', value: 'x' }]],
      ['volumeClaimTemplates', [{ op: 'replace', path: '/spec/volumeClaimTemplates/0/spec/resources/requests/storage', value: '1Gi' }]],
    ];
    for (const [field, patch] of changes) {
      assertFails(await k(['patch', 'statefulset', 'imm', '--type=json', '-p', JSON.stringify(patch)]), field,
        /spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/);
      const r = await b.request('PATCH', '/apis/apps/v1/namespaces/default/statefulsets/imm', { body: JSON.stringify(patch), headers: { 'content-type': 'application/json-patch+json' } });
      assert.equal(r.status, 422, `${field}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.reason, 'Invalid');
      assert.deepEqual(r.json.details.causes.map((c: any) => [c.field, c.reason]), [['spec', 'FieldValueForbidden']], field);
    }
    const is = await get('statefulset', 'imm');
    assert.equal(is.metadata.generation, was.metadata.generation, 'the set unchanged');
    assert.deepEqual(is.spec, was.spec);
    const [member] = await members('imm');
    assert.equal(member?.uid, (await get('pod', 'imm-0')).metadata.uid);
    assert.equal(member.revision, was.status.updateRevision, 'its member untouched');
    assertOk(await k(['delete', 'statefulset', 'imm', '--wait=true']), 'delete imm');
    assertOk(await k(['delete', 'pvc', 'data-imm-0', '--wait=true']), 'delete its claim');
  });

  test('CronJob on a real clock: every minute a Job; finished ones kept to the history limit', () => cron.verify());

  test('deleting every set, pod and claim leaves no pod network namespace, veth, mount or volume directory', async () => {
    for (const ns of ['default', 'docs']) assertOk(await k(['delete', 'statefulsets,pods', '--all', '-n', ns, '--wait=true']), `delete in ${ns}`);
    await waitFor('no pod left', async () => parseJson<any>(assertOk(await k(['get', 'pods', '-A', '-o', 'json']), 'pods'), 'pods').items.length === 0);
    for (const ns of ['default', 'docs']) assertOk(await k(['delete', 'pvc', '--all', '-n', ns, '--wait=true']), `delete claims in ${ns}`);
    await waitFor('no volume left', async () => parseJson<any>(assertOk(await k(['get', 'pv', '-o', 'json']), 'pvs'), 'pvs').items.length === 0);
    const storage = join(b.dataDir, 'agent', 'storage');
    const netns = () => execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(`${BRIDGE}-`));
    await waitFor('nothing left on the host', async () => netns().length === 0
      && execFileSync('ip', ['link', 'show', 'master', BRIDGE]).toString().trim() === ''
      && !readFileSync('/proc/self/mountinfo', 'utf8').includes(b.dataDir)
      && (!existsSync(storage) || readdirSync(storage).length === 0), 30_000)
      .catch((err) => assert.fail(`${(err as Error).message}\nnetns: ${netns().join(', ')}\nstorage: ${existsSync(storage) ? readdirSync(storage).join(', ') : '-'}`));
  });
});
