/**
 * Test fixtures: a real Debian `docker-registry` on loopback, and a small HTTP front for it that
 * demands basic or bearer auth and counts requests. For tests only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildImage, push } from './test-image.fixture.ts';

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** Storage root (`docker/registry/v2/…` below it). */
  storage: string;
  /** The docker-registry process (for a last-resort kill on exit). */
  pid: number;
  stop(): Promise<void>;
}

/** Finds a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = netServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

/** Starts /usr/bin/docker-registry with filesystem storage under `dir`; resolves once /v2/ answers. */
export async function startRegistry(dir: string): Promise<TestRegistry> {
  const port = await freePort();
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const cfg = join(dir, 'config.yml');
  await writeFile(
    cfg,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const proc: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${err}`);
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (i > 100) throw new Error(`docker-registry did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    storage,
    pid: proc.pid!,
    stop: () =>
      new Promise<void>((res) => {
        if (proc.exitCode !== null) return res();
        proc.on('exit', () => res());
        proc.kill('SIGTERM');
      }),
  };
}

/** A front for a registry. */
export interface TestProxy {
  host: string;
  /** Request paths seen (after auth succeeded). */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Proxies to `upstream`; `mode` 'basic' demands Basic `user:pass`; 'bearer' sends a Bearer
 * challenge whose realm (`/token` here) issues a token only for Basic `user:pass`.
 */
export async function startAuthProxy(upstream: string, mode: 'none' | 'basic' | 'bearer', user = 'alice', pass = 's3cret'): Promise<TestProxy> {
  const requests: string[] = [];
  const basic = 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  const token = 'tok-' + Math.random().toString(36).slice(2);
  let host = '';
  const deny = (res: http.ServerResponse, challenge: string) => {
    res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }));
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (mode === 'bearer' && url.startsWith('/token')) {
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token }));
      return;
    }
    if (mode === 'basic' && req.headers.authorization !== basic) return deny(res, 'Basic realm="test-registry"');
    if (mode === 'bearer' && req.headers.authorization !== `Bearer ${token}`) {
      const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(url)?.[1] ?? '';
      return deny(res, `Bearer realm="http://${host}/token",service="test-registry",scope="repository:${repo}:pull"`);
    }
    requests.push(url);
    const headers = { ...req.headers, host: upstream };
    delete headers.authorization;
    const up = http.request(`http://${upstream}${url}`, { method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * The image tests' registry (image-service.test.ts, image-auth.test.ts): `test/app:v1` — a file
 * layer over busybox, then a raw layer with whiteouts and an opaque dir, a config with entrypoint,
 * env, workdir and user — and `test/corrupt:corrupt`, built under `tmp` and pushed to a fresh
 * loopback registry.
 */
export async function startAppRegistry(tmp: string): Promise<{ layout: string; reg: TestRegistry }> {
  const layout = join(tmp, 'layout');
  await buildImage(
    layout,
    'v1',
    { 'etc/hello.txt': 'hello\n', 'etc/gone.txt': 'bye\n', 'opt/data/a.txt': 'a', 'opt/data/b.txt': 'b' },
    {
      busybox: true,
      rawLayer: { 'etc/.wh.gone.txt': '', 'etc/new.txt': 'new\n', 'opt/data/.wh..wh..opq': '', 'opt/data/c.txt': 'c' },
      config: ['--config.entrypoint', '/bin/sh', '--config.cmd', '-c', '--config.cmd', 'echo hi', '--config.env', 'FOO=bar', '--config.workingdir', '/opt', '--config.user', '1000:1000'],
    },
  );
  await buildImage(layout, 'corrupt', { 'data.bin': 'unique content for the corrupt image test '.repeat(100) });
  const reg = await startRegistry(join(tmp, 'registry'));
  await push(layout, 'v1', reg.host, 'test/app');
  await push(layout, 'corrupt', reg.host, 'test/corrupt');
  return { layout, reg };
}
