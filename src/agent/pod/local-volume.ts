/**
 * A `local` PersistentVolume on this node, before it is mounted (the kubelet's local volume plugin,
 * plus the node side of Berth's local-path provisioner): a local-path volume pinned to this node gets
 * its directory here on first use (mode 0777, as rancher's helper creates it, so any container user
 * may write; fsGroup narrows it), its size limit as a project quota where the file system has them,
 * and — as for every local volume — the pod's fsGroup ownership (volume-ownership.ts). hostPath
 * volumes get no fsGroup, as in Kubernetes.
 */
import { promises as fs } from 'node:fs';
import type { KubeObject } from '../../apis/object.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';
import { isLocalPathVolume, volumeNodeName } from '../../apis/volumes/local-volume.ts';
import { applyProjectQuota, mountOf, quotaMode, type Runner } from './project-quota.ts';
import { setVolumeOwnership } from './volume-ownership.ts';
import { readFileSync } from 'node:fs';

/** Host details (tests replace them). */
export interface LocalVolumeHost {
  mountinfo?: () => string;
  run?: Runner;
}

/** Creates a local-path volume's directory when the volume is this node's and the directory is missing. */
export async function ensureLocalPathDir(pv: KubeObject, nodeName: string): Promise<void> {
  if (!isLocalPathVolume(pv) || volumeNodeName(pv) !== nodeName) return;
  const path: string = pv.spec.local.path;
  if (await fs.stat(path).then(() => true, () => false)) return;
  await fs.mkdir(path, { recursive: true });
  // mkdir's mode goes through the umask; chmod does not.
  await fs.chmod(path, 0o777);
}

/** The volume's size as a project quota, where the file system enforces them; false elsewhere. */
export async function applySizeLimit(pv: KubeObject, host: LocalVolumeHost = {}): Promise<boolean> {
  if (!isLocalPathVolume(pv)) return false;
  const path: string = pv.spec.local.path;
  const info = (host.mountinfo ?? (() => readFileSync('/proc/self/mountinfo', 'utf8')))();
  if (quotaMode(path, info) !== 'project') return false;
  const bytes = tryParseQuantity(pv.spec?.capacity?.storage);
  if (!bytes) return false;
  await applyProjectQuota(path, pv.metadata.name!, bytes, mountOf(path, info)!, host.run);
  return true;
}

/**
 * Everything a `local` volume needs before its bind mount: the local-path directory, its size limit
 * and the pod's fsGroup. Throws the kubelet's message when the path is missing.
 */
export async function prepareLocalVolume(pod: KubeObject, pv: KubeObject, readOnly: boolean, host: LocalVolumeHost = {}): Promise<void> {
  const path: string = pv.spec.local.path;
  await ensureLocalPathDir(pv, pod.spec?.nodeName ?? '');
  if (!(await fs.stat(path).then(() => true, () => false))) throw new Error(`path "${path}" does not exist`);
  await applySizeLimit(pv, host);
  const sc = pod.spec?.securityContext ?? {};
  await setVolumeOwnership(path, sc.fsGroup, sc.fsGroupChangePolicy, readOnly);
}

/**
 * Online resize on this node: re-applies a mounted local-path volume's size limit from its PV, which
 * the provisioner grows when the claim asks for more. Only where some file system has project quotas
 * (elsewhere there is nothing to apply, so nothing is read from the API).
 */
export async function refreshSizeLimit(namespace: string, claimName: string, client: { pvc(ns: string, name: string): Promise<KubeObject | undefined>; pv(name: string): Promise<KubeObject | undefined> }, host: LocalVolumeHost = {}): Promise<void> {
  const info = (host.mountinfo ?? (() => readFileSync('/proc/self/mountinfo', 'utf8')))();
  if (!/(^|[ ,])(prjquota|pquota|prjjquota)([ ,]|$)/m.test(info)) return;
  const pvc = await client.pvc(namespace, claimName);
  const pv = pvc?.spec?.volumeName ? await client.pv(pvc.spec.volumeName) : undefined;
  if (pv) await applySizeLimit(pv, { ...host, mountinfo: () => info });
}
