import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CSR_RESOURCE } from '../../apis/certificates.ts';
import { parseJoinToken, type JoinToken } from '../../auth/bootstrap/join-token.ts';
import { R } from '../../client/client.ts';
import { HttpClient } from '../../client/http-client.ts';
import { loadKubeconfig } from '../../client/kubeconfig-load.ts';
import { certificateInfo, issuedBy } from '../../pki/certificate-info.ts';
import { startServer, type RunningServer } from '../../server/berth-server.ts';
import { createLogger } from '../../util/log.ts';
import { clientCertificateRotation, discoverClusterCA, joinCluster, nodeCredentialPaths } from './node-bootstrap.ts';

let dataDir: string;
let agentDir: string;
let server: RunningServer;
let token: JoinToken;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'berth-join-server-'));
  agentDir = await mkdtemp(join(tmpdir(), 'berth-join-agent-'));
  // Controllers on: the CSR approver and signer run in the Lease holder.
  server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'error' }), controllers: true });
  token = parseJoinToken(await readFile(join(dataDir, 'join-token'), 'utf8'));
});
after(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(agentDir, { recursive: true, force: true });
});

test('discovery accepts the CA the join token pins and names the server\'s when it does not match', async () => {
  assert.equal(await discoverClusterCA(server.url, token.caPin), server.pki.ca.cert);
  await assert.rejects(discoverClusterCA(server.url, `sha256:${'1'.repeat(64)}`),
    new RegExp(`the server's CA \\(${server.pki.caPin}\\) does not match the join token's \\(sha256:1{64}\\)`));
});

test('a wrong secret is refused with a clear error; nothing is written', async () => {
  const wrong: JoinToken = { ...token, token: { ...token.token, secret: 'x'.repeat(16) } };
  await assert.rejects(joinCluster({ server: server.url, token: wrong, nodeName: 'n1', dir: agentDir }), /the server refused the join token [a-z0-9]{6}\.\*\*\*\*: a wrong secret, or an expired or deleted token/);
  await assert.rejects(stat(nodeCredentialPaths(agentDir).kubeconfig));
});

test('joining: a node certificate by CSR, files 0600, and a second join reuses them', async () => {
  const kubeconfig = await joinCluster({ server: server.url, token, nodeName: 'n1', dir: agentDir });
  const p = nodeCredentialPaths(agentDir);
  assert.equal(kubeconfig, p.kubeconfig);
  for (const f of [p.kubeconfig, p.key]) assert.equal((await stat(f)).mode & 0o777, 0o600, f);
  const cert = await readFile(p.cert, 'utf8');
  assert.equal(issuedBy(cert, server.pki.ca.cert), true);
  assert.equal(certificateInfo(cert).commonName, 'system:node:n1');
  const client = HttpClient.fromKubeconfig(kubeconfig);
  try {
    // It is the node now: its own Node may be created, another's not.
    await client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await assert.rejects(client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } }), /not allowed to modify node "n2"/);
  } finally {
    client.close();
  }
  const csrsBefore = (await HttpClient.fromKubeconfig(server.kubeconfigPath).list(CSR_RESOURCE, undefined)).items.length;
  assert.equal(await joinCluster({ server: server.url, token, nodeName: 'n1', dir: agentDir }), kubeconfig);
  assert.equal((await HttpClient.fromKubeconfig(server.kubeconfigPath).list(CSR_RESOURCE, undefined)).items.length, csrsBefore, 'no second CSR');
});

test('the node renews its own client certificate (a CSR as itself) and the client switches to it', async () => {
  const p = nodeCredentialPaths(agentDir);
  const client = HttpClient.fromKubeconfig(p.kubeconfig);
  try {
    const rotation = clientCertificateRotation(client, p.kubeconfig, 'n1');
    assert.ok(rotation, 'a joined node\'s kubeconfig is rotated');
    const first = await rotation.start();
    await rotation.rotate(true);
    const next = await readFile(p.cert, 'utf8');
    assert.notEqual(next, first.cert);
    assert.equal(client.conn.cert?.toString(), next);
    assert.equal(certificateInfo(next).commonName, 'system:node:n1');
    // The renewal was a selfnodeclient approval of a CSR the node sent as itself.
    const csrs = (await HttpClient.fromKubeconfig(server.kubeconfigPath).list(CSR_RESOURCE, undefined)).items;
    const renewal = csrs.find((c) => c.spec.username === 'system:node:n1');
    assert.match(renewal!.status.conditions[0].message, /self kubelet client certificate/);
    // New requests use the new certificate.
    assert.equal((await client.get(R.nodes, undefined, 'n1')).metadata.name, 'n1');
    rotation.stop();
    // An admin's kubeconfig has nothing to rotate.
    assert.equal(clientCertificateRotation(HttpClient.fromKubeconfig(server.kubeconfigPath), server.kubeconfigPath, 'n1'), undefined);
  } finally {
    client.close();
  }
});

test('joining by an address the server\'s certificate does not name says so', async () => {
  // The same listener by an IPv4-mapped IPv6 address, which the certificate does not list.
  const other = server.url.replace('https://127.0.0.1', 'https://[::ffff:127.0.0.1]');
  await assert.rejects(joinCluster({ server: other, token, nodeName: 'n9', dir: join(agentDir, 'n9') }),
    /the server's certificate does not name ::ffff:7f00:1: join by an address it names, or start the server with --tls-san ::ffff:7f00:1/);
});

test('several servers: the first down, the join goes through the next; the kubeconfig names the first and lists all', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const down = `https://127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
  const dir = join(agentDir, 'multi');
  const kubeconfig = await joinCluster({ server: down, servers: [down, server.url], token, nodeName: 'n7', dir });
  const conn = loadKubeconfig(kubeconfig);
  assert.equal(conn.server, down);
  assert.deepEqual(conn.servers, [down, server.url]);
  // The node's client fails over to the live server.
  const client = HttpClient.fromKubeconfig(kubeconfig);
  try {
    await client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n7' } });
    assert.equal(client.server, server.url);
  } finally {
    client.close();
  }
  // No server reachable: a clear error naming each.
  await assert.rejects(joinCluster({ server: down, servers: [down, `${down.replace(/:\d+$/, '')}:1`], token, nodeName: 'n8', dir: join(agentDir, 'n8'), discoveryTimeoutMs: 1500 }),
    /no server could be reached: cannot reach https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*; cannot reach https:\/\/127\.0\.0\.1:1: /);
});
