/**
 * The shim's own environment (not the container's, which is the env file): the log rotation limits
 * — the kubelet's containerLogMaxSize and containerLogMaxFiles, per container — and the stdin FIFO
 * when the container's command reads one; the self-fencing heartbeat of a stateful container.
 * Checked before a driver creates anything.
 */
import { join } from 'node:path';
import type { ContainerSpec } from '../driver.ts';
import { STDIN_FIFO } from './stdin-fifo.ts';

/** Log rotation defaults: the kubelet's containerLogMaxSize (10Mi) and containerLogMaxFiles (5). */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;

export interface ShimEnvOptions {
  /** Names the runtime in errors. */
  runtime: string;
  /** The container's state dir (where the shim makes the stdin FIFO). */
  dir: string;
  /**
   * The shim makes the stdin FIFO and hands it to the command (`spec.stdin`). False when something
   * else reads it (a runc TTY's `script`), though the FIFO is then still the container's stdin.
   */
  stdinFifo: boolean;
}

/** BERTH_LOG_MAX_*, BERTH_STDIN_FIFO and BERTH_STDIN_ONCE for `spec`; throws on bad log limits. */
export function shimEnv(spec: ContainerSpec, o: ShimEnvOptions): Record<string, string> {
  const logMaxBytes = spec.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const logMaxFiles = spec.logMaxFiles ?? DEFAULT_LOG_MAX_FILES;
  if (!Number.isSafeInteger(logMaxBytes) || logMaxBytes < 1) throw new Error(`${o.runtime} runtime: logMaxBytes must be a positive integer, not ${logMaxBytes}`);
  if (!Number.isSafeInteger(logMaxFiles) || logMaxFiles < 1) throw new Error(`${o.runtime} runtime: logMaxFiles must be a positive integer, not ${logMaxFiles}`);
  const env: Record<string, string> = { BERTH_LOG_MAX_BYTES: String(logMaxBytes), BERTH_LOG_MAX_FILES: String(logMaxFiles) };
  if (o.stdinFifo) env.BERTH_STDIN_FIFO = join(o.dir, STDIN_FIFO);
  // stdinOnce (no TTY): the command opens the FIFO read-only and the shim holds a write end until
  // releaseStdin, so that the first attach's end of input is the command's EOF.
  if (spec.stdin && spec.stdinOnce && !spec.tty) env.BERTH_STDIN_ONCE = '1';
  // Self-fencing: the shim outlives the agent, so it is what stops a stateful container on a node
  // that lost the control plane (native/shim/fence.c).
  if (spec.fence) {
    if (!Number.isSafeInteger(spec.fence.afterMs) || spec.fence.afterMs < 1) throw new Error(`${o.runtime} runtime: fence.afterMs must be a positive integer, not ${spec.fence.afterMs}`);
    Object.assign(env, { BERTH_FENCE_HEARTBEAT: spec.fence.heartbeatFile, BERTH_FENCE_AFTER_MS: String(spec.fence.afterMs) });
  }
  return env;
}
