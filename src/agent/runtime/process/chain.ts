/**
 * Builds the exec chain that turns a host command into a process container, without copying any
 * root file system (the host's is used as is):
 *
 *   unshare (new pid, mount, uts ns; fresh /proc) → sh setup (bind mounts, hostname, cwd)
 *     → nsenter --net (pod network ns) → setpriv (user) → tini (pid 1, reaps zombies) → argv
 *
 * The shim runs this chain after joining the cgroup, so every step is limited and accounted.
 */
import type { ContainerSpec } from '../driver.ts';
import type { HostTools } from './host-tools.ts';

// Runs inside the new namespaces, as root, before the user's command. `set -e`: a failed mount
// stops the container (the message lands in its log) instead of running it half-isolated.
const SETUP = [
  'set -e',
  'h=$1 wd=$2 keep=$3 notify=$4 mnt=$5 n=$6; shift 6',
  // Our own UTS namespace: this hostname is the container's only.
  'printf %s "$h" > /proc/sys/kernel/hostname',
  // util-linux >= 2.27 does a read-only bind mount in one run (bind, then its own remount,ro,bind).
  'while [ "$n" -gt 0 ]; do',
  '  if [ "$3" = ro ]; then "$mnt" --bind -o ro -- "$1" "$2"; else "$mnt" --bind -- "$1" "$2"; fi',
  '  shift 3; n=$((n-1))',
  'done',
  'if [ -n "$wd" ]; then cd -- "$wd"; fi',
  // The environment must be exactly the spec's: sh adds PWD/OLDPWD on its own.
  'unset OLDPWD; if [ "$keep" != 1 ]; then unset PWD; fi',
  // Setup done: tell the shim on fd 4 (see BERTH_INIT_NOTIFY in shim.pl); the command never sees it.
  'if [ "$notify" = 1 ]; then printf x >&4; exec 4>&-; fi',
  'exec "$@"',
].join('\n');

/** The user-switch prefix (`setpriv …`), empty for root without groups. */
export function userArgv(tools: HostTools, user: ContainerSpec['user']): string[] {
  if (!user) return [];
  const groups = user.groups?.length ? ['--groups', user.groups.join(',')] : ['--clear-groups'];
  return [tools.setpriv, '--reuid', String(user.uid), '--regid', String(user.gid), ...groups, '--'];
}

/**
 * The full argv the shim execs for a container. `notifyFd4`: the setup writes one byte on fd 4 when
 * it is done (the shim's BERTH_INIT_NOTIFY mode), so the shim need not poll for the init process.
 */
export function containerChain(tools: HostTools, spec: ContainerSpec, opts: { notifyFd4?: boolean } = {}): string[] {
  const mounts = spec.mounts.flatMap((m) => [m.hostPath, m.containerPath, m.readOnly ? 'ro' : 'rw']);
  const net = spec.netnsPath ? [tools.nsenter, `--net=${spec.netnsPath}`, '--'] : [];
  return [
    tools.unshare,
    '--pid',
    '--fork',
    '--kill-child',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    '--mount-proc',
    '--',
    tools.sh,
    '-c',
    SETUP,
    'berth-setup',
    spec.hostname,
    spec.workingDir ?? '',
    'PWD' in spec.env ? '1' : '0',
    opts.notifyFd4 ? '1' : '0',
    tools.mount,
    String(spec.mounts.length),
    ...mounts,
    ...net,
    ...userArgv(tools, spec.user),
    tools.tini,
    // -g: signals go to the whole process group of the command, as a shell user would expect.
    '-g',
    '--',
    ...spec.argv,
  ];
}

/** First word of a native chain (see {@link nativeChain}). */
export const NATIVE_CHAIN = 'berth-native-chain';

/**
 * The same container set up by the shim itself (BERTH_CHAIN=native in shim.pl) instead of by
 * unshare + sh + mount + nsenter: the shim unshares the pid namespace and forks the container's pid
 * 1, which joins the pod's network namespace, unshares mount and UTS namespaces, makes mounts
 * private, mounts /proc, sets the hostname, bind-mounts, changes directory and execs
 * [setpriv →] tini → argv — system calls in one process instead of five programs. Linux x86-64 and
 * arm64 (the shim knows their system call numbers); elsewhere {@link containerChain} is used.
 *
 *   berth-native-chain HOSTNAME WORKDIR NETNS N (SRC DST ro|rw)×N EXEC...
 */
export function nativeChain(tools: HostTools, spec: ContainerSpec): string[] {
  const mounts = spec.mounts.flatMap((m) => [m.hostPath, m.containerPath, m.readOnly ? 'ro' : 'rw']);
  return [
    NATIVE_CHAIN,
    spec.hostname,
    spec.workingDir ?? '',
    spec.netnsPath ?? '',
    String(spec.mounts.length),
    ...mounts,
    ...userArgv(tools, spec.user),
    tools.tini,
    '-g',
    '--',
    ...spec.argv,
  ];
}

/** True where the shim can set a container up natively (it knows the system call numbers). */
export function nativeChainSupported(): boolean {
  return process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
}

// For exec: join the cgroup (n files), then run the rest, with exactly the container's env.
const JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; unset PWD OLDPWD; exec "$@"';

/** argv that joins the cgroup then runs `rest` (for exec, whose parent is the agent). */
export function joinCgroupArgv(tools: HostTools, procsFiles: string[], rest: string[]): string[] {
  return [tools.sh, '-c', JOIN, 'berth-join', String(procsFiles.length), ...procsFiles, ...rest];
}

/** Quotes one word for sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\/.,:=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
