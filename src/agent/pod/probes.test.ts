import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runProbe, resolvePort, type ProbeTarget } from './probes.ts';

let server: http.Server;
let port = 0;
let seenHeaders: http.IncomingHttpHeaders = {};

const target: ProbeTarget = {
  podIP: '127.0.0.1',
  ports: [{ name: 'web', containerPort: 0 }],
  exec: (argv, timeoutMs) =>
    new Promise((resolve) => {
      execFile(argv[0], argv.slice(1), { timeout: timeoutMs }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 124) : 0;
        resolve({ exitCode: code, output: stdout + stderr });
      });
    }),
};

before(async () => {
  server = http.createServer((req, res) => {
    seenHeaders = req.headers;
    const routes: Record<string, () => void> = {
      '/ok': () => res.end('fine'),
      '/bad': () => ((res.statusCode = 500), res.end('nope')),
      '/redir': () => (res.writeHead(302, { location: '/ok' }), res.end()),
      '/loop': () => (res.writeHead(302, { location: '/loop' }), res.end()),
      '/away': () => (res.writeHead(302, { location: `http://localhost:${port}/bad` }), res.end()),
      '/slow': () => void setTimeout(() => res.end('late'), 500),
    };
    (routes[req.url ?? ''] ?? (() => ((res.statusCode = 404), res.end())))();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  target.ports![0].containerPort = port;
});
after(() => server.close());

test('httpGet: 2xx/3xx succeed, others fail with the kubelet message; named ports and headers', async () => {
  assert.deepEqual(await runProbe({ httpGet: { path: '/ok', port } }, target), { result: 'success', message: 'fine' });
  assert.deepEqual(await runProbe({ httpGet: { path: '/bad', port: 'web' } }, target), { result: 'failure', message: 'HTTP probe failed with statuscode: 500' });
  assert.equal((await runProbe({ httpGet: { path: '/redir', port } }, target)).message, 'fine');
  assert.equal((await runProbe({ httpGet: { path: '/loop', port } }, target)).result, 'success');
  // Another host (localhost ≠ 127.0.0.1): not followed, counted as success.
  assert.match((await runProbe({ httpGet: { path: '/away', port } }, target)).message, /^Probe terminated redirects/);
  await runProbe({ httpGet: { path: 'ok', port: String(port), httpHeaders: [{ name: 'X-Probe', value: '1' }, { name: 'user-agent', value: 'mine' }] } }, target);
  assert.equal(seenHeaders['x-probe'], '1');
  assert.equal(seenHeaders['user-agent'], 'mine');
  assert.equal(seenHeaders.accept, '*/*');
  const missing = await runProbe({ httpGet: { path: '/ok', port: 'nope' } }, target);
  assert.deepEqual(missing, { result: 'failure', message: "couldn't find port: nope in container ports" });
});

test('httpGet honours timeoutSeconds', async () => {
  const t0 = Date.now();
  const r = await runProbe({ httpGet: { path: '/slow', port }, timeoutSeconds: 0.1 }, target);
  assert.equal(r.result, 'failure');
  assert.match(r.message, /context deadline exceeded/);
  assert.ok(Date.now() - t0 < 450);
  assert.equal((await runProbe({ httpGet: { path: '/slow', port }, timeoutSeconds: 2 } , target)).result, 'success');
});

test('httpGet HTTPS accepts a self-signed certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=x', '-days', '1', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
  } catch {
    t.skip('openssl unavailable');
    return;
  }
  const s = https.createServer({ key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')) }, (_q, r) => r.end('tls'));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const p = (s.address() as AddressInfo).port;
    assert.deepEqual(await runProbe({ httpGet: { scheme: 'HTTPS', port: p, path: '/' } }, target), { result: 'success', message: 'tls' });
  } finally {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tcpSocket: open port succeeds, closed port fails', async () => {
  const l = net.createServer((c) => c.end());
  await new Promise<void>((r) => l.listen(0, '127.0.0.1', r));
  const open = (l.address() as AddressInfo).port;
  assert.equal((await runProbe({ tcpSocket: { port: open } }, target)).result, 'success');
  await new Promise<void>((r) => l.close(() => r()));
  const closed = await runProbe({ tcpSocket: { port: open } }, target);
  assert.equal(closed.result, 'failure');
  assert.match(closed.message, new RegExp(`^dial tcp 127.0.0.1:${open}: .*ECONNREFUSED`));
});

test('exec: exit 0 succeeds, non-zero fails with output, slow commands time out; grpc unsupported', async () => {
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'echo up'] } }, target), { result: 'success', message: 'up\n' });
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'echo down >&2; exit 3'] } }, target), { result: 'failure', message: 'down\n' });
  const t0 = Date.now();
  assert.equal((await runProbe({ exec: { command: ['sleep', '5'] }, timeoutSeconds: 0.2 }, target)).result, 'failure');
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(await runProbe({ grpc: { port: 1 } }, target), { result: 'failure', message: 'gRPC probes are not supported' });
  assert.equal(resolvePort('8080', {}), 8080);
});
