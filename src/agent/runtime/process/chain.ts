/**
 * The argv a process container's shim (native/shim) is given: no root file system is copied
 * (the host's is used as is). The shim unshares the pid namespace and forks the container's pid 1,
 * which joins the pod's network namespace, unshares mount and UTS namespaces, makes mounts private,
 * mounts /proc, sets the hostname, bind-mounts the volumes, changes directory and execs
 * [setpriv →] tini → argv — system calls in one process, after it joined the container's cgroup.
 *
 *   berth-native-chain HOSTNAME WORKDIR NETNS N (SRC DST ro|rw)×N EXEC...
 */
import type { ContainerSpec } from '../driver.ts';
import type { HostTools } from '../../../host/host-tools.ts';

/**
 * Whether a process container gets no_new_privs: with allowPrivilegeEscalation: false, and — unlike
 * an image container — by default when it runs as a non-root user, because the setuid binaries it
 * sees are the host's; such a container that wants them sets allowPrivilegeEscalation: true (and
 * Pod Security's baseline refuses it then).
 */
export function noNewPrivs(spec: Pick<ContainerSpec, 'user' | 'allowPrivilegeEscalation'>): boolean {
  if (spec.allowPrivilegeEscalation !== undefined) return !spec.allowPrivilegeEscalation;
  return !!spec.user && spec.user.uid !== 0;
}

/**
 * The user-switch prefix (`setpriv …`), empty for root without groups and privileges to keep.
 * `noNewPrivs` sets no_new_privs, so a setuid binary of the host cannot give root back to a
 * non-root host process — what Pod Security admits such a pod on.
 */
export function userArgv(tools: HostTools, user: ContainerSpec['user'], noNewPrivs = false): string[] {
  const nnp = noNewPrivs ? ['--no-new-privs'] : [];
  if (!user) return nnp.length ? [tools.setpriv, ...nnp, '--'] : [];
  const groups = user.groups?.length ? ['--groups', user.groups.join(',')] : ['--clear-groups'];
  return [tools.setpriv, ...nnp, '--reuid', String(user.uid), '--regid', String(user.gid), ...groups, '--'];
}

/** First word of a native chain (see {@link nativeChain}). */
export const NATIVE_CHAIN = 'berth-native-chain';

/** The shim's container argv for `spec` (see the module comment). */
export function nativeChain(tools: HostTools, spec: ContainerSpec): string[] {
  const mounts = spec.mounts.flatMap((m) => [m.hostPath, m.containerPath, m.readOnly ? 'ro' : 'rw']);
  return [
    NATIVE_CHAIN,
    spec.hostname,
    spec.workingDir ?? '',
    spec.netnsPath ?? '',
    String(spec.mounts.length),
    ...mounts,
    ...userArgv(tools, spec.user, noNewPrivs(spec)),
    tools.tini,
    '-g',
    '--',
    ...spec.argv,
  ];
}

// For exec: join the cgroup (n files), then run the rest, with exactly the container's env.
const JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; unset PWD OLDPWD; exec "$@"';

/** argv that joins the cgroup then runs `rest` (for exec, whose parent is the agent). */
export function joinCgroupArgv(tools: HostTools, procsFiles: string[], rest: string[]): string[] {
  return [tools.sh, '-c', JOIN, 'berth-join', String(procsFiles.length), ...procsFiles, ...rest];
}
