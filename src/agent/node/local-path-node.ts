/**
 * The node's side of the local-path StorageClass, announced on its Node: the directory its local-path
 * volumes live in (`local-path.berth.dev/dir`, created here) and how their sizes are enforced on that
 * file system (`local-path.berth.dev/quota`: `project` or `none`). The provisioner (a controller)
 * reads both when it makes a volume for a pod scheduled here; nothing else about the node is needed.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { ANN_LOCAL_PATH_DIR, ANN_LOCAL_PATH_QUOTA } from '../../apis/volumes/annotations.ts';
import { R, type Client } from '../../client/client.ts';
import type { Logger } from '../../util/log.ts';
import { quotaMode } from '../pod/project-quota.ts';

/** Creates `dir` and writes both annotations on the node (a merge patch of the node's own object). */
export async function publishLocalPath(client: Client, nodeName: string, dir: string, log?: Logger): Promise<{ dir: string; quota: 'project' | 'none' }> {
  const abs = resolve(dir);
  await fs.mkdir(abs, { recursive: true, mode: 0o755 });
  const quota = quotaMode(abs);
  await client.patch(R.nodes, undefined, nodeName, 'merge', { metadata: { annotations: { [ANN_LOCAL_PATH_DIR]: abs, [ANN_LOCAL_PATH_QUOTA]: quota } } });
  log?.info('local-path volumes', { dir: abs, sizeLimits: quota === 'project' ? 'project quotas' : 'not enforced (no project quotas)' });
  return { dir: abs, quota };
}
