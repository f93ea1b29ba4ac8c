import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { FrameParser, RstStatus, type Frame } from './frames.ts';
import { DEFAULT_WINDOW, SpdySession, type SpdySessionOptions } from './session.ts';
import type { SpdyStream } from './stream.ts';

/** A client and a server session over a loopback TCP connection. */
async function pair(clientOpts: Partial<SpdySessionOptions> = {}, serverOpts: Partial<SpdySessionOptions> = {}) {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await once(c, 'connect');
  const [s] = (await accepted) as [net.Socket];
  srv.close();
  const client = new SpdySession(c, { role: 'client', ...clientOpts });
  const server = new SpdySession(s, { role: 'server', ...serverOpts });
  return { client, server, clientSocket: c, serverSocket: s, close: () => { c.destroy(); s.destroy(); } };
}

async function readAll(stream: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a client stream reaches the server with its headers; data and FIN flow both ways', async () => {
  const p = await pair();
  p.server.on('stream', (st) => {
    st.reply({ ok: 'yes' });
    st.pipe(st); // echo, then FIN after the client's FIN
  });
  const st = p.client.openStream({ streamtype: 'data', port: '80', requestid: '1' });
  const [reply] = await once(st, 'reply');
  assert.deepEqual(reply, { ok: 'yes' });
  st.end('ping pong');
  assert.equal((await readAll(st)).toString(), 'ping pong');
  await sleep(20);
  assert.equal(p.client.activeStreams, 0);
  assert.equal(p.server.activeStreams, 0);
  p.close();
});

test('streams are multiplexed: 20 concurrent echoes each get their own bytes back', async () => {
  const p = await pair();
  const seen: string[] = [];
  p.server.on('stream', (st) => { seen.push(String(st.headers.requestid)); st.pipe(st); });
  const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const st = p.client.openStream({ requestid: String(i) });
    const body = randomBytes(10_000 + i);
    st.end(body);
    return sha(await readAll(st)) === sha(body);
  }));
  assert.deepEqual(results, Array(20).fill(true));
  assert.equal(seen.length, 20);
  const ids = new Set(seen);
  assert.equal(ids.size, 20);
  p.close();
});

test('flow control: a sender that honours windows stops at 64 KiB until the reader reads', async () => {
  const p = await pair();
  let serverStream: SpdyStream | undefined;
  p.server.on('stream', (st) => { serverStream = st; st.pause(); });
  const st = p.client.openStream({ requestid: '1' });
  const body = randomBytes(1024 * 1024);
  const written = new Promise<void>((r) => st.end(body, () => r()));
  await sleep(300);
  assert.ok(serverStream);
  assert.equal(serverStream.readableLength, DEFAULT_WINDOW, 'exactly one window was sent while nobody read');
  const got = readAll(serverStream);
  await written;
  assert.equal(sha(await got), sha(body));
  p.close();
});

test('flow control: WINDOW_UPDATEs are sent for the stream and the session as data is read', async () => {
  const p = await pair();
  const updates: Frame[] = [];
  const parser = new FrameParser();
  // Watch what the server writes back by tapping the client socket's incoming bytes.
  p.clientSocket.on('data', (b: Buffer) => { for (const f of parser.push(b)) if (f.type === 'WINDOW_UPDATE') updates.push(f); });
  p.server.on('stream', (st) => st.resume());
  const st = p.client.openStream({ requestid: '1' });
  await new Promise<void>((r) => st.end(randomBytes(512 * 1024), () => r()));
  await sleep(50);
  const streamTotal = updates.filter((u) => u.type === 'WINDOW_UPDATE' && u.streamId === st.id).reduce((n, u) => n + (u as { delta: number }).delta, 0);
  const sessionTotal = updates.filter((u) => u.type === 'WINDOW_UPDATE' && u.streamId === 0).reduce((n, u) => n + (u as { delta: number }).delta, 0);
  assert.ok(streamTotal >= 512 * 1024 - DEFAULT_WINDOW, `stream window reopened by ${streamTotal}`);
  assert.ok(sessionTotal >= 512 * 1024 - DEFAULT_WINDOW, `session window reopened by ${sessionTotal}`);
  p.close();
});

test('a sender that ignores windows (like spdystream) is held back by TCP, and nothing is lost', async () => {
  const p = await pair({ enforceSendWindow: false });
  let serverStream: SpdyStream | undefined;
  p.server.on('stream', (st) => { serverStream = st; st.pause(); });
  const st = p.client.openStream({ requestid: '1' });
  // More than loopback TCP buffers can absorb, so the sender must still be waiting.
  const body = randomBytes(32 * 1024 * 1024);
  let done = false;
  st.end(body, () => { done = true; });
  await sleep(300);
  assert.ok(serverStream);
  assert.ok(serverStream.readableLength > DEFAULT_WINDOW, 'more than a window arrived (the sender ignored it)');
  assert.ok(serverStream.readableLength < 2 * 1024 * 1024, `the server stopped reading its socket (${serverStream.readableLength} buffered)`);
  assert.equal(done, false, 'the sender is blocked on the transport');
  assert.equal(sha(await readAll(serverStream)), sha(body));
  p.close();
});

test('PING round-trips; RST_STREAM reaches the other side; GOAWAY refuses new streams', async () => {
  const p = await pair();
  assert.ok((await p.client.ping()) >= 0);
  assert.ok((await p.server.ping()) >= 0);
  const opened = once(p.server, 'stream') as Promise<[SpdyStream]>;
  const st = p.client.openStream({ requestid: '1' });
  const [srvSt] = await opened;
  const reset = once(srvSt, 'reset');
  st.reset(RstStatus.CANCEL);
  assert.deepEqual(await reset, [RstStatus.CANCEL]);
  const goaway = once(p.server, 'goaway');
  p.client.close();
  await goaway;
  assert.throws(() => p.client.openStream({}), /closing/);
  p.close();
});

test('a peer-opened stream is answered with SYN_REPLY before its first DATA', async () => {
  const p = await pair();
  const frames: Frame[] = [];
  const parser = new FrameParser();
  p.clientSocket.on('data', (b: Buffer) => frames.push(...parser.push(b)));
  p.server.on('stream', (st) => st.end('x'));
  const st = p.client.openStream({ requestid: '1' }, { fin: true });
  assert.equal((await readAll(st)).toString(), 'x');
  const kinds = frames.filter((f) => 'streamId' in f && f.streamId === st.id).map((f) => f.type);
  assert.deepEqual(kinds.slice(0, 2), ['SYN_REPLY', 'DATA']);
  p.close();
});

test('the transport closing resets every open stream', async () => {
  const p = await pair();
  const opened = once(p.server, 'stream') as Promise<[SpdyStream]>;
  const st = p.client.openStream({ requestid: '1' });
  const [srvSt] = await opened;
  const closed = once(srvSt, 'close');
  const clientClosed = once(p.client, 'close');
  p.clientSocket.destroy();
  await closed;
  await clientClosed;
  assert.equal(st.destroyed, true);
  p.close();
});
