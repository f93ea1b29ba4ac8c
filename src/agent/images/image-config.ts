/**
 * From an image's config (Entrypoint, Cmd, Env, WorkingDir, User) and a pod container to what a
 * ContainerSpec holds, with Kubernetes' rules. Pure functions (the user lookup reads files only);
 * the pod worker calls them, for a driver that runs images, after the image service has the image:
 *
 *   argv       = resolveArgv(info.config, c.command, c.args)
 *   env        = mergeImageEnv(info.config.Env, containerEnv)
 *   workingDir = resolveWorkingDir(info.config, c.workingDir)
 *   user       = await resolveImageUser(info.config.User, info.layerDirs)   (unless runAsUser is set)
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig } from './manifest.ts';

/** The user a container runs as (the shape of the runtime's ContainerSpec.user). */
export interface ImageUser {
  uid: number;
  gid: number;
  groups?: number[];
}

/**
 * Kubernetes' command/args over the image's Entrypoint/Cmd: `command` replaces Entrypoint and drops
 * Cmd; `args` replaces Cmd; an empty list counts as unset. Throws when nothing is left to run.
 */
export function resolveArgv(image: Pick<ContainerConfig, 'Entrypoint' | 'Cmd'>, command?: string[], args?: string[]): string[] {
  let argv: string[];
  if (command?.length) argv = [...command, ...(args ?? [])];
  else argv = [...(image.Entrypoint ?? []), ...(args?.length ? args : (image.Cmd ?? []))];
  if (argv.length === 0) throw new Error('no command specified: the image has no Entrypoint or Cmd and the container no command');
  return argv;
}

/** Image `Env` (`K=V` list) under the container's env: the container wins, image order first. */
export function mergeImageEnv(imageEnv: string[] | null | undefined, containerEnv: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of imageEnv ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
    else if (eq < 0 && kv) out[kv] = '';
  }
  for (const [k, v] of Object.entries(containerEnv)) out[k] = v;
  return out;
}

/** The container's workingDir, else the image's WorkingDir, else undefined (runc then uses /). */
export function resolveWorkingDir(image: Pick<ContainerConfig, 'WorkingDir'>, workingDir?: string): string | undefined {
  return workingDir || image.WorkingDir || undefined;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && f[0] && !f[0].startsWith('#') && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3]))
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }));
}

function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && f[0] && !f[0].startsWith('#') && /^\d+$/.test(f[2]))
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

const isNum = (s: string) => /^\d+$/.test(s);

/**
 * Resolves an image `User` (`name`, `uid`, `name:group`, `uid:gid`, …) against the image's
 * /etc/passwd and /etc/group texts, as runc and containerd do: a numeric uid not in passwd is
 * fine (gid 0); a name must exist; supplementary groups are the groups listing the user as a
 * member (only when no group is given). Empty = root.
 */
export function parseImageUser(user: string | undefined, passwdText: string, groupText: string): ImageUser {
  const [u = '', g] = (user ?? '').split(':', 2);
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const userPart = u || '0';
  const entry = isNum(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (!entry && !isNum(userPart)) throw new Error(`unable to find user ${userPart}: no matching entries in passwd file`);
  const uid = entry?.uid ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  if (g !== undefined && g !== '') {
    if (isNum(g)) gid = Number(g);
    else {
      const grp = groups.find((x) => x.name === g);
      if (!grp) throw new Error(`unable to find group ${g}: no matching entries in group file`);
      gid = grp.gid;
    }
    return { uid, gid };
  }
  const extra = entry ? groups.filter((x) => x.members.includes(entry.name) && x.gid !== gid).map((x) => x.gid) : [];
  return extra.length ? { uid, gid, groups: [...new Set(extra)] } : { uid, gid };
}

/**
 * Reads a file of the image as the overlay would show it, from its unpacked layers (bottom-most
 * first): the top-most layer that has the path wins; an overlay whiteout (char device 0/0) hides
 * it. undefined when absent. (Opaque directories are not looked at: fine for /etc/passwd.)
 */
export async function readImageFile(layerDirs: string[], path: string): Promise<string | undefined> {
  for (const layer of [...layerDirs].reverse()) {
    const p = join(layer, path);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isCharacterDevice() && st.rdev === 0) return undefined;
    if (st.isFile()) return readFile(p, 'utf8');
    return undefined;
  }
  return undefined;
}

/** {@link parseImageUser} with the image's own /etc/passwd and /etc/group. */
export async function resolveImageUser(user: string | undefined, layerDirs: string[]): Promise<ImageUser> {
  if (!user) return { uid: 0, gid: 0 };
  if (/^\d+(:\d+)?$/.test(user) && user.includes(':')) {
    const [u, g] = user.split(':');
    return { uid: Number(u), gid: Number(g) };
  }
  const [passwd, group] = await Promise.all([readImageFile(layerDirs, 'etc/passwd'), readImageFile(layerDirs, 'etc/group')]);
  return parseImageUser(user, passwd ?? '', group ?? '');
}
