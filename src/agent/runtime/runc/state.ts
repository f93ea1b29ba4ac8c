/**
 * The on-disk record of one runc container, so a restarted agent can re-adopt it. The container's
 * directory is also its OCI bundle (the shared files are described in ../shared/shim-files.ts):
 *
 *   STATE_DIR/<id>/config.json   the OCI spec (runc create --bundle, and runc exec reads it again)
 *   STATE_DIR/<id>/rootfs        overlay mount point (upper/, work/ beside it)
 *   STATE_DIR/<id>/state.json    RuncState: shim, runc and init pids with start times, cgroup, log path
 *   STATE_DIR/<id>/env           the env of `runc create`/`run` itself (read by the shim; NOT the container's)
 *   STATE_DIR/<id>/init.pid      written by runc (--pid-file): the container's pid 1 on the host
 *   STATE_DIR/<id>/exit          written by the shim once pid 1 is reaped: {exitCode, signal, …}
 *   STATE_DIR/<id>/runc.log      runc's own JSON log (the reason of a failed start)
 *   STATE_DIR/<id>/shim.log      the shim's own stderr
 */
import type { ShimState } from '../shared/shim-files.ts';

/** What state.json holds. */
export interface RuncState extends ShimState {
  /** `runc create` (or `runc run` in the foreground for a TTY): the shim's first child. */
  runcPid: number;
  image: string;
  tty: boolean;
}
