/**
 * The client side of Kubernetes' websocket exec protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`;
 * kubectl's since 1.30): each binary message is one channel byte and data — 0 stdin, 1 stdout,
 * 2 stderr, 3 error (a Status as JSON), 4 terminal size (JSON), 255 close (v5). The token rides as
 * the subprotocol `base64url.bearer.authorization.k8s.io.<token>`, as browsers cannot set headers.
 */
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;

export function tokenProtocol(token: string): string {
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(token)));
  return `base64url.bearer.authorization.k8s.io.${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** One frame to send: the channel byte, then the data. */
export function frame(channel: number, data: string | Uint8Array): Uint8Array {
  const body = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

export function resizeFrame(cols: number, rows: number): Uint8Array {
  return frame(RESIZE, JSON.stringify({ Width: cols, Height: rows }));
}

/** A received frame: its channel and data. */
export function parseFrame(buf: ArrayBuffer): { channel: number; data: Uint8Array } {
  const b = new Uint8Array(buf);
  return { channel: b[0], data: b.subarray(1) };
}

/** The exec URL (wss) of a pod's container running `command` with a TTY. */
export function execUrl(origin: string, namespace: string, pod: string, container: string, command: string[]): string {
  const q = new URLSearchParams({ container, stdin: 'true', stdout: 'true', stderr: 'true', tty: 'true' });
  for (const c of command) q.append('command', c);
  return `${origin.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q}`;
}
