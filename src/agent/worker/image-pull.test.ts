import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { EventRecorder } from '../../client/event-recorder.ts';
import type { ImageInfo } from '../images/image-service.ts';
import { PodImagePuller, type ImageSource } from './image-pull.ts';

const pod: KubeObject = {
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { imagePullSecrets: [{ name: 'reg' }, { name: 'missing' }], containers: [{ name: 'c', image: 'example.test/app:1' }] },
};
const image = { id: 'sha256:abc', size: 1234 } as ImageInfo;

function setup(source: Partial<ImageSource>) {
  const events: { reason: string; message: string; type: string }[] = [];
  const recorder = new EventRecorder({
    source: { component: 'kubelet', host: 'n' },
    sink: { create: async (_ns, ev) => { events.push({ reason: ev.reason, message: ev.message, type: ev.type }); return ev; }, patch: async () => ({}) as KubeObject },
  });
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'reg' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{"auths":{"example.test":{"auth":"YTpi"}}}').toString('base64') } };
  const lookup = { configMap: async () => undefined, secret: async (_ns: string, name: string) => (name === 'reg' ? secret : undefined) };
  const src: ImageSource = { get: async () => undefined, ensure: async () => image, ...source };
  return { events, puller: new PodImagePuller(src, recorder, lookup, { baseMs: 100, capMs: 400 }) };
}
const tick = () => new Promise((r) => setTimeout(r, 10));

test('present image with IfNotPresent: no pull, "already present" event', async () => {
  const { events, puller } = setup({ get: async () => image, ensure: async () => { throw new Error('must not pull'); } });
  const r = await puller.pull(pod, { name: 'c', image: 'example.test/app:1', imagePullPolicy: 'IfNotPresent' });
  assert.deepEqual(r, { image });
  await tick();
  assert.deepEqual(events.map((e) => e.message), ['Container image "example.test/app:1" already present on machine']);
});

test('a pull passes the pod\'s pull secrets and reports Pulling / Pulled with size', async () => {
  let secrets: unknown[] = [];
  const { events, puller } = setup({ ensure: async (_ref, policy, opts) => { assert.equal(policy, 'Always'); secrets = opts.pullSecrets ?? []; return image; } });
  assert.deepEqual(await puller.pull(pod, { name: 'c', image: 'example.test/app:1', imagePullPolicy: 'Always' }), { image });
  assert.equal(secrets.length, 1);
  assert.match(String(secrets[0]), /example\.test/);
  await tick();
  assert.equal(events[0]!.reason, 'Pulling');
  assert.match(events[1]!.message, /^Successfully pulled image "example\.test\/app:1" in [\d.]+s \([\d.]+s including waiting\)\. Image size: 1234 bytes\.$/);
});

test('a failing pull: ErrImagePull, then ImagePullBackOff inside the back-off, then a new attempt', async () => {
  let attempts = 0;
  const { events, puller } = setup({ ensure: async () => { attempts++; throw new Error('manifest unknown: repository not found'); } });
  const c = { name: 'c', image: 'example.test/nope:1', imagePullPolicy: 'IfNotPresent' };
  const first = await puller.pull(pod, c);
  assert.ok('waiting' in first);
  assert.equal(first.waiting.reason, 'ErrImagePull');
  assert.match(first.waiting.message, /Failed to pull image "example\.test\/nope:1": manifest unknown/);
  assert.equal(first.retryMs, 100);
  const second = await puller.pull(pod, c);
  assert.ok('waiting' in second && second.waiting.reason === 'ImagePullBackOff');
  assert.equal(attempts, 1, 'no pull inside the back-off');
  await new Promise((r) => setTimeout(r, 120));
  const third = await puller.pull(pod, c);
  assert.ok('waiting' in third && third.waiting.reason === 'ErrImagePull' && third.retryMs === 200, 'the back-off doubles');
  assert.equal(attempts, 2);
  await tick();
  assert.ok(events.some((e) => e.reason === 'BackOff' && e.message === 'Back-off pulling image "example.test/nope:1"'));
  assert.ok(events.some((e) => e.type === 'Warning' && e.message === 'Error: ErrImagePull'));
});

test('Never with a missing image: ErrImageNeverPull', async () => {
  const { puller } = setup({});
  const r = await puller.pull(pod, { name: 'c', image: 'example.test/app:1', imagePullPolicy: 'Never' });
  assert.ok('waiting' in r);
  assert.equal(r.waiting.reason, 'ErrImageNeverPull');
  assert.equal(r.waiting.message, 'Container image "example.test/app:1" is not present with pull policy of Never');
});
