/**
 * pooled-http against real sockets: a node:http server for well-formed responses, a raw TCP server
 * for framings node:http would not produce on demand (split heads, bodies to close, cut bodies).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pooledGet, recyclerOf, type PooledResponse } from './pooled-http.ts';

const BODY = randomBytes(5 << 20);

/** Reads a response to its end, copying each chunk and then (when `recycle`) handing it back. */
async function drain(res: PooledResponse, opts: { recycle?: boolean; slow?: boolean } = {}): Promise<{ body: Buffer; buffers: number }> {
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const recycle = recyclerOf(res)!;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    parts.push(Buffer.from(chunk));
    buffers.add(chunk.buffer);
    if (opts.slow) await sleep(2);
    if (opts.recycle) recycle(chunk);
  }
  return { body: Buffer.concat(parts), buffers: buffers.size };
}

/** A TCP server that answers every connection with `script` (strings/buffers written in turn, numbers = pauses in ms), then closes. */
async function rawServer(script: (string | Buffer | number)[]): Promise<{ url: URL; close: () => Promise<void> }> {
  const server = net.createServer(async (sock) => {
    sock.on('error', () => undefined);
    sock.once('data', async () => {
      for (const step of script) {
        if (typeof step === 'number') await sleep(step);
        else sock.write(step);
      }
      sock.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { url: new URL(`http://127.0.0.1:${port}/blob`), close: () => new Promise((r) => server.close(() => r())) };
}

describe('pooledGet', () => {
  let server: http.Server;
  let base: string;
  let seenHeaders: http.IncomingHttpHeaders = {};
  let seenUrl = '';

  before(async () => {
    server = http.createServer((req, res) => {
      seenHeaders = req.headers;
      seenUrl = req.url ?? '';
      const path = new URL(seenUrl, 'http://x').pathname;
      if (path === '/length') {
        res.writeHead(200, { 'Content-Length': BODY.length });
        res.end(BODY);
      } else if (path === '/chunked') {
        res.writeHead(200); // no Content-Length: node:http frames it as chunked
        let i = 0;
        const next = () => {
          if (i >= BODY.length) return res.end();
          const n = 1 + ((i * 7919) % 300_000);
          res.write(BODY.subarray(i, i + n), next);
          i += n;
        };
        next();
      } else if (path === '/denied') {
        res.setHeader('WWW-Authenticate', 'Basic realm="x"');
        res.setHeader('X-Twice', ['a', 'b']);
        res.writeHead(401, 'Unauthorized', { 'Content-Type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}');
      } else if (path === '/empty') {
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('a Content-Length body arrives whole, in views of at most 1 MB; recycled buffers are read into again', async () => {
    const res = await pooledGet(new URL(`${base}/length?x=1`), { Authorization: 'Bearer t' }, 5000);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(BODY.length));
    assert.equal(seenUrl, '/length?x=1');
    assert.equal(seenHeaders.authorization, 'Bearer t');
    assert.equal(seenHeaders.connection, 'close');
    const { body, buffers } = await drain(res, { recycle: true });
    assert.ok(body.equals(BODY), 'the body is intact although its buffers were reused');
    assert.ok(buffers < 5, `5 MB through ${buffers} read buffers`);
  });

  test('without recycling nothing is overwritten: every chunk keeps its bytes', async () => {
    const res = await pooledGet(new URL(`${base}/length`), {}, 5000);
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(BODY));
  });

  test('a slow consumer pauses the socket and loses nothing', async () => {
    const res = await pooledGet(new URL(`${base}/length`), {}, 5000);
    assert.ok((await drain(res, { slow: true, recycle: true })).body.equals(BODY));
  });

  test('a chunked body is decoded', async () => {
    const res = await pooledGet(new URL(`${base}/chunked`), {}, 5000);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.ok((await drain(res, { recycle: true })).body.equals(BODY));
  });

  test('an error status keeps its message, headers (repeated ones joined) and body', async () => {
    const res = await pooledGet(new URL(`${base}/denied`), {}, 5000);
    assert.equal(res.statusCode, 401);
    assert.equal(res.statusMessage, 'Unauthorized');
    assert.equal(res.headers['www-authenticate'], 'Basic realm="x"');
    assert.equal(res.headers['x-twice'], 'a, b');
    assert.match((await drain(res)).body.toString(), /UNAUTHORIZED/);
  });

  test('an empty body ends at once', async () => {
    const res = await pooledGet(new URL(`${base}/empty`), {}, 5000);
    assert.equal((await drain(res)).body.length, 0);
  });

  test('a head split over several reads, and chunk-size lines, extensions and trailers split too', async () => {
    const s = await rawServer([
      'HTTP/1.1 200 OK\r\nTransfer-Enc', 30, 'oding: chunked\r\n', 30, '\r\n5;ext=1\r', 30, '\nhel', 30, 'lo\r\n', 30,
      '6\r\n world\r\n0\r\nX-Trailer: y\r', 30, '\n\r\n',
    ]);
    try {
      const res = await pooledGet(s.url, {}, 5000);
      assert.equal((await drain(res)).body.toString(), 'hello world');
    } finally {
      await s.close();
    }
  });

  test('a body with neither length nor chunks ends when the connection closes', async () => {
    const s = await rawServer(['HTTP/1.0 200 OK\r\nContent-Type: x\r\n\r\nfirst ', 30, 'second']);
    try {
      assert.equal((await drain(await pooledGet(s.url, {}, 5000))).body.toString(), 'first second');
    } finally {
      await s.close();
    }
  });

  test('a body cut short fails the stream; bad heads, refused connections and silence reject', async () => {
    const cut = await rawServer(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b']);
    const bad = await rawServer(['SPDY/3 nonsense\r\n\r\n']);
    const badLength = await rawServer(['HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n']);
    const held: net.Socket[] = [];
    const silent = net.createServer((sock) => held.push(sock)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      await assert.rejects(drain(await pooledGet(cut.url, {}, 5000)), /connection closed before the end of the response body/);
      await assert.rejects(pooledGet(bad.url, {}, 5000), /malformed status line "SPDY\/3 nonsense"/);
      await assert.rejects(pooledGet(badLength.url, {}, 5000), /malformed Content-Length "12x"/);
      const closed = await rawServer([]);
      await closed.close();
      await assert.rejects(pooledGet(closed.url, {}, 5000), /ECONNREFUSED/);
      const port = (silent.address() as net.AddressInfo).port;
      await assert.rejects(pooledGet(new URL(`http://127.0.0.1:${port}/`), {}, 200), /no response within 200 ms/);
      await assert.rejects(pooledGet(new URL('https://127.0.0.1/'), {}, 200), /https: is not supported/);
    } finally {
      for (const sock of held) sock.destroy();
      await Promise.all([cut.close(), bad.close(), badLength.close(), new Promise<void>((r) => silent.close(() => r()))]);
    }
  });
});
