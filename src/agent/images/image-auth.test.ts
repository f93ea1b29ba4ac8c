/**
 * Pulling through what stands in front of a registry, against Debian's docker-registry on loopback:
 * a blob redirect to another origin (a CDN) without forwarding credentials, basic auth with a pull
 * secret, a bearer token from the WWW-Authenticate challenge. Need root and docker-registry, skopeo,
 * umoci, busybox-static (as image-service.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageService } from './image-service.ts';
import { startAppRegistry, startAuthProxy, type TestRegistry } from './test-registry.fixture.ts';

const tools = ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/umoci', '/bin/busybox'];

describe('image pulls through redirects and registry auth', () => {
  let tmp = '';
  let reg: TestRegistry;
  let svcN = 0;
  const newService = (opts = {}) => ImageService.open(join(tmp, `data-${svcN++}`), { youngContentMs: 0, ...opts });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests need root (mknod, trusted xattrs)');
    for (const t of tools) assert.ok(existsSync(t), `${t} missing: apt-get install -y docker-registry skopeo umoci busybox-static`);
    tmp = await mkdtemp(join(tmpdir(), 'berth-image-auth-'));
    ({ reg } = await startAppRegistry(tmp));
  });

  after(async () => {
    await reg?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('blobs redirected to another origin (a CDN): followed, credentials not forwarded', async () => {
    const basic = 'Basic ' + Buffer.from('alice:s3cret').toString('base64');
    const cdnAuth: (string | undefined)[] = [];
    const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const up = http.request(`http://${reg.host}${req.url}`, { method: req.method, headers: { ...req.headers, host: reg.host, authorization: '' } }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      req.pipe(up);
    };
    const cdn = http.createServer((req, res) => {
      cdnAuth.push(req.headers.authorization);
      forward(req, res);
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    const cdnHost = `127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    const front = http.createServer((req, res) => {
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="front"' });
        return void res.end();
      }
      if (req.url?.includes('/blobs/')) {
        res.writeHead(307, { Location: `http://${cdnHost}${req.url}` });
        return void res.end();
      }
      forward(req, res);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const frontHost = `127.0.0.1:${(front.address() as AddressInfo).port}`;
    try {
      const secret = { auths: { [frontHost]: { auth: Buffer.from('alice:s3cret').toString('base64') } } };
      const info = await (await newService()).pull(`${frontHost}/test/app:v1`, { pullSecrets: [secret] });
      assert.equal(readFileSync(join(info.layerDirs[0]!, 'etc/hello.txt'), 'utf8'), 'hello\n');
      assert.equal(cdnAuth.length, 3, 'config + 2 layers fetched from the CDN');
      assert.deepEqual(cdnAuth, [undefined, undefined, undefined]);
    } finally {
      for (const s of [front, cdn]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }
  });

  test('basic auth: works with a pull secret, fails clearly without', async () => {
    const proxy = await startAuthProxy(reg.host, 'basic');
    try {
      const ref = `${proxy.host}/test/app:v1`;
      await assert.rejects((await newService()).pull(ref), /authentication required.*UNAUTHORIZED/);
      const wrong = { auths: { [proxy.host]: { auth: Buffer.from('alice:wrong').toString('base64') } } };
      await assert.rejects((await newService()).pull(ref, { pullSecrets: [wrong] }), /authentication failed.*401/);
      const secret = JSON.stringify({ auths: { [`http://${proxy.host}`]: { username: 'alice', password: 's3cret' } } });
      const info = await (await newService()).pull(ref, { pullSecrets: [secret] });
      assert.equal(info.layerDirs.length, 2);
      // At once on one node: a pull without the secret does not ride on the one with it.
      const svc = await newService();
      const [withSecret, without] = await Promise.allSettled([svc.pull(ref, { pullSecrets: [secret] }), svc.pull(ref)]);
      assert.equal(withSecret.status, 'fulfilled');
      assert.equal(without.status, 'rejected');
      assert.match(String((without as PromiseRejectedResult).reason), /authentication required/);
    } finally {
      await proxy.stop();
    }
  });

  test('bearer token auth from the WWW-Authenticate challenge', async () => {
    const proxy = await startAuthProxy(reg.host, 'bearer');
    try {
      const ref = `${proxy.host}/test/app:v1`;
      await assert.rejects((await newService()).pull(ref), /token endpoint returned 401.*incorrect username/);
      const secret = { auths: { [proxy.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } };
      const info = await (await newService()).pull(ref, { pullSecrets: [secret] });
      assert.equal(info.config.User, '1000:1000');
    } finally {
      await proxy.stop();
    }
  });
});
