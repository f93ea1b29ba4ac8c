/** createSandbox: the network set up beside the first container (ready pending), or first when the spec reads the pod IP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { SandboxNetworkError } from './container-spec.ts';
import { createSandbox } from './sandbox.ts';
import type { WorkerDeps } from './worker-deps.ts';

/** A network whose CNI ADD ends when the test says so. */
function fakeNetwork() {
  let finish!: (ip: string | Error) => void;
  const added = new Promise<string | Error>((r) => (finish = r));
  const network = {
    async setup(_pod: unknown, opts: { onNetns?: (p: string) => void } = {}) {
      opts.onNetns?.('/var/run/netns/berth-test');
      const ip = await added;
      if (ip instanceof Error) throw ip;
      return { netnsPath: '/var/run/netns/berth-test', ip };
    },
    async teardown() {},
  };
  return { network, finish };
}

const pod = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: '0b5c5a8e-0000-4000-8000-000000000001' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
}) as unknown as KubeObject;

function deps(dataDir: string, network: WorkerDeps['network']): WorkerDeps {
  return { dataDir, network, hostIP: '192.0.2.10', clusterDNS: ['10.43.0.10'], clusterDomain: 'cluster.local' } as unknown as WorkerDeps;
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
function inTmpDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sandbox-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('the sandbox is returned once the namespace exists; the hosts file is completed in place when the network is up', inTmpDir(async (dir) => {
  const { network, finish } = fakeNetwork();
  const sb = await createSandbox(pod(), deps(dir, network));
  assert.equal(sb.netnsPath, '/var/run/netns/berth-test');
  assert.equal(sb.ip, undefined, 'no IP before the ADD is done');
  assert.ok(sb.ready, 'a pending network');
  const inode = statSync(sb.hostsPath!).ino;
  assert.doesNotMatch(readFileSync(sb.hostsPath!, 'utf8'), /\tweb$/m);
  finish('10.88.0.7');
  await sb.ready;
  assert.equal(sb.ip, '10.88.0.7');
  assert.match(readFileSync(sb.hostsPath!, 'utf8'), /^10\.88\.0\.7\tweb$/m);
  assert.equal(statSync(sb.hostsPath!).ino, inode, 'the same file (a created container has it bind-mounted)');
  assert.match(readFileSync(sb.resolvConfPath!, 'utf8'), /nameserver 10\.43\.0\.10/);
}));

test('a failed ADD after the namespace rejects ready with a SandboxNetworkError', inTmpDir(async (dir) => {
  const { network, finish } = fakeNetwork();
  const sb = await createSandbox(pod(), deps(dir, network));
  finish(new Error('plugin bridge failed'));
  await assert.rejects(sb.ready!, (err: Error) => err instanceof SandboxNetworkError && /plugin bridge failed/.test(err.message));
}));

test('a spec that reads status.podIP waits for the network: the IP is there from the start', inTmpDir(async (dir) => {
  const { network, finish } = fakeNetwork();
  const spec = { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }] };
  let settled = false;
  const creating = createSandbox(pod(spec), deps(dir, network)).then((sb) => { settled = true; return sb; });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(settled, false, 'not before the ADD is done');
  finish('10.88.0.9');
  const sb = await creating;
  assert.equal(sb.ip, '10.88.0.9');
  assert.equal(sb.ready, undefined);
  assert.match(readFileSync(sb.hostsPath!, 'utf8'), /^10\.88\.0\.9\tweb$/m);
}));
