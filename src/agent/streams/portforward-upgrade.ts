/**
 * The two ways kubectl opens a port-forward session, both ending in a SPDY/3.1 session served by
 * `servePortForward`:
 *
 * - websocket tunnel (kubectl ≥ 1.31 first): `Upgrade: websocket`, subprotocol
 *   `SPDY/3.1+portforward.k8s.io`; every binary message carries raw SPDY bytes (no HTTP 101 of
 *   the inner upgrade travels in the tunnel). The API server proxies the websocket as it is.
 * - plain SPDY (kubectl's fallback, `KUBECTL_PORT_FORWARD_WEBSOCKETS=false`): `Connection: Upgrade`,
 *   `Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`; we answer 101 with the
 *   same three headers and the socket carries SPDY.
 *
 * Go's spdystream on the other end neither sends nor honours WINDOW_UPDATE, so the session sends
 * without waiting for windows (TCP backpressure still applies), as the kubelet does.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { ApiError } from '../../errors/index.ts';
import { PORT_FORWARD_PROTOCOL, servePortForward, type PortForwardContext } from './portforward.ts';
import { SpdySession } from './spdy/session.ts';

export const SPDY_UPGRADE = 'SPDY/3.1';
/** The websocket subprotocol of the tunnel: `SPDY/3.1+` + the SPDY-level protocol. */
export const TUNNEL_SUBPROTOCOL = `${SPDY_UPGRADE}+${PORT_FORWARD_PROTOCOL}`;

export type PortForwardTransport = 'websocket' | 'spdy';

/**
 * The tunnel's WebSocketServer. `ws` refuses `SPDY/3.1+portforward.k8s.io` as a subprotocol ('/'
 * is not an RFC 7230 token character, though Go's websocket libraries accept it), so the request's
 * header is checked by `portForwardTransport`, removed before `handleUpgrade`, and the chosen
 * protocol is added to the 101 here.
 */
export function createTunnelServer(): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('headers', (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_SUBPROTOCOL}`));
  return wss;
}

function listHeader(v: string | string[] | undefined): string[] {
  return (Array.isArray(v) ? v.join(',') : v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Which transport an upgrade request asks for; throws a 400 ApiError for anything else. */
export function portForwardTransport(req: IncomingMessage): PortForwardTransport {
  const upgrade = listHeader(req.headers.upgrade).map((s) => s.toLowerCase());
  if (upgrade.includes('websocket')) {
    if (!listHeader(req.headers['sec-websocket-protocol']).includes(TUNNEL_SUBPROTOCOL)) {
      throw new ApiError('BERTH_BAD_REQUEST', `unable to upgrade: websocket subprotocol ${TUNNEL_SUBPROTOCOL} required`);
    }
    return 'websocket';
  }
  if (upgrade.includes(SPDY_UPGRADE.toLowerCase())) {
    const versions = listHeader(req.headers['x-stream-protocol-version']);
    // No version at all is the legacy client; otherwise ours must be among them.
    if (versions.length && !versions.includes(PORT_FORWARD_PROTOCOL)) {
      throw new ApiError('BERTH_BAD_REQUEST', `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(versions)}, server supports ["${PORT_FORWARD_PROTOCOL}"]`);
    }
    return 'spdy';
  }
  throw new ApiError('BERTH_BAD_REQUEST', 'unable to upgrade: missing upgrade headers in request');
}

function serve(transport: Duplex, ctx: PortForwardContext): SpdySession {
  const session = new SpdySession(transport, { role: 'server', enforceSendWindow: false });
  servePortForward(session, ctx);
  return session;
}

/** Completes the upgrade on `transport` and serves port forwarding on it. */
export function acceptPortForward(kind: PortForwardTransport, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, ctx: PortForwardContext): void {
  (socket as Socket).setNoDelay?.(true);
  (socket as Socket).setTimeout?.(0);
  if (kind === 'websocket') {
    delete req.headers['sec-websocket-protocol'];
    wss.handleUpgrade(req, socket, head, (ws) => {
      const duplex = createWebSocketStream(ws);
      duplex.on('error', () => duplex.destroy());
      serve(duplex, ctx);
    });
    return;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_UPGRADE}\r\n`
    + `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
  if (head.length) socket.unshift(head);
  serve(socket, ctx);
}
