import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseJoinToken } from '../../../auth/bootstrap/join-token.ts';
import { R } from '../../../client/client.ts';
import { LocalClient } from '../../../client/local-client.ts';
import { ApiError } from '../../../errors/index.ts';
import { createLogger } from '../../../util/log.ts';
import { startServer, type RunningServer } from '../../berth-server.ts';

let dataDir: string;
let server: RunningServer;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'berth-node-part-'));
  server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'error' }) });
});
after(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** GET with a bearer token over HTTPS, trusting the cluster CA. */
function getWithToken(path: string, token: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, server.url);
    https.get({ host: u.hostname, port: u.port, path: u.pathname, ca: server.pki.ca.cert, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b ? JSON.parse(b) : undefined }));
    }).on('error', reject);
  });
}

test('the server writes DATA/join-token (0600) pinning its CA, backed by a bootstrap token Secret', async () => {
  const path = join(dataDir, 'join-token');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const jt = parseJoinToken(await readFile(path, 'utf8'));
  assert.equal(jt.caPin, server.pki.caPin);
  const secret = await new LocalClient(server.registry).get(R.secrets, 'kube-system', `bootstrap-token-${jt.token.id}`);
  assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
  // The token authenticates as its bootstrap user; it may send CSRs, not read pods.
  const token = `${jt.token.id}.${jt.token.secret}`;
  const csrs = await getWithToken('/apis/certificates.k8s.io/v1/certificatesigningrequests', token);
  assert.equal(csrs.status, 200, JSON.stringify(csrs.body));
  const pods = await getWithToken('/api/v1/pods', token);
  assert.equal(pods.status, 403);
  assert.match(pods.body.message, new RegExp(`User "system:bootstrap:${jt.token.id}" cannot list resource "pods"`));
  const wrong = await getWithToken('/api/v1/pods', `${jt.token.id}.${'0'.repeat(16)}`);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.reason, 'Unauthorized');
});

test('the join token survives a restart of the server on the same data dir', async () => {
  const before = await readFile(join(dataDir, 'join-token'), 'utf8');
  const again = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'error' }) });
  try {
    assert.equal(await readFile(join(dataDir, 'join-token'), 'utf8'), before);
  } finally {
    await again.stop();
  }
});

test("a node reads its own pods' secrets only, and NodeRestriction keeps it to its own Node", async () => {
  const admin = new LocalClient(server.registry);
  const node = admin.as({ user: { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] }, authorizer: server.authorizer });
  for (const n of ['s1', 's2']) await admin.create(R.secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: n }, stringData: { k: n } });
  const pod = (name: string, nodeName: string, secret: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName, containers: [{ name: 'c', image: 'host', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] }] },
  });
  await admin.create(R.pods, 'default', pod('mine', 'n1', 's1'));
  await admin.create(R.pods, 'default', pod('theirs', 'n2', 's2'));
  // The graph follows the informer: give it a moment.
  const deadline = Date.now() + 5000;
  for (;;) {
    try { await node.get(R.secrets, 'default', 's1'); break; } catch (err) { if (Date.now() > deadline) throw err; await new Promise((r) => setTimeout(r, 50)); }
  }
  await assert.rejects(node.get(R.secrets, 'default', 's2'), (err: unknown) => err instanceof ApiError && err.http === 403
    && /secrets "s2" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default"/.test(err.message));
  await node.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  await assert.rejects(node.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n9' } }), /node "n1" is not allowed to modify node "n9"/);
  await assert.rejects(node.delete(R.pods, 'default', 'theirs'), /can only delete pods with spec.nodeName set to itself/);
  const { items } = await node.list(R.pods, undefined, { fieldSelector: 'spec.nodeName=n1' });
  assert.deepEqual(items.map((p) => p.metadata.name), ['mine']);
  await assert.rejects(node.list(R.pods, undefined, {}), /cannot list resource "pods"/);
});
