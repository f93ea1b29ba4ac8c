/**
 * A minimal client of the websocket remotecommand protocol (see remotecommand.ts), as kubectl
 * speaks it: for tests and tools that exec without kubectl. Sends stdin then `[255, 0]` (v5 stdin
 * EOF), collects stdout/stderr and the final Status from channel 3.
 */
import WebSocket from 'ws';
import { CH_CLOSE, CH_ERROR, CH_RESIZE, CH_STDERR, CH_STDIN, CH_STDOUT } from './remotecommand.ts';

/** What to send. */
export interface ExecClientOptions {
  /** Offered subprotocols (default `v5.channel.k8s.io`). */
  protocols?: string[];
  /** Written to channel 0, in order. */
  stdin?: (string | Buffer)[];
  /** Send `[255, 0]` after stdin (default true when `stdin` is given; v5 only). */
  closeStdin?: boolean;
  /** Sent on channel 4 first. */
  resize?: { width: number; height: number };
  headers?: Record<string, string>;
}

/** What came back. */
export interface ExecClientResult {
  protocol: string;
  stdout: string;
  stderr: string;
  /** The Status JSON from channel 3 (undefined if the server closed without one). */
  status?: Record<string, unknown>;
}

/** Runs one exec over a websocket URL (`ws://host/…/exec?command=…`). Rejects if the upgrade fails. */
export function execOverWebSocket(url: string, opts: ExecClientOptions = {}): Promise<ExecClientResult> {
  const ws = new WebSocket(url, opts.protocols ?? ['v5.channel.k8s.io'], { headers: opts.headers, perMessageDeflate: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let status: Record<string, unknown> | undefined;
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${body}`)));
    });
    ws.on('error', reject);
    ws.on('open', () => {
      const send = (ch: number, data: Buffer | string) => ws.send(Buffer.concat([Buffer.from([ch]), Buffer.from(data)]));
      if (opts.resize) send(CH_RESIZE, JSON.stringify({ Width: opts.resize.width, Height: opts.resize.height }));
      for (const chunk of opts.stdin ?? []) send(CH_STDIN, chunk);
      if (opts.closeStdin ?? !!opts.stdin) send(CH_CLOSE, Buffer.from([CH_STDIN]));
    });
    ws.on('message', (data: Buffer) => {
      const payload = data.subarray(1);
      if (data[0] === CH_STDOUT) out.push(payload);
      else if (data[0] === CH_STDERR) err.push(payload);
      else if (data[0] === CH_ERROR) status = JSON.parse(payload.toString()) as Record<string, unknown>;
    });
    ws.on('close', () => resolve({
      protocol: ws.protocol, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), status,
    }));
  });
}
