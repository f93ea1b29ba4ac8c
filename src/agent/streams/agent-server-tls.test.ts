import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { createCA, issueCertificate, type KeyPairPem } from '../../pki/certificates.ts';
import { startAgentServer } from './agent-server.ts';
import { fakeResolver } from './fake-resolver.fixture.ts';
import { LogFileWriter, containerLogPath } from './log-file.ts';
import type { StreamAttributes, StreamCaller } from './stream-auth.ts';

const ca = await createCA('cluster');
const serving = await issueCertificate(ca, { commonName: 'system:node:n1', organizations: ['system:nodes'], ipAddresses: ['127.0.0.1'], usage: 'server', validityDays: 1 });
const apiserver = await issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client', validityDays: 1 });
const jane = await issueCertificate(ca, { commonName: 'jane', organizations: ['dev'], usage: 'client', validityDays: 1 });
const bob = await issueCertificate(ca, { commonName: 'bob', usage: 'client', validityDays: 1 });
const stranger = await issueCertificate(await createCA('elsewhere'), { commonName: 'admin', organizations: ['system:masters'], usage: 'client', validityDays: 1 });

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-agent-tls-'));
new LogFileWriter(containerLogPath(dataDir, 'default-web', 'app', 1)).write('stdout', 'hello\n');
const asked: [StreamCaller, StreamAttributes][] = [];
const agent = await startAgentServer({
  host: '127.0.0.1', port: 0, resolver: fakeResolver(dataDir),
  tls: { clientCA: ca.cert, nodeName: 'n1', authorize: async (c, a) => { asked.push([c, a]); return c.name === 'jane'; } },
});
after(async () => { await agent.close(); fs.rmSync(dataDir, { recursive: true, force: true }); });

function call(p: string, client?: KeyPairPem, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; peer?: string }> {
  const u = new URL(p, agent.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers, ca: ca.cert, cert: client?.cert, key: client?.key, agent: false }, (res) => {
      let body = '';
      const peer = (res.socket as TLSSocket).getPeerCertificate?.()?.serialNumber;
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peer }));
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, body: '' }); });
    req.on('error', reject);
    req.end();
  });
}

test('until it has a certificate the server completes no handshake; then it serves the one it was given', async () => {
  await assert.rejects(call('/containerLogs/default/web/app', apiserver), /handshake|alert|socket/i);
  agent.setCertificate(serving);
  assert.match(agent.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const r = await call('/containerLogs/default/web/app', apiserver);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello\n');
});

test('no certificate, or one the cluster CA did not sign: 401; the API server (system:masters): in without a review', async () => {
  asked.length = 0;
  for (const who of [undefined, stranger]) {
    const r = await call('/containerLogs/default/web/app', who);
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).reason, 'Unauthorized');
  }
  const up = await call('/exec/default/web/app?command=true&stdout=1', undefined, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v5.channel.k8s.io' } });
  assert.equal(up.status, 401, 'an exec upgrade without a certificate is refused too');
  assert.equal((await call('/containerLogs/default/web/app', apiserver)).status, 200);
  assert.equal(asked.length, 0);
});

test('other callers are authorized for nodes/proxy of this node (a SubjectAccessReview in the agent)', async () => {
  asked.length = 0;
  assert.equal((await call('/containerLogs/default/web/app', jane)).status, 200);
  const r = await call('/containerLogs/default/web/app', bob, { method: 'POST' });
  assert.equal(r.status, 403);
  assert.equal(JSON.parse(r.body).message, 'Forbidden (user=bob, verb=create, resource=nodes, subresource=proxy)');
  assert.deepEqual(asked.map(([c, a]) => [c.name, c.groups, a.verb, a.resource, a.subresource, a.name]), [
    ['jane', ['dev'], 'get', 'nodes', 'proxy', 'n1'],
    ['bob', [], 'create', 'nodes', 'proxy', 'n1'],
  ]);
});

test('a rotated certificate is served to new connections', async () => {
  const next = await issueCertificate(ca, { commonName: 'system:node:n1', organizations: ['system:nodes'], ipAddresses: ['127.0.0.1'], usage: 'server', validityDays: 2 });
  const before = (await call('/containerLogs/default/web/app', apiserver)).peer;
  agent.setCertificate(next);
  const afterRotation = (await call('/containerLogs/default/web/app', apiserver)).peer;
  assert.notEqual(afterRotation, before);
});
