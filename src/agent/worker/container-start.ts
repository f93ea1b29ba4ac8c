/**
 * From a pod's container to the driver's ContainerSpec, in the kubelet's order:
 *
 *   env (service links, envFrom, env, $(VAR)) ─ problem ─▶ waiting CreateContainerConfigError
 *   driver runs images? ─ yes ─▶ PodImagePuller ─ problem ─▶ waiting ErrImagePull / ImagePullBackOff / ErrImageNeverPull
 *        │                      image config under the container's: argv, env, workingDir, user
 *        no ─▶ host command (process runtime: `command` is required)
 *   runAsNonRoot with uid 0           ─ problem ─▶ waiting CreateContainerConfigError
 *   ─▶ ContainerSpec (+ the image's repo digest for status.imageID)
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import type { ContainerSpec, RuntimeDriver } from '../runtime/driver.ts';
import type { ImageInfo } from '../images/image-service.ts';
import { mergeImageEnv, resolveArgv, resolveImageUser, resolveWorkingDir } from '../images/image-config.ts';
import { expandArgs, resolveEnv } from '../pod/env.ts';
import { serviceLinkEnv } from '../pod/service-env.ts';
import { mountsFor, type VolumePath } from '../pod/volumes.ts';
import { Reasons } from '../pod/pod-status.ts';
import { containerLogPath } from '../streams/log-file.ts';
import { buildContainerSpec, type SandboxInfo } from './container-spec.ts';
import type { WorkerDeps } from './worker-deps.ts';

export interface PrepareInput {
  pod: KubeObject;
  container: Record<string, any>;
  restartCount: number;
  driver: RuntimeDriver;
  deps: WorkerDeps;
  sandbox: SandboxInfo;
  volumePaths: Map<string, VolumePath>;
  cgroupParent: string;
  facts: { podIP?: string; podIPs?: string[]; hostIP: string; nodeName: string; serviceAccountName?: string };
}

export type Prepared =
  | { spec: ContainerSpec; imageID?: string }
  /** `pull`: the image puller already recorded events and keeps its own back-off. */
  | { waiting: { reason: string; message: string }; retryMs?: number; pull?: boolean };

const fail = (reason: string, message: string): Prepared => ({ waiting: { reason, message } });

export async function prepareContainer(i: PrepareInput): Promise<Prepared> {
  const { pod, container, driver, deps } = i;
  let serviceEnv: Record<string, string> | undefined;
  if (deps.services) {
    // The kubelet refuses to guess: without the Services read once, the env would silently lack them.
    if (!deps.services.synced()) return fail(Reasons.CreateContainerConfigError, 'services have not yet been read at least once, cannot construct envvars');
    const ns = pod.metadata.namespace ?? 'default';
    serviceEnv = serviceLinkEnv(pod, ns === 'default' ? deps.services.list(ns) : [...deps.services.list('default'), ...deps.services.list(ns)]);
  }
  const { env, errors } = await resolveEnv(pod, container, deps.lookup, { ...i.facts, nodeAllocatable: deps.nodeAllocatable, serviceEnv });
  if (errors.length) return fail(Reasons.CreateContainerConfigError, errors.join('; '));
  const logPath = containerLogPath(deps.dataDir, pod.metadata.uid!, container.name, i.restartCount);
  await mkdir(dirname(logPath), { recursive: true });
  const spec = buildContainerSpec({
    pod, container, restartCount: i.restartCount, env,
    mounts: mountsFor(container, i.volumePaths, env),
    sandbox: i.sandbox, logPath, cgroupParent: i.cgroupParent, fence: deps.fence,
  });
  let imageID: string | undefined;
  if (!driver.capabilities.images) {
    if (spec.argv.length === 0) return fail(Reasons.CreateContainerError, `the ${driver.name} runtime runs a host command: set "command" on container ${container.name}`);
    await keepSharedMountPoints(spec.mounts);
  } else {
    if (!deps.images) return fail(Reasons.CreateContainerError, `the ${driver.name} runtime needs images, and this node has no image service`);
    const pulled = await deps.images.pull(pod, container as { name: string; image?: string; imagePullPolicy?: string });
    if ('waiting' in pulled) return { waiting: pulled.waiting, retryMs: pulled.retryMs, pull: true };
    try {
      applyImage(spec, container, env, pulled.image);
      spec.user = await imageUser(pod, container, pulled.image);
    } catch (err) {
      return fail(Reasons.CreateContainerError, (err as Error).message);
    }
    imageID = pulled.image.repoDigests[0] ?? pulled.image.id;
  }
  if (runAsNonRoot(pod, container) && (spec.user?.uid ?? 0) === 0) {
    return fail(Reasons.CreateContainerConfigError, `container has runAsNonRoot and image will run as root (pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${container.name})`);
  }
  return { spec, imageID };
}

/**
 * Where the ServiceAccount admission mounts every pod's token volume. A host process mounts it over
 * the host's own path: a target the process runtime creates it removes again when its container
 * goes — and removing a directory that is a mount point in other pods' mount namespaces detaches
 * their mounts too (Linux ≥ 3.18). So this one shared target is made here, once, and kept.
 */
const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

async function keepSharedMountPoints(mounts: ContainerSpec['mounts']): Promise<void> {
  if (mounts.some((m) => m.containerPath === SERVICE_ACCOUNT_MOUNT_PATH)) await mkdir(SERVICE_ACCOUNT_MOUNT_PATH, { recursive: true, mode: 0o755 });
}

/** The image's Entrypoint/Cmd, Env and WorkingDir under the container's own (Kubernetes' rules). */
function applyImage(spec: ContainerSpec, container: Record<string, any>, env: Record<string, string>, image: ImageInfo): void {
  spec.argv = resolveArgv(image.config, expandArgs(container.command ?? [], env), expandArgs(container.args ?? [], env));
  spec.env = mergeImageEnv(image.config.Env, env);
  spec.workingDir = resolveWorkingDir(image.config, container.workingDir);
}

/**
 * runAsUser (container over pod) else the image's User, resolved in the image's /etc/passwd (the
 * primary group of a known uid comes from there, as containerd does); runAsGroup overrides the group;
 * supplementalGroups and fsGroup are added.
 */
async function imageUser(pod: KubeObject, container: Record<string, any>, image: ImageInfo): Promise<ContainerSpec['user']> {
  const psc = pod.spec?.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  const base = await resolveImageUser(runAsUser !== undefined ? String(runAsUser) : image.config.User, image.layerDirs);
  const groups = [...new Set([...(base.groups ?? []), ...((psc.supplementalGroups as number[] | undefined) ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup as number] : [])])];
  return { uid: base.uid, gid: runAsGroup ?? base.gid, ...(groups.length ? { groups } : {}) };
}

function runAsNonRoot(pod: KubeObject, container: Record<string, any>): boolean {
  return (container.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot) === true;
}
