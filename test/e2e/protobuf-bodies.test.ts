/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`) through a real `berth server`:
 * a Pod's status with init and app container statuses and a Deployment's status with conditions,
 * written through the status subresource, read back as JSON unchanged; an unknown field number is
 * dropped with a Warning header. kubectl creates the Deployment (its typed `create deployment`
 * sends protobuf); kubectl sends no status, so the status bodies are built with the repo's test
 * encoder, field numbers written out from k8s.io/api's generated.proto.
 *
 * Run: node --import tsx --test test/e2e/protobuf-bodies.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { envelope, int, msg, str } from '../../src/api/protobuf/test-encoder.ts';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk } from '../support/kubectl-assert.ts';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const NS = 'default';
const T0 = 1767323045; // 2026-01-02T03:04:05Z
const at = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
/** metav1.Time field. */
const time = (field: number, seconds: number): Buffer => msg(field, int(1, seconds));
/** ObjectMeta{name, namespace, resourceVersion}. */
const meta = (name: string, resourceVersion = ''): Buffer =>
  msg(1, str(1, name), str(3, NS), ...(resourceVersion ? [str(6, resourceVersion)] : []));

/** A request with a protobuf body; the JSON answer, its status code and Warning headers. */
async function send(b: BerthServer, method: string, path: string, body: Buffer): Promise<{ code: number; json: any; warnings: string }> {
  const res = await b.request(method, path, { body, headers: { 'content-type': PROTOBUF }, timeoutMs: 10_000 });
  const w = res.headers.warning;
  return { code: res.status, json: res.json, warnings: Array.isArray(w) ? w.join(', ') : w ?? '' };
}

async function getJson(b: BerthServer, path: string): Promise<any> {
  const res = await b.request('GET', path, { timeoutMs: 10_000 });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json;
}

describe('protobuf request bodies', { concurrency: false }, () => {
  let b: BerthServer;
  before(async () => { b = await startBerth(); });
  after(async () => { await b?.cleanup(); });

  test('a Pod with init and app container statuses round-trips through pods/status', async () => {
    // Pod{metadata, spec{initContainers[20], containers[2], nodeName[10]}}; a node that does not exist, so nothing runs it.
    const spec = msg(2,
      msg(20, str(1, 'init'), str(2, 'docker.io/library/busybox:1.36')),
      msg(2, str(1, 'app'), str(2, 'docker.io/library/nginx:1.27')),
      str(10, 'e2e-nowhere'));
    const created = await send(b, 'POST', `/api/v1/namespaces/${NS}/pods`, envelope('v1', 'Pod', meta('pb-pod'), spec));
    assert.equal(created.code, 201, JSON.stringify(created.json));

    // ContainerStatus: 1 name, 2 state, 3 lastState, 4 ready, 5 restartCount, 6 image, 7 imageID,
    // 8 containerID, 9 started. ContainerState: 1 waiting, 2 running, 3 terminated.
    // ContainerStateTerminated: 1 exitCode, 2 signal, 3 reason, 4 message, 5 startedAt, 6 finishedAt, 7 containerID.
    const initStatus = msg(10, str(1, 'init'),
      msg(2, msg(3, int(1, 0), str(3, 'Completed'), time(5, T0), time(6, T0 + 2), str(7, 'containerd://init1'))),
      msg(3), int(4, false), int(5, 0), str(6, 'docker.io/library/busybox:1.36'), str(7, 'sha256:b1'), str(8, 'containerd://init1'), int(9, false));
    const appStatus = msg(8, str(1, 'app'),
      msg(2, msg(2, time(1, T0 + 10))),
      msg(3, msg(3, int(1, 137), int(2, 9), str(3, 'OOMKilled'), str(4, 'out of memory'), time(5, T0 + 3), time(6, T0 + 9), str(7, 'containerd://app1'))),
      int(4, true), int(5, 1), str(6, 'docker.io/library/nginx:1.27'), str(7, 'sha256:a2'), str(8, 'containerd://app2'), int(9, true),
      str(999, 'a field number no Kubernetes version defines'));
    // PodStatus: 1 phase, 2 conditions (PodCondition: 1 type, 2 status, 4 lastTransitionTime), 10 initContainerStatuses, 8 containerStatuses.
    const status = msg(3, str(1, 'Running'), msg(2, str(1, 'Ready'), str(2, 'True'), time(4, T0 + 11)), initStatus, appStatus);
    const rv = created.json.metadata.resourceVersion as string;
    const updated = await send(b, 'PUT', `/api/v1/namespaces/${NS}/pods/pb-pod/status`, envelope('v1', 'Pod', meta('pb-pod', rv), spec, status));
    assert.equal(updated.code, 200, JSON.stringify(updated.json));
    assert.match(updated.warnings, /unknown protobuf field 999 in \\?"status\.containerStatuses\[0\]\\?" \(ContainerStatus\), dropped/);

    const expected = {
      initContainerStatuses: [{
        name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at(T0), finishedAt: at(T0 + 2), containerID: 'containerd://init1' } },
        lastState: {}, ready: false, restartCount: 0, image: 'docker.io/library/busybox:1.36', imageID: 'sha256:b1', containerID: 'containerd://init1', started: false,
      }],
      containerStatuses: [{
        name: 'app', state: { running: { startedAt: at(T0 + 10) } },
        lastState: { terminated: { exitCode: 137, signal: 9, reason: 'OOMKilled', message: 'out of memory', startedAt: at(T0 + 3), finishedAt: at(T0 + 9), containerID: 'containerd://app1' } },
        ready: true, restartCount: 1, image: 'docker.io/library/nginx:1.27', imageID: 'sha256:a2', containerID: 'containerd://app2', started: true,
      }],
    };
    for (const pod of [updated.json, await getJson(b, `/api/v1/namespaces/${NS}/pods/pb-pod`)]) {
      assert.equal(pod.status.phase, 'Running');
      assert.deepEqual(pod.status.initContainerStatuses, expected.initContainerStatuses);
      assert.deepEqual(pod.status.containerStatuses, expected.containerStatuses);
      assert.deepEqual(pod.status.conditions?.find((c: { type: string }) => c.type === 'Ready'), { type: 'Ready', status: 'True', lastTransitionTime: at(T0 + 11) });
    }
  });

  test('a Deployment created by kubectl gets its conditions through deployments/status unchanged', async () => {
    assertOk(await b.kubectl(['create', 'deployment', 'pb-web', '--image=docker.io/library/nginx:1.27', '--replicas=0', '-n', NS]), 'create deployment');
    const available = {
      type: 'Available', status: 'True', lastUpdateTime: at(T0), lastTransitionTime: at(T0),
      reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.',
    };
    const reviewed = {
      type: 'example.com/Reviewed', status: 'False', lastUpdateTime: at(T0 + 60), lastTransitionTime: at(T0 + 30),
      reason: 'Pending', message: 'waiting for review',
    };
    // DeploymentCondition: 1 type, 2 status, 4 reason, 5 message, 6 lastUpdateTime, 7 lastTransitionTime.
    const condition = (c: typeof available, updatedAt: number, transitionAt: number): Buffer =>
      msg(6, str(1, c.type), str(2, c.status), time(6, updatedAt), time(7, transitionAt), str(4, c.reason), str(5, c.message));
    // The deployment controller writes status too: retry a write that lost the race (409).
    let updated: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < 10; i++) {
      const current = await getJson(b, `/apis/apps/v1/namespaces/${NS}/deployments/pb-web`);
      // DeploymentStatus: 1 observedGeneration, 6 conditions.
      const status = msg(3, int(1, current.metadata.generation), condition(available, T0, T0), condition(reviewed, T0 + 60, T0 + 30));
      updated = await send(b, 'PUT', `/apis/apps/v1/namespaces/${NS}/deployments/pb-web/status`,
        envelope('apps/v1', 'Deployment', meta('pb-web', current.metadata.resourceVersion), status));
      if (updated.code !== 409) break;
    }
    assert.equal(updated?.code, 200, JSON.stringify(updated?.json));
    assert.equal(updated!.warnings, '');
    assert.deepEqual(updated!.json.status.conditions, [available, reviewed]);
    // The controller owns Available and Progressing and may rewrite them; a condition of another type stays as sent.
    const read = await getJson(b, `/apis/apps/v1/namespaces/${NS}/deployments/pb-web`);
    assert.deepEqual(read.status.conditions.find((c: { type: string }) => c.type === reviewed.type), reviewed);
  });
});
