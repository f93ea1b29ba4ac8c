/**
 * A minimal port-forward client (tests, tools), speaking like client-go's `tools/portforward`:
 * connect over the websocket tunnel or a plain SPDY upgrade, then per forwarded connection open
 * an error stream (closed at once from our side) and a data stream with the same request id.
 */
import http from 'node:http';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import WebSocket, { createWebSocketStream } from 'ws';
import { PORT_FORWARD_PROTOCOL } from './portforward.ts';
import { SPDY_UPGRADE, TUNNEL_SUBPROTOCOL, type PortForwardTransport } from './portforward-upgrade.ts';
import { SpdySession } from './spdy/session.ts';
import type { SpdyStream } from './spdy/stream.ts';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One forwarded connection: `data` is the byte stream to the pod's port. */
export interface ForwardedConnection {
  data: SpdyStream;
  /** Everything the server wrote on the error stream ('' when the forward went well). */
  error: Promise<string>;
}

export interface PortForwardClient {
  session: SpdySession;
  forward(port: number): ForwardedConnection;
  close(): void;
}

async function readText(stream: SpdyStream): Promise<string> {
  let s = '';
  try {
    for await (const c of stream) s += (c as Buffer).toString();
  } catch { /* reset: what came so far */ }
  return s;
}

/**
 * The websocket handshake is done here, not by `ws`'s client, which refuses the tunnel's
 * subprotocol (see createTunnelServer); `ws` then frames the upgraded socket as a client.
 */
function openWebSocket(url: string): Promise<SpdySession> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const req = http.request(url, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Protocol': TUNNEL_SUBPROTOCOL },
    });
    req.once('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept || res.headers['sec-websocket-protocol'] !== TUNNEL_SUBPROTOCOL) {
        socket.destroy();
        reject(new Error(`bad websocket 101: ${JSON.stringify(res.headers)}`));
        return;
      }
      const ws = new WebSocket(null as unknown as string, undefined, { autoPong: true });
      (ws as unknown as { _isServer: boolean })._isServer = false; // a client masks its frames
      (ws as unknown as { setSocket(s: unknown, h: Buffer, o: object): void }).setSocket(socket, head, { maxPayload: 0 });
      resolve(new SpdySession(createWebSocketStream(ws), { role: 'client' }));
    });
    req.once('response', async (res) => {
      let body = '';
      for await (const c of res) body += c;
      reject(new Error(`upgrade refused: ${res.statusCode} ${body}`));
    });
    req.once('error', reject);
    req.end();
  });
}

function openSpdy(url: string): Promise<SpdySession> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: SPDY_UPGRADE, 'X-Stream-Protocol-Version': PORT_FORWARD_PROTOCOL },
    });
    req.once('upgrade', (res, socket, head) => {
      const ok = /upgrade/i.test(String(res.headers.connection)) && String(res.headers.upgrade).toLowerCase() === SPDY_UPGRADE.toLowerCase()
        && res.headers['x-stream-protocol-version'] === PORT_FORWARD_PROTOCOL;
      if (!ok) { socket.destroy(); reject(new Error(`bad 101 headers: ${JSON.stringify(res.headers)}`)); return; }
      if (head.length) socket.unshift(head);
      resolve(new SpdySession(socket, { role: 'client' }));
    });
    req.once('response', async (res) => {
      let body = '';
      for await (const c of res) body += c;
      reject(new Error(`upgrade refused: ${res.statusCode} ${body}`));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Opens a port-forward session to `url` (…/portForward/NS/POD or …/pods/POD/portforward). */
export async function connectPortForward(url: string, transport: PortForwardTransport): Promise<PortForwardClient> {
  const session = transport === 'websocket' ? await openWebSocket(url) : await openSpdy(url);
  let nextRequest = 0;
  return {
    session,
    forward(port) {
      const requestid = String(nextRequest++);
      const errorStream = session.openStream({ streamtype: 'error', port: String(port), requestid });
      errorStream.end(); // we never write on it
      const data = session.openStream({ streamtype: 'data', port: String(port), requestid });
      data.on('error', () => {});
      return { data, error: readText(errorStream) };
    },
    close: () => session.destroy(),
  };
}

/** Sends `body` on a forwarded connection, half-closes, and returns everything that came back. */
export async function roundTrip(conn: ForwardedConnection, body: Buffer): Promise<{ reply: Buffer; error: string }> {
  const chunks: Buffer[] = [];
  conn.data.on('data', (c: Buffer) => chunks.push(c));
  const ended = Promise.race([once(conn.data, 'end'), once(conn.data, 'close')]);
  conn.data.end(body);
  await ended;
  return { reply: Buffer.concat(chunks), error: await conn.error };
}
