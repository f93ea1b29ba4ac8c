/**
 * Runs a command in a container and collects its output, bounded in time: exec probes and preStop
 * hooks use it.
 */
import { PassThrough } from 'node:stream';
import type { RuntimeDriver } from '../runtime/driver.ts';

const MAX_OUTPUT = 10 * 1024;

export async function execCapture(driver: RuntimeDriver, id: string, argv: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  const out = new PassThrough();
  let output = '';
  out.on('data', (c: Buffer) => { if (output.length < MAX_OUTPUT) output += c.toString(); });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ exitCode: number; output: string }>((resolve) => {
    timer = setTimeout(() => resolve({ exitCode: -1, output: `command timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([
      driver.exec(id, { argv, tty: false, stdout: out, stderr: out }).then((exitCode) => ({ exitCode, output })),
      timeout,
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
