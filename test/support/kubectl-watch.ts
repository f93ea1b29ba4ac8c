/**
 * A long-running kubectl process (e.g. `kubectl get -w`) whose output can be awaited line by line.
 */
import { spawn } from 'node:child_process';
import { findKubectl, type KubectlOptions } from './kubectl.ts';

/** Handle on a background kubectl process. */
export interface KubectlProcess {
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolve with the first stdout line matching `pattern`; reject after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Kill the process (SIGKILL) and wait for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** Start kubectl in the background with `--kubeconfig` and `--cache-dir` from `opts`. */
export async function spawnKubectl(args: string[], opts: Omit<KubectlOptions, 'input' | 'timeoutMs'>): Promise<KubectlProcess> {
  const bin = await findKubectl();
  const child = spawn(bin, [`--kubeconfig=${opts.kubeconfig}`, `--cache-dir=${opts.cacheDir}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: opts.kubeconfig, ...opts.env },
  });
  let out = '';
  let err = '';
  let exited = false;
  const listeners = new Set<() => void>();
  const exitPromise = new Promise<void>((resolve) => {
    child.on('close', () => {
      exited = true;
      for (const l of listeners) l();
      resolve();
    });
    child.on('error', (e) => {
      err += String(e);
      exited = true;
      resolve();
    });
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));

  return {
    stdout: () => out,
    stderr: () => err,
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const line = out.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            cleanup();
            resolve(line);
            return true;
          }
          if (exited) {
            cleanup();
            reject(new Error(`kubectl ${args.join(' ')} exited before printing a line matching ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no line matching ${pattern} from kubectl ${args.join(' ')} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const listener = (): void => void check();
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        listeners.add(listener);
        check();
      });
    },
    async stop() {
      if (!exited) child.kill('SIGKILL');
      await exitPromise;
    },
  };
}
