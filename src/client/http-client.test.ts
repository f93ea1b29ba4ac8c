/** The Client contract over HTTP, plus the HTTP client's own parts (paths, errors, line splitting). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { runClientSuite } from './client.case.ts';
import { HttpClient, resourcePath } from './http-client.ts';
import { errorFromResponse, isConflict, isNotFound } from './errors.ts';
import { JsonLineParser } from './json-lines.ts';
import { R } from './client.ts';

runClientSuite('HttpClient', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-http-client-'));
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
  const client = HttpClient.fromKubeconfig(server.kubeconfigPath);
  return {
    client,
    async stop() { client.close(); await server.stop(); await rm(dataDir, { recursive: true, force: true }); },
  };
});

describe('HttpClient parts', () => {
  it('builds core, group and cluster-scoped paths', () => {
    assert.equal(resourcePath(R.pods, 'ns1', 'p', 'binding'), '/api/v1/namespaces/ns1/pods/p/binding');
    assert.equal(resourcePath(R.leases, 'kube-node-lease'), '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
    assert.equal(resourcePath(R.nodes, undefined, 'n1', 'status'), '/api/v1/nodes/n1/status');
  });

  it('parses a Status into an error the helpers recognise', () => {
    const e = errorFromResponse(404, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'pods "x" not found' }));
    assert.ok(isNotFound(e));
    assert.equal(e.code, 404);
    assert.equal(e.message, 'pods "x" not found');
    const plain = errorFromResponse(409, 'oops');
    assert.ok(isConflict(plain));
    assert.equal(plain.message, 'oops');
  });

  it('splits JSON lines across arbitrary chunk boundaries', () => {
    const out: unknown[] = [];
    const p = new JsonLineParser((v) => out.push(v));
    const text = '{"type":"ADDED","n":1}\n{"type":"MODIFIED","s":"a\\nb"}\n{"type":"DELETED"}';
    for (const ch of text) p.push(ch);
    assert.equal(out.length, 2);
    p.end();
    assert.deepEqual(out, [{ type: 'ADDED', n: 1 }, { type: 'MODIFIED', s: 'a\nb' }, { type: 'DELETED' }]);
  });
});

describe('HttpClient.patchUnread', () => {
  it('patches without decoding the reply, and still fails as patch does', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-http-unread-'));
    const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
    const client = HttpClient.fromKubeconfig(server.kubeconfigPath);
    try {
      await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'u' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
      assert.equal(await client.patchUnread(R.pods, 'default', 'u', 'merge', { status: { phase: 'Running', podIP: '10.1.2.3' } }, 'status'), undefined);
      const pod = await client.get(R.pods, 'default', 'u');
      assert.equal(pod.status.phase, 'Running');
      assert.equal(pod.status.podIP, '10.1.2.3');
      await assert.rejects(client.patchUnread(R.pods, 'default', 'missing', 'merge', { status: {} }, 'status'), (e) => isNotFound(e));
    } finally {
      client.close();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
