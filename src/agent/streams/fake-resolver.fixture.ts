/**
 * A `StreamResolver` for tests: logs under a temp DATA_DIR (pod uid = `<ns>-<pod>`, current
 * instance 1, previous 0; only pod `web` exists), exec of host commands with node:child_process,
 * and attach following the current log file until `exitContainer()`.
 */
import { spawn } from 'node:child_process';
import { ApiError } from '../../errors/index.ts';
import type { StreamResolver } from './agent-server.ts';
import { containerLogPath } from './log-file.ts';
import { readLogs } from './log-reader.ts';

/** The resolver; `resizes` records terminal sizes received. */
export function fakeResolver(dataDir: string): StreamResolver & { resizes: unknown[]; exitContainer(): void } {
  const resizes: unknown[] = [];
  let exitContainer = () => {};
  const exited = new Promise<void>((r) => (exitContainer = r));
  return {
    resizes,
    exitContainer: () => exitContainer(),
    async attach(ns, pod, container, o) {
      if (pod !== 'web') throw new ApiError('BERTH_NOT_FOUND', `pods "${pod}" not found`);
      if (o.stdin) throw new ApiError('BERTH_BAD_REQUEST', 'attaching stdin is not supported');
      const file = containerLogPath(dataDir, `${ns}-${pod}`, container, 1);
      return (io) => readLogs(file, { follow: true, tailLines: 0, until: exited, stderr: io.stderr, pollMs: 20 }, io.stdout!, io.signal);
    },
    async logPath(ns, pod, container, previous) {
      if (pod !== 'web') throw new ApiError('BERTH_NOT_FOUND', `pods "${pod}" not found`);
      return containerLogPath(dataDir, `${ns}-${pod}`, container, previous ? 0 : 1);
    },
    exec(_ns, _pod, _container, opts) {
      return new Promise((resolve, reject) => {
        const child = spawn(opts.argv[0], opts.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        opts.onResize?.((s) => resizes.push(s));
        child.on('error', reject);
        if (opts.stdin) opts.stdin.pipe(child.stdin); else child.stdin.end();
        child.stdin.on('error', () => {});
        if (opts.stdout) child.stdout.pipe(opts.stdout, { end: false }); else child.stdout.resume();
        if (opts.stderr) child.stderr.pipe(opts.stderr, { end: false }); else child.stderr.resume();
        opts.signal?.addEventListener('abort', () => child.kill('SIGKILL'));
        child.on('close', (code) => resolve(code ?? 137));
      });
    },
  };
}

