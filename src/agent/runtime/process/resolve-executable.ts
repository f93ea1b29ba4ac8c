/**
 * Checks, before anything is created, that a container's command exists: the same error the
 * Kubernetes runtimes give (`exec: "nope": executable file not found in $PATH`), so a typo fails
 * `start` (CreateContainerError) instead of producing a container that exits 127.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Mount } from '../driver.ts';
import { DEFAULT_PATH, hostPathOf } from '../shared/container-paths.ts';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The container path of `cmd` after a PATH search, or an Error in the runtimes' wording. */
export function resolveExecutable(cmd: string, env: Record<string, string>, workingDir: string | undefined, mounts: Mount[]): string {
  if (!cmd) throw new Error('exec: no command given');
  if (cmd.includes('/')) {
    const path = isAbsolute(cmd) ? cmd : join(workingDir ?? '/', cmd);
    if (isExecutableFile(hostPathOf(path, mounts))) return path;
    throw new Error(`exec: "${cmd}": stat ${path}: no such file or not executable`);
  }
  for (const dir of (env.PATH ?? DEFAULT_PATH).split(':')) {
    if (!dir) continue;
    const path = join(isAbsolute(dir) ? dir : join(workingDir ?? '/', dir), cmd);
    if (isExecutableFile(hostPathOf(path, mounts))) return path;
  }
  throw new Error(`exec: "${cmd}": executable file not found in $PATH`);
}
