import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { startAgentServer } from '../../agent/streams/agent-server.ts';
import { execOverWebSocket } from '../../agent/streams/exec-client.fixture.ts';
import { fakeResolver } from '../../agent/streams/fake-resolver.fixture.ts';
import { LogFileWriter, containerLogPath } from '../../agent/streams/log-file.ts';
import { createCA, issueCertificate } from '../../pki/certificates.ts';
import { agentPathFor, proxyPodStream, type PodStreamTarget } from './pod-stream-proxy.ts';

test('agentPathFor maps the API query to agent paths', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.equal(agentPathFor('log', 'default', 'web', q('container=side&follow=true&tailLines=10&timestamps=true&previous=false&pretty=1'), 'app'),
    '/containerLogs/default/web/side?follow=true&tailLines=10&timestamps=true&previous=false');
  assert.equal(agentPathFor('log', 'default', 'web', q(''), 'app'), '/containerLogs/default/web/app');
  assert.equal(agentPathFor('exec', 'ns', 'web', q('command=sh&command=-c&command=exit+3&stdin=true&stdout=true&tty=true&container=app'), 'x'),
    '/exec/ns/web/app?command=sh&command=-c&command=exit+3&stdin=true&stdout=true&tty=true');
  assert.equal(agentPathFor('attach', 'ns', 'web', q('stdout=1'), 'app'), '/attach/ns/web/app?stdout=1');
  assert.equal(agentPathFor('portforward', 'ns', 'web', q('ports=8080&ports=9090'), 'app'), '/portForward/ns/web?ports=8080&ports=9090');
  assert.equal(agentPathFor('log', 'ns', 'a b', q('sinceSeconds=5&limitBytes=10'), 'c/d'), '/containerLogs/ns/a%20b/c%2Fd?sinceSeconds=5&limitBytes=10');
  assert.throws(() => agentPathFor('status', 'ns', 'web', q(''), 'app'), /not a streaming subresource/);
});

// An agent with the fake resolver serving TLS as every agent does, and a minimal API server in front
// of it (pod GET, discovery, pods/{p}/log over HTTP and pods/{p}/exec over the 'upgrade' event),
// dialling it with its kubelet-client certificate, as server.ts is to wire it.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-proxy-'));
const ca = await createCA('proxy-test');
const serving = await issueCertificate(ca, { commonName: 'system:node:n1', organizations: ['system:nodes'], ipAddresses: ['127.0.0.1'], usage: 'server', validityDays: 1 });
const kubeletClient = await issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client', validityDays: 1 });
const tls = { ca: ca.cert, cert: kubeletClient.cert, key: kubeletClient.key };
const agent = await startAgentServer({ host: '127.0.0.1', port: 0, resolver: fakeResolver(dataDir), tls: { clientCA: ca.cert, cert: serving.cert, key: serving.key, nodeName: 'n1' } });
const POD = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'app', image: 'host' }] }, status: { phase: 'Running' } };
const streamRe = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)$/;

