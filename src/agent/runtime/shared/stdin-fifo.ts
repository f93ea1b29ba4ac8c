/**
 * A container's stdin FIFO (`stdin: true`): `STATE/<id>/stdin`, made by the shim (or, for a runc
 * TTY, by the driver for script) and held open read-write on the container side.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';

export const STDIN_FIFO = 'stdin';

/** The FIFO in a container's state dir, or undefined when there is none. */
export function stdinFifoOf(dir: string): string | undefined {
  const p = join(dir, STDIN_FIFO);
  try {
    return statSync(p).isFIFO() ? p : undefined;
  } catch {
    return undefined;
  }
}
