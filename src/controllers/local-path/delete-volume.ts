/**
 * Deleting a released local-path volume (rancher's local-path-provisioner Delete): the data lives on
 * one node, which only that node's agent can touch, and a node may read no volume it does not mount
 * (the Node authorizer) — so, as rancher does, a short-lived helper pod bound to that node removes the
 * directory (`rm -rf --one-file-system` of exactly `<node dir>/<pv>_…`, a host process), and the PV
 * goes once the pod Succeeded. A failed helper marks the volume Failed (VolumeFailedDelete) and is
 * retried with back-off. Volumes of simulated nodes, and of nodes that are gone, have nothing to
 * remove: their PV goes at once (the latter with a warning that the directory stays).
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER } from '../../apis/volumes/annotations.ts';
import { SIMULATED_LABEL } from '../../apis/well-known.ts';
import { R } from '../../client/client.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import { volumeNodeName } from '../../apis/volumes/local-volume.ts';
import { emit, findNode, type LocalPathContext } from './local-path-context.ts';
import { isProvisionedPath, nodeDir } from './local-path-volume.ts';

/** Where helper pods run, and the label naming the volume each one is for. */
export const HELPER_NAMESPACE = 'kube-system';
export const HELPER_VOLUME_LABEL = 'local-path.berth.dev/helper-for';

export function helperPodName(pvName: string): string {
  return `helper-pod-delete-${pvName}`;
}

/** Whether this provisioner deletes `pv` now: ours, released, reclaim policy Delete. */
export function needsDeletion(pv: KubeObject): boolean {
  return pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER
    && pv.spec?.persistentVolumeReclaimPolicy === 'Delete'
    && (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed') && !!pv.spec?.claimRef;
}

/** The helper pod that removes `path` on `node`. */
export function helperPod(pvName: string, nodeName: string, path: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: helperPodName(pvName), namespace: HELPER_NAMESPACE, labels: { [HELPER_VOLUME_LABEL]: pvName } },
    spec: {
      nodeName, restartPolicy: 'Never', runtimeClassName: 'process', automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 5,
      // Whatever the node's taints (cordoned, not ready), its volumes must still be cleaned.
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'helper-pod', image: 'host', command: ['rm', '-rf', '--one-file-system', '--', path] }],
    },
  };
}

export async function deleteVolume(ctx: LocalPathContext, pv: KubeObject): Promise<void> {
  if (!needsDeletion(pv)) return;
  const pvName = pv.metadata.name!;
  const hostname = volumeNodeName(pv);
  const node = hostname ? findNode(ctx, hostname) : undefined;
  if (!node || node.metadata.labels?.[SIMULATED_LABEL] !== undefined) {
    if (!node) emit(ctx, pv, 'Warning', 'VolumeDelete', `node "${hostname ?? '?'}" is gone: the volume's directory ${pv.spec?.local?.path} stays on it`);
    return removeVolume(ctx, pvName);
  }
  const path: string = pv.spec?.local?.path ?? pv.spec?.hostPath?.path ?? '';
  const dir = nodeDir(node);
  if (dir instanceof Error || !isProvisionedPath(path, dir, pvName)) {
    await markFailed(ctx, pv, `refusing to delete ${JSON.stringify(path)}: not a directory this provisioner made under ${dir instanceof Error ? '(unknown)' : dir} on node "${node.metadata.name}"`);
    return;
  }
  const name = helperPodName(pvName);
  const helper = ctx.helperPods.get(`${HELPER_NAMESPACE}/${name}`);
  if (!helper) {
    try {
      await ctx.client.create(R.pods, HELPER_NAMESPACE, helperPod(pvName, node.metadata.name!, path));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return; // its status brings the volume back here
  }
  if (helper.status?.phase === 'Succeeded') {
    await removeVolume(ctx, pvName);
    await deletePod(ctx, name);
    return;
  }
  if (helper.status?.phase === 'Failed') {
    const term = helper.status?.containerStatuses?.[0]?.state?.terminated;
    await deletePod(ctx, name);
    await markFailed(ctx, pv, `helper pod ${HELPER_NAMESPACE}/${name} failed to remove ${path} on node "${node.metadata.name}"${term ? ` (exit code ${term.exitCode}${term.message ? `: ${term.message}` : ''})` : ''}`);
    throw new Error(`deleting volume ${pvName} failed; retrying`);
  }
}

/**
 * The volume is gone: its helper pod, once finished, goes too. A volume deleted while a helper ran
 * (a second helper made while the first's PV deletion was still pending, or a user's delete) leaves
 * no volume whose sync would delete it — and a Completed pod left forever.
 */
export async function removeFinishedHelper(ctx: LocalPathContext, pvName: string): Promise<void> {
  const name = helperPodName(pvName);
  const phase = ctx.helperPods.get(`${HELPER_NAMESPACE}/${name}`)?.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') await deletePod(ctx, name);
}

async function removeVolume(ctx: LocalPathContext, pvName: string): Promise<void> {
  try {
    await ctx.client.delete(R.persistentvolumes, undefined, pvName);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function deletePod(ctx: LocalPathContext, name: string): Promise<void> {
  try {
    await ctx.client.delete(R.pods, HELPER_NAMESPACE, name, { gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Failed with a VolumeFailedDelete event, written once per message. */
async function markFailed(ctx: LocalPathContext, pv: KubeObject, message: string): Promise<void> {
  if (pv.status?.phase === 'Failed' && pv.status?.message === message) return;
  emit(ctx, pv, 'Warning', 'VolumeFailedDelete', message);
  await ctx.client.update(R.persistentvolumes, undefined, { ...pv, status: { ...(pv.status ?? {}), phase: 'Failed', message } }, 'status');
}
