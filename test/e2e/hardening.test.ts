/**
 * Issue 12's acceptance against a real `bin/berth server` (controllers on) and real kubectl:
 * `kubectl drain --dry-run=server` evicts nothing, system namespaces and the namespace collection
 * cannot be deleted (kubectl prints Kubernetes' messages), the control plane recovers its Lease
 * after it is deleted by hand, and kubectl reads a non-Latin-1 unknown-field warning.
 * Run: node --import tsx --test test/e2e/hardening.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { waitFor } from '../support/wait.ts';

describe('hardening (kubectl, real server)', () => {
  let berth: BerthServer;
  const k = async (args: string[], input?: string) => berth.kubectl(args, { input });
  const ok = async (args: string[], input?: string) => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => { berth = await startBerth(); });
  after(async () => {
    // Every reproducer above left the process running.
    assert.equal(berth.lastExit(), undefined, berth.logs());
    await berth.cleanup();
  });

  it('kubectl drain --dry-run=server cordons and evicts nothing', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'drain-me' } }));
    for (const name of ['a', 'b']) {
      await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `drained-${name}`, namespace: 'default' }, spec: { nodeName: 'drain-me', containers: [{ name: 'c', image: 'host' }] } }));
    }
    const r = await k(['drain', 'drain-me', '--dry-run=server', '--force', '--ignore-daemonsets', '--timeout=20s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /evicting pod default\/drained-a \(server dry run\)/);
    assert.match(r.stdout + r.stderr, /drained \(server dry run\)/);
    const pods = JSON.parse(await ok(['get', 'pods', '-n', 'default', '-o', 'json'])).items.filter((p: any) => p.spec.nodeName === 'drain-me');
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.metadata.deletionTimestamp, undefined, `${p.metadata.name} was evicted`);
    const node = JSON.parse(await ok(['get', 'node', 'drain-me', '-o', 'json']));
    assert.notEqual(node.spec.unschedulable, true, 'cordoned for real');
    // Without --dry-run the same drain does evict (graceful: the pods stay, deleting).
    const real = await k(['drain', 'drain-me', '--force', '--ignore-daemonsets', '--timeout=3s']);
    assert.match(real.stdout + real.stderr, /evicting pod default\/drained-a/);
    const after = JSON.parse(await ok(['get', 'pods', '-n', 'default', '-o', 'json'])).items.filter((p: any) => p.spec.nodeName === 'drain-me');
    assert.ok(after.every((p: any) => p.metadata.deletionTimestamp), 'a real drain evicts');
  });

  it('kube-system, default and kube-public cannot be deleted; the namespace collection neither', async () => {
    for (const ns of ['kube-system', 'default', 'kube-public']) {
      const r = await k(['delete', 'namespace', ns]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`Error from server \\(Forbidden\\): namespaces "${ns}" is forbidden: this namespace may not be deleted`));
    }
    const all = await k(['delete', '--raw', '/api/v1/namespaces']);
    assert.notEqual(all.code, 0);
    assert.match(all.stderr, /MethodNotAllowed|the server does not allow this method on the requested resource/);
    const names = (await ok(['get', 'namespaces', '-o', 'name'])).split('\n').filter(Boolean);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.ok(names.includes(`namespace/${ns}`), ns);
    const sys = JSON.parse(await ok(['get', 'namespace', 'kube-system', '-o', 'json']));
    assert.equal(sys.status.phase, 'Active');
  });

  it('recovers the controllers\' Lease after it is deleted by hand, within its lease period', async () => {
    const lease = () => k(['get', 'lease', '-n', 'kube-system', 'berth-controller-manager', '-o', 'json']);
    const holder = await waitFor('the controllers lead', async () => {
      const r = await lease();
      return r.code === 0 ? JSON.parse(r.stdout).spec.holderIdentity as string : undefined;
    }, 30_000);
    await ok(['delete', 'lease', '-n', 'kube-system', 'berth-controller-manager']);
    const deletedAt = Date.now();
    const back = await waitFor('the Lease is back', async () => {
      const r = await lease();
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    }, 10_000);
    assert.ok(Date.now() - deletedAt < 10_000, 'within the 10 s lease period');
    assert.equal(back.spec.holderIdentity, holder, 'the same leader');
    // The controllers still work: a Deployment gets its ReplicaSet.
    await ok(['create', 'deployment', 'after-lease', '--image=host', '-n', 'default']);
    await waitFor('a ReplicaSet for the Deployment', async () => {
      const r = await k(['get', 'replicasets', '-n', 'default', '-l', 'app=after-lease', '-o', 'name']);
      return r.code === 0 && r.stdout.trim() ? r.stdout : undefined;
    }, 20_000);
  });

  it('kubectl prints an unknown-field warning whose name is outside Latin-1, and the object is stored', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unicode-warn', namespace: 'default' }, data: { a: 'b' }, '名前': 'x' };
    const r = await k(['create', '--validate=warn', '-f', '-'], JSON.stringify(cm));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: unknown field "名前"/);
    await ok(['get', 'configmap', 'unicode-warn', '-n', 'default']);
  });
});
