import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls, { TLSSocket } from 'node:tls';
import { ApiError } from '../../errors/index.ts';
import { createCA, issueCertificate } from '../../pki/certificates.ts';
import type { UserInfo } from '../attributes.ts';
import { ANONYMOUS_PATHS, bearerToken, isAnonymousPath, requestAuthenticator, type TokenAuthenticator } from './authenticator.ts';

const ca = await createCA('test-ca');
const serving = await issueCertificate(ca, { commonName: 'server', ipAddresses: ['127.0.0.1'], usage: 'server', validityDays: 1 });
const jane = await issueCertificate(ca, { commonName: 'jane', organizations: ['dev', 'ops'], usage: 'client', validityDays: 1 });
const foreign = await issueCertificate(await createCA('other'), { commonName: 'mallory', organizations: ['system:masters'], usage: 'client', validityDays: 1 });

const tokens: TokenAuthenticator = {
  async authenticateToken(t) {
    if (t === 'good') return { name: 'tok', groups: ['g'] };
    if (t === 'expired') throw new ApiError('BERTH_UNAUTHORIZED', 'Unauthorized');
    return undefined;
  },
};

/** Serves the authenticator's answer (user JSON or the Status) for every request. */
async function withServer(fn: (port: number) => Promise<void>): Promise<void> {
  const authenticate = requestAuthenticator({ clientCertificates: true, tokens: [tokens], anonymousPaths: ANONYMOUS_PATHS });
  const server = https.createServer({ cert: serving.cert, key: serving.key, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    authenticate(req, (req.url ?? '/').split('?')[0]).then(
      (u) => res.end(JSON.stringify(u)),
      (e: ApiError) => { res.statusCode = e.http; res.end(JSON.stringify(e.toStatus())); },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function get(port: number, path: string, opts: { cert?: string; key?: string; token?: string } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, ca: ca.cert, cert: opts.cert, key: opts.key, agent: false, headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b) }));
    }).on('error', reject);
  });
}

test('a client certificate signed by the cluster CA names the user and its groups', async () => {
  await withServer(async (port) => {
    const r = await get(port, '/api/v1/pods', { cert: jane.cert, key: jane.key });
    assert.deepEqual(r.body as UserInfo, { name: 'jane', groups: ['dev', 'ops', 'system:authenticated'] });
  });
});

test('a certificate from another CA is refused with 401, whatever groups it claims', async () => {
  await withServer(async (port) => {
    const r = await get(port, '/api/v1/pods', { cert: foreign.cert, key: foreign.key });
    assert.equal(r.status, 401);
    assert.equal(r.body.reason, 'Unauthorized');
  });
});

test('bearer tokens: known → the user; invalid → 401; unknown to every authenticator → 401', async () => {
  await withServer(async (port) => {
    assert.deepEqual((await get(port, '/api', { token: 'good' })).body, { name: 'tok', groups: ['g', 'system:authenticated'] });
    assert.equal((await get(port, '/api', { token: 'expired' })).status, 401);
    assert.equal((await get(port, '/api', { token: 'nobody-knows' })).status, 401);
    assert.equal((await get(port, '/healthz', { token: 'nobody-knows' })).status, 401, 'a bad token is not anonymous');
  });
});

test('without credentials only the health and version paths are anonymous', async () => {
  await withServer(async (port) => {
    for (const p of ANONYMOUS_PATHS) assert.equal((await get(port, p)).body.name, 'system:anonymous', p);
    for (const p of ['/api/v1/pods', '/healthz/etcd', '/version/', '/', '/%zz']) {
      const r = await get(port, p);
      assert.equal(r.status, 401, p);
      assert.equal(r.body.kind, 'Status');
    }
  });
});

test('a websocket upgrade may carry its bearer token as a subprotocol, which is then taken out of the offer', () => {
  const token = 'abc.def-ghi';
  const req = { headers: { upgrade: 'websocket', 'sec-websocket-protocol': `v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}` } } as unknown as import('node:http').IncomingMessage;
  assert.equal(bearerToken(req), token);
  assert.equal(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io');
  const plain = { headers: { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.eA' } } as unknown as import('node:http').IncomingMessage;
  assert.equal(bearerToken(plain), undefined, 'not an upgrade: no token from it');
});

test('the web UI\'s static shell is anonymous, and nothing beside it', () => {
  for (const p of ['/ui', '/ui/', '/ui/app.js', '/healthz']) assert.ok(isAnonymousPath(p), p);
  for (const p of ['/uix', '/u', '/api/ui/', '/apis', '/healthz/etcd']) assert.ok(!isAnonymousPath(p), p);
});

/** Requests on one TLS connection (HTTP/1.1 keep-alive), each answered in turn. */
async function onOneConnection<T>(port: number, opts: tls.ConnectionOptions, fn: (socket: tls.TLSSocket, get: (path: string) => Promise<{ status: number; body: any }>) => Promise<T>): Promise<T> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, ...opts });
  await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject); });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  // Every request of the agent goes over this one socket.
  (agent as unknown as { createConnection: () => tls.TLSSocket }).createConnection = () => socket;
  const get = (path: string) => new Promise<{ status: number; body: any }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b) }));
    }).on('error', reject);
  });
  try {
    return await fn(socket, get);
  } finally {
    agent.destroy();
    socket.destroy();
  }
}

test('a connection\'s certificate is read once; the user holds for its later requests', async (t) => {
  const reads = t.mock.method(TLSSocket.prototype, 'getPeerCertificate');
  await withServer(async (port) => {
    await onOneConnection(port, { cert: jane.cert, key: jane.key }, async (_socket, get) => {
      for (let i = 0; i < 3; i++) assert.deepEqual((await get('/api/v1/pods')).body, { name: 'jane', groups: ['dev', 'ops', 'system:authenticated'] });
    });
    // No certificate is remembered too: the connection stays anonymous-or-token.
    await onOneConnection(port, {}, async (_socket, get) => {
      assert.equal((await get('/api/v1/pods')).status, 401);
      assert.equal((await get('/healthz')).body.name, 'system:anonymous');
    });
  });
  const serverSide = reads.mock.calls.filter((c) => (c.this as TLSSocket & { server?: unknown }).server !== undefined);
  assert.equal(serverSide.length, 2, 'one read per connection');
});

test('a certificate that expires while its connection is open stops working (checked per request)', async (t) => {
  await withServer(async (port) => {
    await onOneConnection(port, { cert: jane.cert, key: jane.key }, async (_socket, get) => {
      assert.equal((await get('/api/v1/pods')).body.name, 'jane');
      const later = Date.now() + 2 * 86_400_000; // past the 1-day certificate
      t.mock.method(Date, 'now', () => later);
      const r = await get('/api/v1/pods');
      assert.equal(r.status, 401);
      assert.equal(r.body.reason, 'Unauthorized');
    });
  });
});

test('once authenticated, a connection cannot renegotiate (to swap its certificate)', async () => {
  await withServer(async (port) => {
    await onOneConnection(port, { cert: jane.cert, key: jane.key, maxVersion: 'TLSv1.2' }, async (socket, get) => {
      assert.equal((await get('/api/v1/pods')).body.name, 'jane');
      socket.on('error', () => {});
      const outcome = await new Promise<string>((resolve) => {
        socket.once('close', () => resolve('closed'));
        socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? 'refused' : 'renegotiated'));
      });
      assert.notEqual(outcome, 'renegotiated');
    });
  });
});
