/**
 * `kubectl attach -i`: the client's stdin into the container's stdin FIFO (see
 * runtime/shared/stdin-fifo.ts). The container side holds the FIFO open read-write, so opening it
 * for writing does not block, and closing our end when the client's stdin ends (or the client
 * leaves) is no EOF for the command — as with the kubelet for `stdinOnce: false`. With `stdinOnce`
 * the container side releases its hold once we are open (`onOpen`), and our end closing is the EOF.
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

export function feedStdin(src: Readable, fifo: string, signal: AbortSignal, onOpen?: () => void): void {
  const dst = createWriteStream(fifo, { flags: 'w' });
  // stdinOnce: once our end is open the container side lets go of its own (driver.releaseStdin).
  // (An event handler: a container gone meanwhile must not throw out of it and take the agent down.)
  if (onOpen) dst.once('open', () => { try { onOpen(); } catch { /* the container is gone: attach ends */ } });
  // The container may exit while we write (EPIPE) or be gone already (ENOENT): attach ends anyway.
  dst.on('error', () => src.unpipe(dst));
  src.pipe(dst);
  signal.addEventListener('abort', () => { src.unpipe(dst); dst.destroy(); }, { once: true });
}
