/**
 * Server side of Kubernetes' websocket remotecommand protocol (`v5.channel.k8s.io`, also
 * `v4.channel.k8s.io`), as kubectl exec/attach speak it since 1.30. Every message is binary; its
 * first byte is the channel:
 *
 *   0 stdin   client → server   bytes for the process
 *   1 stdout  server → client
 *   2 stderr  server → client   (not used with a tty: the terminal merges it into stdout)
 *   3 error   server → client   one final metav1.Status JSON, then the server closes
 *   4 resize  client → server   {"Width":w,"Height":h}
 *   255 close client → server   [255, c] closes channel c ([255, 0] = stdin EOF); v5 only
 */
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { WebSocket } from 'ws';

/** Subprotocols served, preferred first. */
export const EXEC_SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export const CH_STDIN = 0;
export const CH_STDOUT = 1;
export const CH_STDERR = 2;
export const CH_ERROR = 3;
export const CH_RESIZE = 4;
export const CH_CLOSE = 255;

/** Terminal size as carried on the resize channel. */
export interface TerminalSize { width: number; height: number }

/** The streams handed to the command runner. Absent streams were not requested by the client. */
export interface ExecIO {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /** Registers the resize listener; the latest size already received is delivered at once. */
  onResize: (listener: (size: TerminalSize) => void) => void;
  /** Aborted when the client goes away: the runner should kill the command. */
  signal: AbortSignal;
}

/** Which streams the client asked for (`?stdin=true&stdout=true&stderr=true&tty=true`). */
export interface ServeExecOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
  /** The command, for the message of a non-zero exit. */
  argv?: string[];
}

/** The JSON body of a metav1.Status as sent on the error channel. */
export type ExecStatus = Record<string, unknown>;

/**
 * Picks the subprotocol to answer from the client's `Sec-WebSocket-Protocol` list (a header value,
 * a list of values, or the Set `ws` passes to `handleProtocols`); undefined if none is served.
 */
export function negotiateSubprotocol(offered: string | string[] | Set<string> | undefined): string | undefined {
  if (!offered) return undefined;
  const list = (typeof offered === 'string' ? [offered] : [...offered])
    .flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return EXEC_SUBPROTOCOLS.find((p) => list.includes(p));
}

/** The final Status for an exit code: Success, or NonZeroExitCode with the code as cause. */
export function exitStatus(code: number, argv: string[] = []): ExecStatus {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {}, status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** The final Status when the command could not be run at all (the kubelet's InternalError). */
export function errorStatus(err: unknown): ExecStatus {
  const msg = `error executing command in container: ${(err as Error)?.message ?? String(err)}`;
  return {
    metadata: {}, status: 'Failure', message: `Internal error occurred: ${msg}`, reason: 'InternalError',
    details: { causes: [{ message: msg }] }, code: 500,
  };
}

function channelWriter(ws: WebSocket, channel: number): Writable {
  const header = Buffer.from([channel]);
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) { cb(); return; }
      ws.send(Buffer.concat([header, chunk]), { binary: true }, () => cb());
    },
  });
}

function sendFrame(ws: WebSocket, channel: number, data: Buffer): Promise<void> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve();
  return new Promise((resolve) => ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, () => resolve()));
}

function waitFinished(w: Writable): Promise<void> {
  if (w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    w.once('finish', resolve); w.once('close', resolve); w.once('error', () => resolve());
    if (!w.writableEnded) w.end();
  });
}

/**
 * Bridges an accepted websocket (subprotocol already negotiated) to `run`, which executes the
 * command with the given streams and resolves to its exit code once its output has been written
 * (e.g. on the child's 'close', not 'exit'). Sends the final Status on channel 3 and closes the
 * socket. Resolves to the exit code, or undefined if `run` failed.
 */
export async function serveExec(ws: WebSocket, run: (io: ExecIO) => Promise<number>, opts: ServeExecOptions = {}): Promise<number | undefined> {
  ws.binaryType = 'nodebuffer';
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const tty = opts.tty ?? false;
  const ac = new AbortController();
  const stdin = opts.stdin ? new PassThrough() : undefined;
  const stdout = opts.stdout ?? true ? channelWriter(ws, CH_STDOUT) : undefined;
  const stderr = opts.stderr && !tty ? channelWriter(ws, CH_STDERR) : undefined;
  let size: TerminalSize | undefined;
  let resizeListener: ((s: TerminalSize) => void) | undefined;

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary && typeof data === 'string') data = Buffer.from(data);
    if (!data.length) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === CH_STDIN) {
      if (stdin && !stdin.writableEnded && payload.length && !stdin.write(payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (channel === CH_RESIZE) {
      try {
        const s = JSON.parse(payload.toString()) as { Width?: number; Height?: number };
        size = { width: Number(s.Width ?? 0), height: Number(s.Height ?? 0) };
        resizeListener?.(size);
      } catch { /* a malformed resize is ignored, as by the kubelet */ }
    } else if (channel === CH_CLOSE && v5) {
      if (payload[0] === CH_STDIN) stdin?.end();
    }
  });
  const gone = (): void => { stdin?.end(); ac.abort(); };
  ws.on('close', gone);
  ws.on('error', gone);

  const io: ExecIO = {
    stdin, stdout, stderr, tty, signal: ac.signal,
    onResize: (listener) => { resizeListener = listener; if (size) listener(size); },
  };
  let code: number | undefined;
  let status: ExecStatus;
  try {
    code = await run(io);
    status = exitStatus(code, opts.argv);
  } catch (err) {
    status = errorStatus(err);
  }
  await Promise.all([stdout, stderr].filter((w): w is Writable => !!w).map(waitFinished));
  await sendFrame(ws, CH_ERROR, Buffer.from(JSON.stringify(status)));
  if (ws.readyState === ws.OPEN) ws.close(1000);
  stdin?.destroy();
  return code;
}
