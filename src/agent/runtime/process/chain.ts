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
  'h=$1 wd=$2 keep=$3 mnt=$4 n=$5; shift 5',
  // Our own UTS namespace: this hostname is the container's only.
  'printf %s "$h" > /proc/sys/kernel/hostname',
  'while [ "$n" -gt 0 ]; do',
  '  "$mnt" --bind -- "$1" "$2"',
  '  if [ "$3" = ro ]; then "$mnt" -o remount,ro,bind -- "$2"; fi',
  '  shift 3; n=$((n-1))',
  'done',
  'if [ -n "$wd" ]; then cd -- "$wd"; fi',
  // The environment must be exactly the spec's: sh adds PWD/OLDPWD on its own.
  'unset OLDPWD; if [ "$keep" != 1 ]; then unset PWD; fi',
  'exec "$@"',
].join('\n');

/** The user-switch prefix (`setpriv …`), empty for root without groups. */
export function userArgv(tools: HostTools, user: ContainerSpec['user']): string[] {
  if (!user) return [];
  const groups = user.groups?.length ? ['--groups', user.groups.join(',')] : ['--clear-groups'];
  return [tools.setpriv, '--reuid', String(user.uid), '--regid', String(user.gid), ...groups, '--'];
}

/** The full argv the shim execs for a container. */
export function containerChain(tools: HostTools, spec: ContainerSpec): string[] {
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
