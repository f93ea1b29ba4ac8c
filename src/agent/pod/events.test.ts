import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { EventRecorder, containerFieldPath, type EventSink } from './events.ts';

function memorySink(): EventSink & { created: KubeObject[]; patches: { name: string; patch: any }[]; failPatch: boolean } {
  const s = {
    created: [] as KubeObject[],
    patches: [] as { name: string; patch: any }[],
    failPatch: false,
    async create(_ns: string, ev: KubeObject) {
      s.created.push(ev);
      return ev;
    },
    async patch(_ns: string, name: string, patch: any) {
      if (s.failPatch) throw new Error('not found');
      s.patches.push({ name, patch });
      return { metadata: { name } };
    },
  };
  return s;
}

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'ns1', uid: 'u1', resourceVersion: '7' },
  spec: { initContainers: [{ name: 'init' }], containers: [{ name: 'app' }] },
};

test('creates a kubelet-sourced event with a hex-timestamp name and involvedObject', async () => {
  const sink = memorySink();
  const rec = new EventRecorder({ node: 'n1', sink, now: () => new Date('2024-01-02T03:04:05.678Z') });
  await rec.event(pod, 'Normal', 'Pulled', 'Container image "x" already present', { fieldPath: containerFieldPath(pod, 'app') });
  assert.equal(sink.created.length, 1);
  const ev = sink.created[0];
  assert.match(ev.metadata.name!, /^web\.[0-9a-f]+$/);
  assert.equal(ev.metadata.namespace, 'ns1');
  assert.deepEqual(ev.involvedObject, { kind: 'Pod', namespace: 'ns1', name: 'web', uid: 'u1', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'spec.containers{app}' });
  assert.deepEqual(ev.source, { component: 'kubelet', host: 'n1' });
  assert.equal(ev.count, 1);
  assert.equal(ev.firstTimestamp, '2024-01-02T03:04:05Z');
  assert.equal(ev.type, 'Normal');
  assert.equal(containerFieldPath(pod, 'init'), 'spec.initContainers{init}');
});

test('repeats within the window bump count; a different message or an expired window creates anew', async () => {
  const sink = memorySink();
  let now = new Date('2024-01-01T00:00:00Z');
  const rec = new EventRecorder({ node: 'n1', sink, now: () => now, windowMs: 60_000 });
  await rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  now = new Date('2024-01-01T00:00:30Z');
  await Promise.all([rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container'), rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container')]);
  assert.equal(sink.created.length, 1);
  assert.deepEqual(sink.patches.map((p) => p.patch.count), [2, 3]);
  assert.equal(sink.patches[1].name, sink.created[0].metadata.name);
  assert.equal(sink.patches[1].patch.lastTimestamp, '2024-01-01T00:00:30Z');
  await rec.event(pod, 'Warning', 'BackOff', 'other message');
  assert.equal(sink.created.length, 2);
  now = new Date('2024-01-01T00:05:00Z');
  await rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  assert.equal(sink.created.length, 3);
  assert.equal(sink.created[2].count, 1);
});

test('a failed patch falls back to create; the cache is bounded; errors never reject', async () => {
  const sink = memorySink();
  const errors: unknown[] = [];
  const rec = new EventRecorder({ node: 'n1', sink, maxEntries: 2, onError: (e) => errors.push(e) });
  await rec.event(pod, 'Normal', 'A', 'm');
  sink.failPatch = true;
  await rec.event(pod, 'Normal', 'A', 'm');
  assert.equal(sink.created.length, 2);
  await rec.event(pod, 'Normal', 'B', 'm');
  await rec.event(pod, 'Normal', 'C', 'm');
  assert.equal(rec.size, 2);
  sink.create = async () => {
    throw new Error('api down');
  };
  await rec.event(pod, 'Normal', 'D', 'm');
  assert.equal(errors.length, 1);
});
