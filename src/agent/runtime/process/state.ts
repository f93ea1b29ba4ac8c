/**
 * The on-disk record of one process container, so a restarted agent can re-adopt it (the shared
 * files are described in ../shared/shim-files.ts):
 *
 *   STATE_DIR/<id>/state.json   ProcessState: pids + start times, cgroup, what exec needs (env, user, cwd)
 *   STATE_DIR/<id>/env          the container env, NUL-separated (read by the shim; mode 0600)
 *   STATE_DIR/<id>/exit         written by the shim when the container is gone: {exitCode, signal, …}
 *   STATE_DIR/<id>/shim.log     the shim's own stderr (diagnostics)
 */
import type { ContainerSpec } from '../driver.ts';
import type { ShimState } from '../shared/shim-files.ts';

/** What state.json holds. */
export interface ProcessState extends ShimState {
  /** The container's first process (forked by the shim), whose exit is the container's exit. */
  chainPid: number;
  env: Record<string, string>;
  user?: ContainerSpec['user'];
  /** The container runs with no_new_privs (chain.ts noNewPrivs): exec'd processes get it too. */
  noNewPrivs?: boolean;
  workingDir?: string;
  /** Mount points the driver created on the host file system (removed by destroy). */
  createdPaths: string[];
}
