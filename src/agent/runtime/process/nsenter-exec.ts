/**
 * `kubectl exec` for process containers: join the container's cgroup, enter its mount, network, UTS
 * and pid namespaces through its init (`nsenter --target <tini>`), switch user, run argv — with a
 * TTY under `script`, which allocates the pseudo-terminal (../shared/tty.ts). The container's env
 * is the command's.
 */
import type { Cgroup } from '../cgroups/index.ts';
import type { ExecOptions } from '../driver.ts';
import type { HostTools } from '../../../host/host-tools.ts';
import { execWithStreams } from '../shared/exec-streams.ts';
import { scriptArgv } from '../shared/tty.ts';
import { joinCgroupArgv, userArgv } from './chain.ts';
import type { ProcessState } from './state.ts';

/** Runs opts.argv inside the container described by `st`; resolves to its exit code. */
export function execInContainer(tools: HostTools, cg: Cgroup, st: ProcessState, opts: ExecOptions): Promise<number> {
  if (!opts.argv.length) return Promise.reject(new Error('exec: no command given'));
  // --wd without a value: the working directory of the target (the container's).
  const inner = [tools.nsenter, '--target', String(st.initPid), '--mount', '--net', '--uts', '--pid', '--wd', '--', ...userArgv(tools, st.user, st.noNewPrivs), ...opts.argv];
  const argv = joinCgroupArgv(tools, cg.procsFiles, opts.tty ? scriptArgv(tools, inner) : inner);
  return execWithStreams(tools, argv, st.env, opts);
}