function targetFor(req: http.IncomingMessage): PodStreamTarget | undefined {
  const url = new URL(req.url ?? '/', 'http://api');
  const m = streamRe.exec(url.pathname);
  if (!m) return undefined;
  return { agentUrl: agent.url, path: agentPathFor(m[3], m[1], m[2], url.searchParams, 'app'), tls };
}
const json = (res: http.ServerResponse, body: unknown) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://api');
  const target = targetFor(req);
  if (target) return proxyPodStream(req, res, target);
  if (url.pathname === '/api') return json(res, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
  if (url.pathname === '/apis') return json(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  if (url.pathname === '/api/v1') {
    return json(res, { kind: 'APIResourceList', groupVersion: 'v1', resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
      { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    ] });
  }
  if (url.pathname === '/api/v1/namespaces/default/pods/web') return json(res, POD);
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` }));
});
api.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
  const target = targetFor(req);
  if (target) return proxyPodStream(req, socket, head, target);
  socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
});
await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
after(async () => { api.closeAllConnections(); api.close(); await agent.close(); });

const writer = new LogFileWriter(containerLogPath(dataDir, 'default-web', 'app', 1));
writer.write('stdout', 'one\ntwo\n');

test('proxy streams pods/log with follow, and relays agent errors', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    let text = '';
    const req = http.get(`${apiUrl}/api/v1/namespaces/default/pods/web/log?follow=true&tailLines=1`, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/plain');
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (text === 'two\n') writer.write('stdout', 'three\n');
        if (text.includes('three\n')) { resolve(text); req.destroy(); }
      });
      res.on('error', () => {});
    });
    req.on('error', reject);
  });
  assert.equal(body, 'two\nthree\n');
  const missing = await fetch(`${apiUrl}/api/v1/namespaces/default/pods/nope/log`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { reason: string }).reason, 'NotFound');
});

test('proxy forwards the exec websocket both ways', async () => {
  const r = await execOverWebSocket(`${apiUrl.replace('http', 'ws')}/api/v1/namespaces/default/pods/web/exec?command=cat&stdin=true&stdout=true&stderr=true`, {
    stdin: ['hello\n'],
  });
  assert.equal(r.protocol, 'v5.channel.k8s.io');
  assert.equal(r.stdout, 'hello\n');
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
  const cmd = ['sh', '-c', 'exit 3'].map((c) => `command=${encodeURIComponent(c)}`).join('&');
  const r3 = await execOverWebSocket(`${apiUrl.replace('http', 'ws')}/api/v1/namespaces/default/pods/web/exec?${cmd}&stdout=true`);
  assert.equal((r3.status as { reason: string }).reason, 'NonZeroExitCode');
  // The agent's refusals travel back through the proxy: attaching stdin is not supported.
  await assert.rejects(execOverWebSocket(`${apiUrl.replace('http', 'ws')}/api/v1/namespaces/default/pods/web/attach?stdin=true&stdout=true`), /upgrade refused: 400/);
});

test("without the API server's client certificate the agent refuses, and the refusal is relayed", async () => {
  const s = http.createServer((req, res) => proxyPodStream(req, res, { agentUrl: agent.url, path: '/containerLogs/default/web/app', tls: { ...tls, cert: '', key: '' } }));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`);
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { reason: string }).reason, 'Unauthorized');
  // An agent whose certificate the CA did not sign is not talked to at all.
  const other = await createCA('other');
  const t = http.createServer((req, res2) => proxyPodStream(req, res2, { agentUrl: agent.url, path: '/containerLogs/default/web/app', tls: { ...tls, ca: other.cert } }));
  await new Promise<void>((r) => t.listen(0, '127.0.0.1', r));
  const res3 = await fetch(`http://127.0.0.1:${(t.address() as AddressInfo).port}/`);
  assert.equal(res3.status, 503);
  assert.match(((await res3.json()) as { message: string }).message, /error dialing backend: .*(self.signed|unable to verify|certificate)/i);
  s.close();
  t.close();
});

test('an unreachable agent answers 503', async () => {
  const s = http.createServer((req, res) => proxyPodStream(req, res, { agentUrl: 'http://127.0.0.1:1', path: '/containerLogs/a/b/c' }));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`);
  assert.equal(res.status, 503);
  assert.match(((await res.json()) as { message: string }).message, /error dialing backend/);
  s.close();
});

const kubectl = fs.existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : undefined;
function runKubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectl!, ['--server', apiUrl, '--insecure-skip-tls-verify', '-n', 'default', ...args],
      { timeout: 20_000, env: { ...process.env, KUBECONFIG: '/dev/null' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

test('real kubectl exec and logs through the proxy', { skip: !kubectl && 'no /usr/bin/kubectl' }, async () => {
  const logs = await runKubectl(['logs', 'web', '--tail=2']);
  assert.equal(logs.stderr, '');
  assert.equal(logs.stdout, 'two\nthree\n');
  const cat = await runKubectl(['exec', '-i', 'web', '--', 'cat'], 'hello\n');
  assert.equal(cat.stdout, 'hello\n', cat.stderr);
  assert.equal(cat.code, 0);
  const fail = await runKubectl(['exec', 'web', '--', 'sh', '-c', 'echo bad >&2; exit 3']);
  assert.equal(fail.code, 3, fail.stderr);
  assert.match(fail.stderr, /bad\n.*command terminated with exit code 3/s);
});
